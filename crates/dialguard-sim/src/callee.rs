//! How a person reacts to one call: pick up or not, talk or hang up, and
//! whether they complain or ask not to be called again.
//!
//! The reaction depends on who they are ([`Contact`]), on what their handset
//! showed (a label cuts pick-up to `[hiya-2019]`'s 9 %), and on how the
//! business has treated them: complaints and opt-outs grow with every recent
//! call and with calls at odd hours. Draws come from [`Dice`] keyed by the
//! contact and the attempt, so every strategy meets the same person in the
//! same mood.

use dialguard_core::{Cause, Outcome};
use serde::{Deserialize, Serialize};

use crate::calibration;
use crate::dice::{Dice, Roll};
use crate::population::Contact;

/// How people react. Defaults are calibrated (see [`calibration`]); `[sim]`
/// marks this simulator's own assumption.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CalleeModel {
    /// Average pick-up of a call from an unknown, unlabeled caller: 31 %, the
    /// middle of `[hiya-2019]`'s 24 % (unidentified) and 38 % (not in
    /// contacts). Each person's own rate is this times their mood.
    pub unknown_pickup: f64,
    /// `[hiya-2019]` Pick-up of a call from a saved contact: 70 %.
    pub known_pickup: f64,
    /// Pick-up of an unknown caller shown with a label, as a multiple of the
    /// person's own rate: `[hiya-2019]` 9 % labeled against 31 % unlabeled.
    pub labeled_pickup_factor: f64,
    /// `[sim]` A known contact sees the saved name over the label, mostly:
    /// pick-up falls to this multiple of 70 %.
    pub known_labeled_pickup_factor: f64,
    /// Answered unknown-caller calls that become a conversation (14 %,
    /// solved from `[hiya-2019]`'s talk-time means).
    pub engaged_unknown: f64,
    /// `[sim]` Answered known-contact calls that become a conversation.
    pub engaged_known: f64,
    /// `[sim]` Someone who answers despite a spam label is warier.
    pub engaged_labeled_factor: f64,
    /// `[hiya-2019]` Mean talk of an unwanted call: 11 s. The share that hangs
    /// up within 6 s follows: 1 − e^(−6/11) ≈ 42 %.
    pub unwanted_talk_secs: f64,
    /// `[hiya-2019-mid]` Mean talk of a business conversation: 180 s (at least
    /// a minute, then exponential).
    pub conversation_talk_secs: f64,
    /// `[hiya-2019-mid]` Mean talk with a known contact: 300 s.
    pub known_talk_secs: f64,
    /// `[sim]` Of unanswered calls: to voicemail, declined, busy (the rest
    /// ring out).
    pub voicemail_share: f64,
    pub declined_share: f64,
    pub busy_share: f64,
    /// `[sim]` Seconds an unanswered call rings.
    pub ring_secs: u32,
    /// `[sim]` Chance an unwanted answered call ends in a complaint ("report
    /// spam", a block, an FTC report). The FTC logs about 14,700 complaints
    /// a day (`data/ftc-dnc`) against billions of calls a month: complaints
    /// are rare per call and concentrate on callers who insist.
    pub complaint_base: f64,
    /// `[sim]` Chance an unanswered call draws a complaint anyway.
    pub complaint_unanswered: f64,
    /// `[sim]` Each call to the same person in the past 7 days adds this
    /// multiple of the base chance (complaint and opt-out alike).
    pub per_recent_call: f64,
    /// `[sim]` A call outside the person's legal hours multiplies the chances.
    pub off_hours_factor: f64,
    /// `[sim]` Chance an unwanted answered call ends with "take me off your
    /// list".
    pub opt_out_base: f64,
}

impl Default for CalleeModel {
    fn default() -> Self {
        let unknown = (calibration::PICKUP_UNIDENTIFIED + calibration::PICKUP_NOT_IN_CONTACTS) / 2.0;
        CalleeModel {
            unknown_pickup: unknown,
            known_pickup: calibration::PICKUP_KNOWN,
            labeled_pickup_factor: calibration::PICKUP_LABELED / unknown,
            known_labeled_pickup_factor: 0.6,
            engaged_unknown: calibration::ENGAGED_SHARE_UNKNOWN,
            engaged_known: 0.6,
            engaged_labeled_factor: 0.5,
            unwanted_talk_secs: calibration::SPAM_TALK_SECS,
            conversation_talk_secs: calibration::BUSINESS_TALK_SECS,
            known_talk_secs: calibration::CONTACT_TALK_SECS,
            voicemail_share: 0.45,
            declined_share: 0.12,
            busy_share: 0.03,
            ring_secs: 25,
            complaint_base: 0.004,
            complaint_unanswered: 0.0004,
            per_recent_call: 1.0,
            off_hours_factor: 5.0,
            opt_out_base: 0.02,
        }
    }
}

/// What the person knows when the phone rings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Circumstances {
    /// Which call to this person this is (0 for the first).
    pub attempt: u32,
    /// Calls to this person in the 7 days before this one.
    pub recent_calls: u32,
    /// The handset showed a spam label for the caller id.
    pub labeled: bool,
    /// The carrier refused the call outright.
    pub blocked: bool,
    /// Outside the person's legal hours.
    pub off_hours: bool,
}

/// How the call went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reaction {
    pub outcome: Outcome,
    pub cause: Cause,
    /// Seconds of talk (0 unless answered).
    pub talk: u32,
    /// Seconds from dialing to answer or give-up.
    pub ring: u32,
    /// The person talked with an agent (interested, not just polite).
    pub engaged: bool,
    pub complaint: bool,
    pub opt_out: bool,
}

impl CalleeModel {
    /// The reaction of contact number `index` to this call.
    pub fn react(&self, dice: &Dice, index: u32, contact: &Contact, now: Circumstances) -> Reaction {
        let key = (u64::from(index), u64::from(now.attempt));
        let mut reaction = Reaction {
            outcome: Outcome::NoAnswer,
            cause: Cause::Unspecified,
            talk: 0,
            ring: self.ring_secs,
            engaged: false,
            complaint: false,
            opt_out: false,
        };
        if contact.dead {
            reaction.outcome = Outcome::InvalidDestination;
            reaction.cause = Cause::Disconnected;
            reaction.ring = 3;
            return reaction;
        }
        if now.blocked {
            reaction.outcome = Outcome::Rejected;
            reaction.cause = Cause::BlockedCaller;
            reaction.ring = 1;
            return reaction;
        }
        let insistence = 1.0 + self.per_recent_call * f64::from(now.recent_calls);
        let hour_factor = if now.off_hours { self.off_hours_factor } else { 1.0 };
        let mood = f64::from(contact.mood);
        let pickup = match (contact.known, now.labeled) {
            // Known contacts vary less: they expect the call.
            (true, false) => self.known_pickup * (0.6 + 0.4 * mood),
            (true, true) => self.known_pickup * (0.6 + 0.4 * mood) * self.known_labeled_pickup_factor,
            (false, false) => self.unknown_pickup * mood,
            (false, true) => self.unknown_pickup * mood * self.labeled_pickup_factor,
        }
        .min(0.98);
        if !dice.chance(pickup, Roll::PickUp, key.0, key.1) {
            let u = dice.unit(Roll::NoAnswerKind, key.0, key.1);
            let (outcome, cause) = if u < self.voicemail_share {
                (Outcome::Voicemail, Cause::Unspecified)
            } else if u < self.voicemail_share + self.declined_share {
                (Outcome::Rejected, Cause::Declined)
            } else if u < self.voicemail_share + self.declined_share + self.busy_share {
                (Outcome::Busy, Cause::Unspecified)
            } else {
                (Outcome::NoAnswer, Cause::Unspecified)
            };
            reaction.outcome = outcome;
            reaction.cause = cause;
            reaction.ring = if outcome == Outcome::Rejected {
                8
            } else {
                self.ring_secs
            };
            let p = self.complaint_unanswered * insistence * hour_factor;
            reaction.complaint = !contact.known && dice.chance(p, Roll::SilentComplaint, key.0, key.1);
            return reaction;
        }
        reaction.outcome = Outcome::Answered;
        reaction.ring = 10;
        let mut engaged = if contact.known {
            self.engaged_known
        } else {
            self.engaged_unknown
        };
        if now.labeled {
            engaged *= self.engaged_labeled_factor;
        }
        reaction.engaged = dice.chance(engaged, Roll::Engaged, key.0, key.1);
        let talk = if reaction.engaged {
            let mean = if contact.known {
                self.known_talk_secs
            } else {
                self.conversation_talk_secs
            };
            60.0 + dice.exponential((mean - 60.0).max(1.0), Roll::Talk, key.0, key.1)
        } else {
            1.0 + dice.exponential((self.unwanted_talk_secs - 1.0).max(0.1), Roll::Talk, key.0, key.1)
        };
        reaction.talk = talk.min(7_200.0) as u32;
        if !reaction.engaged && !contact.known {
            let p = self.complaint_base * insistence * hour_factor;
            reaction.complaint = dice.chance(p, Roll::Complaint, key.0, key.1);
            let p = self.opt_out_base * insistence * hour_factor.sqrt();
            reaction.opt_out = dice.chance(p, Roll::OptOut, key.0, key.1);
        }
        reaction
    }
}
