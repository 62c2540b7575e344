//! Suspected labels, from the tenant's own call records: many tenants have
//! no paid monitoring feed, and a labeled number shows in its answer rate
//! before anyone looks at a handset. A number whose answer rate over the
//! last 24 hours is well below that of the other numbers of its pool
//! (calling the same list), on enough calls for the gap to be more than
//! chance, is probably labeled.
//!
//! The test is a one-sided two-proportion z-test of the number's answered
//! share against its peers' pooled share; the gap must also be large (the
//! number's rate under `suspect_ratio` of theirs), so a busy pool does not
//! make a small, significant difference look like a label.

use serde::Serialize;

use super::ControlConfig;

/// Calls and answered calls over a window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Answered {
    pub calls: u32,
    pub answered: u32,
}

impl Answered {
    fn rate(self) -> f64 {
        f64::from(self.answered) / f64::from(self.calls.max(1))
    }
}

/// Why a number is suspected of being labeled.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Suspicion {
    pub rate: f64,
    pub calls: u32,
    pub peers_rate: f64,
    pub peers_calls: u32,
    /// The test statistic: how many standard errors below its peers.
    pub z: f64,
}

impl Suspicion {
    /// In plain words, with the test.
    pub fn describe(&self) -> String {
        format!(
            "suspected labeled: answered {:.0} % of {} calls in 24 h against {:.0} % of {} for its pool's other numbers (z = {:.1}); a clean check clears it",
            self.rate * 100.0,
            self.calls,
            self.peers_rate * 100.0,
            self.peers_calls,
            self.z
        )
    }
}

/// Whether `own` answers so far below `peers` that the number is probably
/// labeled.
pub fn suspect(own: Answered, peers: Answered, config: &ControlConfig) -> Option<Suspicion> {
    let min = config.suspect_min_calls.max(1);
    if own.calls < min || peers.calls < min {
        return None;
    }
    let (p, q) = (own.rate(), peers.rate());
    if q <= 0.0 || p >= q * config.suspect_ratio {
        return None;
    }
    let pooled = f64::from(own.answered + peers.answered) / f64::from(own.calls + peers.calls);
    let se = (pooled * (1.0 - pooled) * (1.0 / f64::from(own.calls) + 1.0 / f64::from(peers.calls))).sqrt();
    if se <= 0.0 {
        return None;
    }
    let z = (q - p) / se;
    (z >= config.suspect_z).then_some(Suspicion {
        rate: p,
        calls: own.calls,
        peers_rate: q,
        peers_calls: peers.calls,
        z,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn a(calls: u32, answered: u32) -> Answered {
        Answered { calls, answered }
    }

    #[test]
    fn a_number_answered_far_less_than_its_peers_on_enough_calls_is_suspected() {
        let config = ControlConfig::default();
        let s = suspect(a(60, 4), a(540, 170), &config).expect("7 % against 31 % on 60 calls");
        assert!(s.z > 3.0, "{s:?}");
        let text = s.describe();
        assert!(
            text.contains("answered 7 % of 60 calls in 24 h against 31 % of 540"),
            "{text}"
        );
        assert_eq!(
            suspect(a(60, 15), a(540, 170), &config),
            None,
            "25 % against 31 % is a bad day"
        );
        assert_eq!(suspect(a(10, 0), a(540, 170), &config), None, "10 calls prove nothing");
        assert_eq!(suspect(a(60, 4), a(20, 6), &config), None, "too few peer calls");
    }

    proptest! {
        /// Whatever the figures, the test never accuses a number that
        /// answers as well as its peers, and what it says is in range.
        #[test]
        fn never_a_number_answering_as_well_as_its_peers(
            calls in 1u32..2_000, answered_share in 0.0f64..=1.0,
            peer_calls in 1u32..20_000, peer_share in 0.0f64..=1.0,
        ) {
            let own = a(calls, (f64::from(calls) * answered_share) as u32);
            let peers = a(peer_calls, (f64::from(peer_calls) * peer_share) as u32);
            if let Some(s) = suspect(own, peers, &ControlConfig::default()) {
                prop_assert!(s.rate < s.peers_rate);
                prop_assert!(s.z.is_finite() && s.z >= 3.0);
                prop_assert!(calls >= 40 && peer_calls >= 40);
            }
        }
    }
}
