//! Everything that happens, as a value with its own instant.
//!
//! The store keeps these in an append-only log; the core folds them into
//! state. An event that can arrive twice (a call record re-imported, a
//! complaint feed re-read) carries an [`Event::dedup_key`], and the log keeps
//! the first copy only.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::call::Call;
use crate::lifecycle::NumberState;
use crate::lifecycle::dispute::{DisputeStatus, DisputeStep};
use crate::number::E164;

/// A US carrier whose handsets show labels, and the analytics engine that
/// decides them for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Carrier {
    Att,
    Verizon,
    Tmobile,
}

impl Carrier {
    pub const ALL: [Carrier; 3] = [Carrier::Att, Carrier::Verizon, Carrier::Tmobile];

    pub fn as_str(self) -> &'static str {
        match self {
            Carrier::Att => "att",
            Carrier::Verizon => "verizon",
            Carrier::Tmobile => "tmobile",
        }
    }

    /// The analytics engine behind the carrier's labels.
    pub fn engine(self) -> &'static str {
        match self {
            Carrier::Att => "hiya",
            Carrier::Verizon => "tns",
            Carrier::Tmobile => "first-orion",
        }
    }

    /// Reads the names people write: `att`, `AT&T`, `verizon`, `T-Mobile`, …
    pub fn from_name(name: &str) -> Option<Carrier> {
        let squashed: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        match squashed.as_str() {
            "att" | "atandt" | "hiya" => Some(Carrier::Att),
            "verizon" | "vzw" | "tns" => Some(Carrier::Verizon),
            "tmobile" | "tmo" | "firstorion" => Some(Carrier::Tmobile),
            _ => None,
        }
    }
}

/// What a handset on one carrier showed for one of our numbers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelObserved {
    pub number: E164,
    pub carrier: Carrier,
    /// `Spam Likely`, `Scam Likely`, …; `None` when the number showed clean.
    pub label: Option<String>,
    pub at: Timestamp,
    /// `test_call`, `monitoring`, `manual`, …
    pub source: String,
    /// The observation's own id within `source`, when it has one (an
    /// imported scan file's rows do): two copies with the same source and id
    /// are one observation. Without one, every copy counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
}

/// A person asked not to be called again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptOut {
    pub to: E164,
    pub at: Timestamp,
}

/// A person agreed to be called (for one pool, or for every pool), or
/// has a relationship with the business that the law counts: a dated
/// record, which is what exempts a call from the national Do-Not-Call
/// registry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub to: E164,
    pub at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
    /// Stored as `basis`: the event's own tag is `kind`.
    #[serde(rename = "basis", default, skip_serializing_if = "ConsentKind::is_written")]
    pub kind: ConsentKind,
}

/// What a [`Consent`] record is, and so how long it counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentKind {
    /// The person's signed, written agreement to be called (47 CFR
    /// § 64.1200(c)(2)(ii)). Counts until they opt out.
    #[default]
    Written,
    /// An established business relationship from a purchase or transaction
    /// on this date (§ 64.1200(f)(5)): exempts registry calls for the 18
    /// months after it.
    EbrPurchase,
    /// An established business relationship from the person's inquiry or
    /// application on this date: exempts registry calls for 3 months.
    EbrInquiry,
}

impl ConsentKind {
    pub const ALL: [ConsentKind; 3] = [ConsentKind::Written, ConsentKind::EbrPurchase, ConsentKind::EbrInquiry];

    pub fn as_str(self) -> &'static str {
        match self {
            ConsentKind::Written => "written",
            ConsentKind::EbrPurchase => "ebr_purchase",
            ConsentKind::EbrInquiry => "ebr_inquiry",
        }
    }

    pub fn from_name(name: &str) -> Option<ConsentKind> {
        ConsentKind::ALL.into_iter().find(|k| k.as_str() == name.trim())
    }

    fn is_written(&self) -> bool {
        *self == ConsentKind::Written
    }

    /// The months a relationship of this kind exempts calls for, counted from
    /// its date; none for written consent, which lasts until an opt-out.
    pub fn months(self) -> Option<i8> {
        match self {
            ConsentKind::Written => None,
            ConsentKind::EbrPurchase => Some(18),
            ConsentKind::EbrInquiry => Some(3),
        }
    }

    /// The instant a record of this kind dated `at` stops counting (by the
    /// calendar in UTC), or `None` when it does not expire.
    pub fn until(self, at: Timestamp) -> Option<Timestamp> {
        let months = self.months()?;
        let utc = jiff::tz::Offset::UTC;
        let later = utc
            .to_datetime(at)
            .checked_add(jiff::Span::new().months(months))
            .ok()
            .and_then(|d| utc.to_timestamp(d).ok());
        Some(later.unwrap_or(Timestamp::MAX))
    }
}

/// A number moved to another lifecycle state, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateChanged {
    pub number: E164,
    pub state: NumberState,
    pub at: Timestamp,
    pub reason: String,
}

/// A consumer's complaint naming a caller-id number (FTC Do-Not-Call report,
/// a "report spam" tap forwarded by a carrier, a single report via the API).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Complaint {
    /// The caller-id number the consumer reported.
    pub number: E164,
    pub at: Timestamp,
    /// `ftc`, `api`, or what the feed calls itself.
    pub source: String,
    /// Identifies the complaint within its source.
    pub source_id: String,
    /// The consumer's area code, when the feed gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer_area_code: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The consumer said it was a recorded message (robocall).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub robocall: Option<bool>,
}

/// A number the business owns, put in a pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberRegistered {
    pub number: E164,
    pub pool: String,
    pub at: Timestamp,
    /// The state the number starts in (`active` unless it is new: `aging`).
    #[serde(default)]
    pub state: NumberState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnam: Option<String>,
}

/// A step of a number's dispute calendar moved: filed, answered, settled
/// (`lifecycle::dispute`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeUpdated {
    pub number: E164,
    pub step: DisputeStep,
    pub status: DisputeStatus,
    pub at: Timestamp,
    /// What was sent or said: a ticket number, the answer's gist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Everything the log holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    Call(Call),
    Complaint(Complaint),
    NumberRegistered(NumberRegistered),
    Label(LabelObserved),
    OptOut(OptOut),
    Consent(Consent),
    StateChanged(StateChanged),
    DisputeUpdated(DisputeUpdated),
}

impl Event {
    /// The event's own instant (a call's is when it ended: that is when the
    /// record exists).
    pub fn at(&self) -> Timestamp {
        match self {
            Event::Call(c) => c.ended_at,
            Event::Complaint(c) => c.at,
            Event::NumberRegistered(n) => n.at,
            Event::Label(l) => l.at,
            Event::OptOut(o) => o.at,
            Event::Consent(c) => c.at,
            Event::StateChanged(s) => s.at,
            Event::DisputeUpdated(d) => d.at,
        }
    }

    /// A short name for the kind, as stored.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Call(_) => "call",
            Event::Complaint(_) => "complaint",
            Event::NumberRegistered(_) => "number_registered",
            Event::Label(_) => "label",
            Event::OptOut(_) => "opt_out",
            Event::Consent(_) => "consent",
            Event::StateChanged(_) => "state_changed",
            Event::DisputeUpdated(_) => "dispute_updated",
        }
    }

    /// What makes two copies of this event the same event: the source and the
    /// source's id. `None` for events that are never deduplicated.
    pub fn dedup_key(&self) -> Option<(&str, &str)> {
        match self {
            Event::Call(c) => Some((c.source.as_str(), c.source_id.as_str())),
            Event::Complaint(c) => Some((c.source.as_str(), c.source_id.as_str())),
            Event::Label(l) => l.source_id.as_deref().map(|id| (l.source.as_str(), id)),
            _ => None,
        }
    }
}
