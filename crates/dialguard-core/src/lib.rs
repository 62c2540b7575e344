//! dialguard's core: the domain types and every rule that decides, with no I/O.
//!
//! Nothing in this crate reads a clock, a file or a socket: `now` is always an
//! argument (a `clippy.toml` beside this crate forbids the clock calls). That
//! is what lets replay, the server's event clock and the simulator share one
//! code path.

pub mod call;
pub mod classify;
pub mod engine;
pub mod event;
pub mod guard;
pub mod lifecycle;
pub mod metrics;
pub mod nanp;
pub mod number;
pub mod risk;

pub use call::{Call, Direction, Source};
pub use classify::{Cause, Classified, Outcome};
pub use event::{
    Carrier, Complaint, Consent, DisputeUpdated, Event, LabelObserved, NumberRegistered, OptOut, StateChanged,
};
pub use lifecycle::NumberState;
pub use number::{E164, NumberError, Parsed, Validity};
