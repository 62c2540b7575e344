//! dialguard's simulator: what putting dialguard in a dial path changes, on
//! a campaign like yours, without touching the real analytics engines.
//!
//! Three parts, each usable alone:
//!
//! - [`population`] and [`callee`]: the people a campaign calls, calibrated
//!   to public figures ([`calibration`] names each source): real NANP
//!   numbers and time zones, carriers, dead numbers from list churn, and how
//!   people pick up, talk, complain and opt out.
//! - [`emulator`]: the carriers' analytics engines, emulated with thresholds
//!   of their own (not the guard's profiles): labels per carrier from the
//!   traffic each sees, decay, hysteresis, blocks and disputes.
//! - [`run`] with [`strategy`]: one campaign worked several ways over the
//!   same people and the same seed (round-robin, a fixed cap by hand, and
//!   every call through [`dialguard_core::engine::Engine`]), judged by an
//!   independent [`law`] check. [`plan`] sizes a pool for a volume.
//!
//! A run is deterministic for its seed: every random draw is keyed by the
//! seed and by what it decides ([`dice`]), so strategies meet the same
//! people in the same moods and a difference in the results is theirs.

pub mod calibration;
pub mod callee;
pub mod dice;
pub mod emulator;
pub mod frontier;
pub mod law;
pub mod plan;
pub mod population;
pub mod run;
pub mod scenario;
pub mod strategy;

pub use emulator::{EmulatorConfig, EngineModel};
pub use frontier::{CapRun, FIXED_CAPS, Frontier};
pub use plan::{CapacityPlan, PlanRequest, plan};
pub use population::{Population, PopulationConfig};
pub use run::{EventSink, SimError, Simulator, StrategyReport};
pub use scenario::{DialerRules, Scenario};
pub use strategy::{POOL, RemoteGuard, StrategyKind};
