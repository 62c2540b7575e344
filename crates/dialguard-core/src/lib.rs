//! dialguard's core: the domain types and every rule that decides, with no I/O.
//!
//! Nothing in this crate reads a clock, a file or a socket: `now` is always an
//! argument (a `clippy.toml` beside this crate forbids the clock calls). That
//! is what lets replay, the server's event clock and the simulator share one
//! code path.

pub mod call;
pub mod classify;
pub mod control;
pub mod engine;
pub mod event;
pub mod guard;
pub mod huge_pages;
pub mod lifecycle;
pub mod metrics;
pub mod nanp;
pub mod number;
pub mod risk;

pub use call::{Call, Direction, Source};
pub use classify::{Cause, Classified, Outcome};
pub use event::{
    Carrier, Complaint, Consent, ConsentKind, DisputeUpdated, Event, LabelObserved, NumberRegistered, OptOut,
    StateChanged,
};
pub use lifecycle::NumberState;
pub use number::{E164, NumberError, Parsed, Validity};

/// Hash maps and sets keyed by numbers and names: foldhash with a fixed
/// seed, several times cheaper than the standard SipHash on the per-tick
/// and per-call paths, and the same on every run. Keys are numbers and
/// names from a tenant's own authenticated traffic and configuration.
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;
pub(crate) type FastSet<T> = std::collections::HashSet<T, foldhash::fast::FixedState>;
