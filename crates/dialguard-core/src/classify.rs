//! The one table that says what a call's ending means.
//!
//! Every importer and webhook hands its raw result here: a SIP response code
//! (with its reason phrase), a Q.850 cause, a FreeSWITCH hangup cause, a
//! Twilio status or an Asterisk disposition. Each comes back as an
//! [`Outcome`] (what happened to the call) and a [`Cause`] (the detail that
//! matters for reputation). Looking for "why was this call counted as
//! invalid?" — the answer is in this file, one row per code, one test per row.
//!
//! Sources for the rows: RFC 3261 §21 (SIP codes), RFC 6873 (SIP 607
//! Unwanted), RFC 8688 (SIP 608 Rejected), ITU-T Q.850 (cause values),
//! FreeSWITCH's hangup-cause table, Twilio's Call resource `status` values,
//! Asterisk's CDR dispositions.

use serde::{Deserialize, Serialize};

/// What happened to a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Answered,
    NoAnswer,
    Busy,
    /// Declined by the callee or refused by the network on the callee's behalf.
    Rejected,
    /// Unallocated, disconnected or badly formed destination.
    InvalidDestination,
    NetworkFailure,
    Voicemail,
}

impl Outcome {
    pub const ALL: [Outcome; 7] = [
        Outcome::Answered,
        Outcome::NoAnswer,
        Outcome::Busy,
        Outcome::Rejected,
        Outcome::InvalidDestination,
        Outcome::NetworkFailure,
        Outcome::Voicemail,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Answered => "answered",
            Outcome::NoAnswer => "no_answer",
            Outcome::Busy => "busy",
            Outcome::Rejected => "rejected",
            Outcome::InvalidDestination => "invalid_destination",
            Outcome::NetworkFailure => "network_failure",
            Outcome::Voicemail => "voicemail",
        }
    }

    /// Parses the names above (as a generic source or the API writes them).
    pub fn from_name(name: &str) -> Option<Outcome> {
        let name = name.trim();
        Outcome::ALL.into_iter().find(|o| o.as_str().eq_ignore_ascii_case(name))
    }
}

/// The detail behind an outcome that reputation cares about.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// Nothing beyond the outcome.
    #[default]
    Unspecified,
    /// The destination does not exist (SIP 404/484/604, Q.850 1/28, vacant SIT).
    Unallocated,
    /// The destination existed and was disconnected or changed (SIP 410, Q.850 22).
    Disconnected,
    /// The network or the callee refused *us*: SIP 603 "Network Blocked",
    /// 607 Unwanted, 608 Rejected. The strongest reputation signal a call
    /// record carries.
    BlockedCaller,
    /// The callee declined this call (SIP 603 Decline, Q.850 21).
    Declined,
    /// Our own carrier refused the caller id (SIP 403): our configuration,
    /// not the destination's fault and not the callee's choice.
    CallerIdRefused,
    /// The source cannot tell: Asterisk `FAILED` covers unallocated numbers,
    /// trunk errors and more.
    Ambiguous,
}

impl Cause {
    /// Every cause, in declaration order (`Cause::ALL[c as usize] == c`).
    pub const ALL: [Cause; 7] = [
        Cause::Unspecified,
        Cause::Unallocated,
        Cause::Disconnected,
        Cause::BlockedCaller,
        Cause::Declined,
        Cause::CallerIdRefused,
        Cause::Ambiguous,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Unspecified => "unspecified",
            Cause::Unallocated => "unallocated",
            Cause::Disconnected => "disconnected",
            Cause::BlockedCaller => "blocked_caller",
            Cause::Declined => "declined",
            Cause::CallerIdRefused => "caller_id_refused",
            Cause::Ambiguous => "ambiguous",
        }
    }
}

/// An outcome with its cause.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Classified {
    pub outcome: Outcome,
    pub cause: Cause,
}

const fn c(outcome: Outcome, cause: Cause) -> Classified {
    Classified { outcome, cause }
}

use Cause as K;
use Outcome as O;

/// A final SIP response code, with its reason phrase when the source kept it
/// (603 means "declined" unless the phrase says the network blocked us).
pub fn sip(code: u16, reason: Option<&str>) -> Classified {
    let network_blocked = reason.is_some_and(|r| r.to_ascii_lowercase().contains("network blocked"));
    match code {
        200..=299 => c(O::Answered, K::Unspecified),
        403 => c(O::NetworkFailure, K::CallerIdRefused),
        404 | 484 | 604 => c(O::InvalidDestination, K::Unallocated),
        410 => c(O::InvalidDestination, K::Disconnected),
        408 | 480 | 487 => c(O::NoAnswer, K::Unspecified),
        486 | 600 => c(O::Busy, K::Unspecified),
        603 if network_blocked => c(O::Rejected, K::BlockedCaller),
        603 => c(O::Rejected, K::Declined),
        607 | 608 => c(O::Rejected, K::BlockedCaller),
        400..=599 => c(O::NetworkFailure, K::Unspecified),
        600..=699 => c(O::Rejected, K::Unspecified),
        _ => c(O::NetworkFailure, K::Unspecified),
    }
}

/// An ITU-T Q.850 cause value. Causes 16 and 31 (normal clearing) say nothing
/// about answer: `answered` decides them.
pub fn q850(cause: u16, answered: bool) -> Classified {
    match cause {
        1 | 28 => c(O::InvalidDestination, K::Unallocated),
        22 => c(O::InvalidDestination, K::Disconnected),
        17 => c(O::Busy, K::Unspecified),
        18..=20 => c(O::NoAnswer, K::Unspecified),
        21 => c(O::Rejected, K::Declined),
        16 | 31 if answered => c(O::Answered, K::Unspecified),
        16 | 31 => c(O::NoAnswer, K::Unspecified),
        _ if answered => c(O::Answered, K::Unspecified),
        _ => c(O::NetworkFailure, K::Unspecified),
    }
}

/// A FreeSWITCH hangup cause name (its `hangup_cause` variable), mapped to the
/// Q.850 value FreeSWITCH itself documents for it.
pub fn freeswitch(hangup_cause: &str, answered: bool) -> Option<Classified> {
    let code = match hangup_cause.trim().to_ascii_uppercase().as_str() {
        "UNALLOCATED_NUMBER" => 1,
        "NO_ROUTE_DESTINATION" => 3,
        "NORMAL_CLEARING" => 16,
        "USER_BUSY" => 17,
        "NO_USER_RESPONSE" => 18,
        "NO_ANSWER" => 19,
        "SUBSCRIBER_ABSENT" => 20,
        "CALL_REJECTED" => 21,
        "NUMBER_CHANGED" => 22,
        "DESTINATION_OUT_OF_ORDER" => 27,
        "INVALID_NUMBER_FORMAT" => 28,
        "NORMAL_UNSPECIFIED" => 31,
        "NORMAL_CIRCUIT_CONGESTION" => 34,
        "NETWORK_OUT_OF_ORDER" => 38,
        "NORMAL_TEMPORARY_FAILURE" => 41,
        "SWITCH_CONGESTION" => 42,
        "INCOMPATIBLE_DESTINATION" => 88,
        "RECOVERY_ON_TIMER_EXPIRE" => 102,
        // Not Q.850: FreeSWITCH's own causes.
        "ORIGINATOR_CANCEL" => return Some(sip(487, None)),
        "ALLOTTED_TIMEOUT" | "MEDIA_TIMEOUT" | "PROGRESS_TIMEOUT" if !answered => {
            return Some(c(O::NoAnswer, K::Unspecified));
        }
        "ALLOTTED_TIMEOUT" | "MEDIA_TIMEOUT" | "PROGRESS_TIMEOUT" => {
            return Some(c(O::Answered, K::Unspecified));
        }
        "" => return None,
        _ if answered => return Some(c(O::Answered, K::Unspecified)),
        _ => 41,
    };
    Some(q850(code, answered))
}

/// A Twilio Call resource `status`. `completed` is an answered call; Twilio's
/// `answered_by` (AMD) turns it into voicemail when a machine picked up.
pub fn twilio(status: &str, answered_by: Option<&str>) -> Option<Classified> {
    let machine = answered_by.is_some_and(|a| a.starts_with("machine") || a == "fax");
    Some(match status.trim().to_ascii_lowercase().as_str() {
        "completed" | "in-progress" if machine => c(O::Voicemail, K::Unspecified),
        "completed" | "in-progress" => c(O::Answered, K::Unspecified),
        "busy" => c(O::Busy, K::Unspecified),
        "no-answer" | "canceled" => c(O::NoAnswer, K::Unspecified),
        "failed" => c(O::NetworkFailure, K::Unspecified),
        _ => return None,
    })
}

/// An Asterisk CDR disposition. The disposition, not `billsec`, says whether
/// a call was answered (a `NO ANSWER` row can carry billsec > 0). `FAILED`
/// is ambiguous: it covers unallocated numbers and trunk failures alike.
pub fn asterisk(disposition: &str) -> Option<Classified> {
    Some(match disposition.trim().to_ascii_uppercase().as_str() {
        "ANSWERED" => c(O::Answered, K::Unspecified),
        "NO ANSWER" => c(O::NoAnswer, K::Unspecified),
        "BUSY" => c(O::Busy, K::Unspecified),
        "FAILED" => c(O::NetworkFailure, K::Ambiguous),
        "CONGESTION" => c(O::NetworkFailure, K::Unspecified),
        _ => return None,
    })
}

/// A special information tone reported by answering-machine or call-progress
/// detection: vacant code and intercept tones mark a dead number.
pub fn sit_tone(tone: &str) -> Option<Classified> {
    Some(match tone.trim().to_ascii_lowercase().as_str() {
        "vacant" | "vacant_code" | "intercept" => c(O::InvalidDestination, K::Unallocated),
        "reorder" | "no_circuit" | "ineffective_other" => c(O::NetworkFailure, K::Unspecified),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(got: Classified, outcome: Outcome, cause: Cause) {
        assert_eq!(got, c(outcome, cause));
    }

    #[test]
    fn sip_codes() {
        check(sip(200, None), O::Answered, K::Unspecified);
        check(sip(403, Some("Forbidden")), O::NetworkFailure, K::CallerIdRefused);
        check(sip(404, None), O::InvalidDestination, K::Unallocated);
        check(sip(484, None), O::InvalidDestination, K::Unallocated);
        check(sip(604, None), O::InvalidDestination, K::Unallocated);
        check(sip(410, None), O::InvalidDestination, K::Disconnected);
        check(sip(408, None), O::NoAnswer, K::Unspecified);
        check(sip(480, None), O::NoAnswer, K::Unspecified);
        check(sip(487, None), O::NoAnswer, K::Unspecified);
        check(sip(486, None), O::Busy, K::Unspecified);
        check(sip(600, None), O::Busy, K::Unspecified);
        check(sip(603, Some("Decline")), O::Rejected, K::Declined);
        check(sip(603, None), O::Rejected, K::Declined);
        check(sip(603, Some("Network Blocked")), O::Rejected, K::BlockedCaller);
        check(sip(607, None), O::Rejected, K::BlockedCaller);
        check(sip(608, None), O::Rejected, K::BlockedCaller);
        check(sip(488, None), O::NetworkFailure, K::Unspecified);
        check(sip(503, None), O::NetworkFailure, K::Unspecified);
        check(sip(606, None), O::Rejected, K::Unspecified);
        check(sip(100, None), O::NetworkFailure, K::Unspecified);
    }

    #[test]
    fn q850_causes() {
        check(q850(1, false), O::InvalidDestination, K::Unallocated);
        check(q850(28, false), O::InvalidDestination, K::Unallocated);
        check(q850(22, false), O::InvalidDestination, K::Disconnected);
        check(q850(17, false), O::Busy, K::Unspecified);
        check(q850(18, false), O::NoAnswer, K::Unspecified);
        check(q850(19, false), O::NoAnswer, K::Unspecified);
        check(q850(20, false), O::NoAnswer, K::Unspecified);
        check(q850(21, false), O::Rejected, K::Declined);
        check(q850(16, true), O::Answered, K::Unspecified);
        check(q850(16, false), O::NoAnswer, K::Unspecified);
        check(q850(31, false), O::NoAnswer, K::Unspecified);
        check(q850(34, false), O::NetworkFailure, K::Unspecified);
        check(q850(41, true), O::Answered, K::Unspecified);
    }

    #[test]
    fn freeswitch_hangup_causes() {
        let f = |name, answered| freeswitch(name, answered).unwrap();
        check(f("UNALLOCATED_NUMBER", false), O::InvalidDestination, K::Unallocated);
        check(f("INVALID_NUMBER_FORMAT", false), O::InvalidDestination, K::Unallocated);
        check(f("NUMBER_CHANGED", false), O::InvalidDestination, K::Disconnected);
        check(f("NORMAL_CLEARING", true), O::Answered, K::Unspecified);
        check(f("NORMAL_CLEARING", false), O::NoAnswer, K::Unspecified);
        check(f("USER_BUSY", false), O::Busy, K::Unspecified);
        check(f("NO_USER_RESPONSE", false), O::NoAnswer, K::Unspecified);
        check(f("NO_ANSWER", false), O::NoAnswer, K::Unspecified);
        check(f("SUBSCRIBER_ABSENT", false), O::NoAnswer, K::Unspecified);
        check(f("CALL_REJECTED", false), O::Rejected, K::Declined);
        check(f("ORIGINATOR_CANCEL", false), O::NoAnswer, K::Unspecified);
        check(f("NO_ROUTE_DESTINATION", false), O::NetworkFailure, K::Unspecified);
        check(f("DESTINATION_OUT_OF_ORDER", false), O::NetworkFailure, K::Unspecified);
        check(f("NORMAL_TEMPORARY_FAILURE", false), O::NetworkFailure, K::Unspecified);
        check(f("SWITCH_CONGESTION", false), O::NetworkFailure, K::Unspecified);
        check(f("NORMAL_CIRCUIT_CONGESTION", false), O::NetworkFailure, K::Unspecified);
        check(f("NETWORK_OUT_OF_ORDER", false), O::NetworkFailure, K::Unspecified);
        check(f("RECOVERY_ON_TIMER_EXPIRE", false), O::NetworkFailure, K::Unspecified);
        check(f("INCOMPATIBLE_DESTINATION", false), O::NetworkFailure, K::Unspecified);
        check(f("NORMAL_UNSPECIFIED", false), O::NoAnswer, K::Unspecified);
        check(f("ALLOTTED_TIMEOUT", true), O::Answered, K::Unspecified);
        check(f("PROGRESS_TIMEOUT", false), O::NoAnswer, K::Unspecified);
        check(f("MEDIA_TIMEOUT", false), O::NoAnswer, K::Unspecified);
        check(f("SOMETHING_NEW", false), O::NetworkFailure, K::Unspecified);
        check(f("SOMETHING_NEW", true), O::Answered, K::Unspecified);
        assert_eq!(freeswitch("", false), None);
    }

    #[test]
    fn twilio_statuses() {
        let t = |s, by| twilio(s, by).unwrap();
        check(t("completed", None), O::Answered, K::Unspecified);
        check(t("in-progress", None), O::Answered, K::Unspecified);
        check(t("completed", Some("human")), O::Answered, K::Unspecified);
        check(t("completed", Some("machine_end_beep")), O::Voicemail, K::Unspecified);
        check(t("completed", Some("fax")), O::Voicemail, K::Unspecified);
        check(t("busy", None), O::Busy, K::Unspecified);
        check(t("no-answer", None), O::NoAnswer, K::Unspecified);
        check(t("canceled", None), O::NoAnswer, K::Unspecified);
        check(t("failed", None), O::NetworkFailure, K::Unspecified);
        assert_eq!(twilio("queued", None), None);
        assert_eq!(twilio("ringing", None), None);
    }

    #[test]
    fn asterisk_dispositions() {
        check(asterisk("ANSWERED").unwrap(), O::Answered, K::Unspecified);
        check(asterisk("NO ANSWER").unwrap(), O::NoAnswer, K::Unspecified);
        check(asterisk("BUSY").unwrap(), O::Busy, K::Unspecified);
        check(asterisk("FAILED").unwrap(), O::NetworkFailure, K::Ambiguous);
        check(asterisk("CONGESTION").unwrap(), O::NetworkFailure, K::Unspecified);
        assert_eq!(asterisk("RINGING"), None);
    }

    #[test]
    fn sit_tones() {
        check(sit_tone("vacant").unwrap(), O::InvalidDestination, K::Unallocated);
        check(sit_tone("intercept").unwrap(), O::InvalidDestination, K::Unallocated);
        check(sit_tone("reorder").unwrap(), O::NetworkFailure, K::Unspecified);
        assert_eq!(sit_tone("beep"), None);
    }

    #[test]
    fn outcome_names_round_trip() {
        for o in Outcome::ALL {
            assert_eq!(Outcome::from_name(o.as_str()), Some(o));
        }
        assert_eq!(Outcome::from_name("ANSWERED"), Some(O::Answered));
        assert_eq!(Outcome::from_name("picked_up"), None);
    }
}
