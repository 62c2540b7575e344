//! The figures one number is scored from, measured from the ledger.
//!
//! [`RiskInputs`] is everything [`score`](super::score()) reads, and nothing
//! else: building it walks the number's history once, scoring it is a few
//! hundred arithmetic operations. That split is what lets a report score a
//! whole pool against several profiles cheaply.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::profile::InputSpec;
use crate::metrics::{Activity, DecayConfig, DecayedCounts, Ledger};
use crate::number::E164;

/// One number's figures as of `at`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RiskInputs {
    pub number: E164,
    pub at: Timestamp,
    /// What `recent` was measured with.
    pub decay: DecayConfig,
    /// The window `activity.complaints` and `activity.blocked` cover.
    pub recent_days: u32,
    /// Recency-weighted sums of the number's outbound calls.
    pub recent: DecayedCounts,
    /// Bursts, maturity, recent complaints and blocked calls.
    pub activity: Activity,
    /// Numbers in this number's pool (1 when it is in none).
    pub pool_size: u32,
}

impl RiskInputs {
    pub fn from_ledger(ledger: &Ledger, number: E164, now: Timestamp, spec: &InputSpec) -> RiskInputs {
        let decay = spec.decay_config();
        RiskInputs {
            number,
            at: now,
            decay,
            recent_days: spec.recent_days,
            recent: ledger.decayed(number, now, &decay),
            activity: ledger.activity(number, now, i64::from(spec.recent_days) * 86_400),
            pool_size: ledger
                .pool_of(number)
                .map(|pool| ledger.pool_size(pool))
                .unwrap_or(1)
                .max(1),
        }
    }
}
