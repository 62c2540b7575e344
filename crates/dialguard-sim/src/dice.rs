//! Randomness that depends only on the seed and on *what* is being decided.
//!
//! Two strategies run over the same population must meet the same people in
//! the same moods, or a difference in the table could be luck. So a callee's
//! reaction to their third call is not drawn from a stream whose position
//! depends on everything that happened before: it is a hash of the seed, the
//! contact, the attempt and the question asked ([`Roll`]). Whichever strategy
//! places that third call gets the same draw; only what the strategy changed
//! (the caller id's label, the hour, how often the person was called)
//! changes the outcome. This is the method of common random numbers, and it
//! is also what makes a run deterministic for its seed.

/// The questions a draw answers; each gets its own independent stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Roll {
    PickUp = 1,
    Engaged,
    Talk,
    NoAnswerKind,
    Complaint,
    OptOut,
    SilentComplaint,
    Dispute,
    DisputeDays,
    Jitter,
    /// A random engine's settings (`EmulatorConfig::draw`).
    EngineDraw,
}

/// Draws keyed by (seed, roll, a, b).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dice {
    seed: u64,
}

impl Dice {
    pub fn new(seed: u64) -> Dice {
        Dice {
            seed: mix(seed ^ 0x6a09_e667_f3bc_c908),
        }
    }

    /// A uniform draw in `[0, 1)`.
    pub fn unit(&self, roll: Roll, a: u64, b: u64) -> f64 {
        let h = mix(self.seed ^ mix((roll as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ mix(a ^ mix(b))));
        (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p`.
    pub fn chance(&self, p: f64, roll: Roll, a: u64, b: u64) -> bool {
        self.unit(roll, a, b) < p
    }

    /// An exponential draw with the given mean.
    pub fn exponential(&self, mean: f64, roll: Roll, a: u64, b: u64) -> f64 {
        -mean * (1.0 - self.unit(roll, a, b)).ln()
    }
}

/// SplitMix64's finaliser: a bijection on u64 with full avalanche.
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_question_gets_the_same_answer_and_others_do_not() {
        let d = Dice::new(7);
        assert_eq!(d.unit(Roll::PickUp, 3, 1), d.unit(Roll::PickUp, 3, 1));
        assert_ne!(d.unit(Roll::PickUp, 3, 1), d.unit(Roll::PickUp, 3, 2));
        assert_ne!(d.unit(Roll::PickUp, 3, 1), d.unit(Roll::Engaged, 3, 1));
        assert_ne!(d.unit(Roll::PickUp, 3, 1), Dice::new(8).unit(Roll::PickUp, 3, 1));
    }

    #[test]
    fn draws_are_uniform_enough_for_calibration() {
        let d = Dice::new(1);
        let n = 200_000u64;
        let mut buckets = [0u32; 10];
        for i in 0..n {
            let u = d.unit(Roll::PickUp, i, 0);
            assert!((0.0..1.0).contains(&u));
            buckets[(u * 10.0) as usize] += 1;
        }
        for b in buckets {
            let share = f64::from(b) / n as f64;
            assert!((share - 0.1).abs() < 0.005, "{buckets:?}");
        }
        let mean = (0..n).map(|i| d.exponential(11.0, Roll::Talk, i, 0)).sum::<f64>() / n as f64;
        assert!((mean - 11.0).abs() < 0.2, "{mean}");
    }
}
