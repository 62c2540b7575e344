//! Whole call histories for the risk engine's tests, built the way a
//! campaign would place them.

use jiff::{SignedDuration, Timestamp};

use crate::call::{Call, Direction, Source};
use crate::classify::{Cause, Outcome};
use crate::event::{Complaint, Event, NumberRegistered};
use crate::lifecycle::NumberState;
use crate::metrics::{Ledger, MetricsConfig};
use crate::number::E164;

/// Our caller id: San Francisco.
pub const OURS: E164 = E164::from_digits_unchecked(14_155_550_100);

/// Area codes of the people called: New York, Chicago, San Francisco,
/// Houston, Boston (Eastern, Central and Pacific time).
const AREAS: [u64; 5] = [212, 312, 415, 713, 617];

pub fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

pub fn secs(n: i64) -> SignedDuration {
    SignedDuration::from_secs(n)
}

pub fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
}

/// A small deterministic generator (xorshift64*): scenario histories are
/// the same on every run.
pub struct Dice(u64);

impl Dice {
    pub fn new(seed: u64) -> Dice {
        Dice(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `lo..hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo).max(1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() % 1_000_000) as f64 / 1_000_000.0 < p
    }
}

/// How the people called react.
#[derive(Clone, Copy)]
pub struct Reaction {
    pub answered: f64,
    /// Of answered calls: hung up within 5 s.
    pub hang_up: f64,
    /// Of answered calls: 8-12 s, past the short cut but under 15 s.
    pub brief: f64,
    /// Of attempts: the number was dead.
    pub invalid: f64,
}

impl Reaction {
    /// A list people expect calls from.
    pub const CAREFUL: Reaction = Reaction {
        answered: 0.6,
        hang_up: 0.04,
        brief: 0.04,
        invalid: 0.01,
    };
}

/// Builds a number's history call by call.
pub struct Campaign {
    pub from: E164,
    pub events: Vec<Event>,
    pub dice: Dice,
    next_callee: u64,
}

impl Campaign {
    pub fn new(seed: u64) -> Campaign {
        Campaign {
            from: OURS,
            events: Vec::new(),
            dice: Dice::new(seed),
            next_callee: 0,
        }
    }

    /// Someone never called before, in one of [`AREAS`].
    pub fn fresh_callee(&mut self) -> E164 {
        let k = self.next_callee;
        self.next_callee += 1;
        let npa = AREAS[(k % AREAS.len() as u64) as usize];
        let line = k / AREAS.len() as u64;
        E164::from_digits_unchecked(
            10_000_000_000 + npa * 10_000_000 + (200 + (line / 10_000) % 700) * 10_000 + line % 10_000,
        )
    }

    pub fn call(&mut self, to: E164, at: Timestamp, outcome: Outcome, talk: u32) {
        self.call_with_cause(to, at, outcome, talk, Cause::Unspecified);
    }

    pub fn call_with_cause(&mut self, to: E164, at: Timestamp, outcome: Outcome, talk: u32, cause: Cause) {
        let id = self.events.len();
        self.events.push(Event::Call(Call {
            from: self.from,
            to,
            direction: Direction::Outbound,
            started_at: at,
            answered_at: (outcome == Outcome::Answered).then(|| at + secs(8)),
            ended_at: at + secs(8 + i64::from(talk)),
            talk_seconds: talk,
            outcome,
            cause,
            source: Source::Simulator,
            source_id: format!("{}-{id}", self.from),
        }));
    }

    /// One call whose outcome follows `reaction`.
    pub fn react(&mut self, to: E164, at: Timestamp, reaction: Reaction) {
        let d = &mut self.dice;
        if d.chance(reaction.invalid) {
            return self.call_with_cause(to, at, Outcome::InvalidDestination, 0, Cause::Unallocated);
        }
        if !d.chance(reaction.answered) {
            return self.call(to, at, Outcome::NoAnswer, 0);
        }
        let talk = if d.chance(reaction.hang_up) {
            d.range(1, 6)
        } else if d.chance(reaction.brief / (1.0 - reaction.hang_up)) {
            d.range(8, 13)
        } else {
            d.range(45, 400)
        };
        self.call(to, at, Outcome::Answered, talk as u32);
    }

    /// `n` calls to fresh people spread evenly over `[from, from + span)`.
    pub fn spread(&mut self, n: u32, from: Timestamp, span_secs: i64, reaction: Reaction) {
        for i in 0..n {
            let at = from + secs(span_secs * i64::from(i) / i64::from(n.max(1)));
            let to = self.fresh_callee();
            self.react(to, at, reaction);
        }
    }

    /// Weekdays of `per_day` careful calls, 16:00-21:00 UTC (business hours
    /// from Boston to San Francisco), on the `days` days before `until`.
    pub fn careful_weeks(&mut self, until: Timestamp, days_back: i64, per_day: u32) {
        for d in (1..=days_back).rev() {
            let day = until - days(d);
            let midnight = day.as_second() - day.as_second().rem_euclid(86_400);
            let weekday = (midnight / 86_400 + 4).rem_euclid(7); // 0 = Sunday
            if weekday == 0 || weekday == 6 {
                continue;
            }
            let start = Timestamp::from_second(midnight + 16 * 3_600).unwrap();
            self.spread(per_day, start, 5 * 3_600, Reaction::CAREFUL);
        }
    }

    pub fn complaint(&mut self, at: Timestamp) {
        let id = self.events.len();
        self.events.push(Event::Complaint(Complaint {
            number: self.from,
            at,
            source: "ftc".into(),
            source_id: id.to_string(),
            consumer_area_code: None,
            consumer_state: None,
            subject: None,
            robocall: None,
        }));
    }

    pub fn register(&mut self, number: E164, pool: &str, at: Timestamp) {
        self.events.push(Event::NumberRegistered(NumberRegistered {
            number,
            pool: pool.into(),
            at,
            state: NumberState::Active,
            cnam: None,
        }));
    }

    pub fn ledger(&self) -> Ledger {
        let mut ledger = Ledger::new(MetricsConfig::default());
        for e in &self.events {
            ledger.apply(e);
        }
        ledger
    }
}
