//! One call, whatever system recorded it.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::classify::{Cause, Outcome};
use crate::number::E164;

/// Which way a call went, seen from the business.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    #[default]
    Outbound,
    /// A call to one of our numbers: proof the number can be called back.
    Inbound,
}

/// The system a record came from. With `source_id` it identifies the record,
/// so the same record sent twice is counted once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Asterisk,
    Freeswitch,
    Twilio,
    Telnyx,
    Generic,
    Api,
    /// A SIP proxy's own accounting (`POST /v1/acc/kamailio`).
    Kamailio,
    Simulator,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Asterisk => "asterisk",
            Source::Freeswitch => "freeswitch",
            Source::Twilio => "twilio",
            Source::Telnyx => "telnyx",
            Source::Generic => "generic",
            Source::Api => "api",
            Source::Kamailio => "kamailio",
            Source::Simulator => "simulator",
        }
    }
}

/// A call, normalised. `from` is the caller id presented and `to` the number
/// dialled, whatever the direction; [`Call::owned_number`] picks ours.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    pub from: E164,
    pub to: E164,
    #[serde(default)]
    pub direction: Direction,
    pub started_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_at: Option<Timestamp>,
    pub ended_at: Timestamp,
    /// Seconds from answer to hang-up; 0 for unanswered calls.
    pub talk_seconds: u32,
    pub outcome: Outcome,
    #[serde(default)]
    pub cause: Cause,
    pub source: Source,
    /// The source's own id for the record (Asterisk `uniqueid`, Twilio `sid`,
    /// …), or a content hash for sources without one.
    pub source_id: String,
}

impl Call {
    /// The business's number in this call: the caller id of an outbound call,
    /// the dialled number of an inbound one.
    pub fn owned_number(&self) -> E164 {
        match self.direction {
            Direction::Outbound => self.from,
            Direction::Inbound => self.to,
        }
    }

    /// The other party.
    pub fn counterpart(&self) -> E164 {
        match self.direction {
            Direction::Outbound => self.to,
            Direction::Inbound => self.from,
        }
    }

    /// Answered by a person and over within `threshold_secs` of talk (at
    /// most): the callee hung up at once.
    pub fn is_short(&self, threshold_secs: u32) -> bool {
        self.outcome == Outcome::Answered && self.talk_seconds <= threshold_secs
    }
}
