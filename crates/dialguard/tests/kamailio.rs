//! dialguard in a real dial path: `integrations/kamailio/run.sh` starts
//! dialguard, Kamailio with the shipped `kamailio.cfg`, and SIPp as the
//! dialer and the carrier, and runs a campaign over loopback. This test reads
//! what each side logged.
//!
//! The campaign runs at a fixed instant (libfaketime shifts every process's
//! clock by the same offset): a Tuesday at 11:00 in New York, 06:00 in
//! Honolulu, so one call is outside its called party's hours whatever the
//! hour of the run.
//!
//! Needs kamailio (with its utils, json and secsipid modules), sip-tester,
//! faketime, curl and openssl; `.ci/run` installs them. Without them the test
//! fails saying so, unless DIALGUARD_SKIP_SIP is set.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{TcpListener, UdpSocket};
use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;
use serde_json::Value;

/// The instant the campaign runs at.
const AT: &str = "2027-03-02T16:00:00Z";
const POOL: [&str; 3] = ["+14155550100", "+14155550101", "+14155550666"];
const LABELED: &str = "+14155550666";
const DEAD: &str = "+12122000404";
const OPTED_OUT: &str = "+12122000999";
const HONOLULU: &str = "+18082001234";
/// The source code of Kamailio's records in the log (`dialguard-store`'s codec).
const SOURCE_KAMAILIO: i64 = 8;

fn tools_missing() -> Vec<&'static str> {
    ["kamailio", "sipp", "faketime", "curl", "openssl"]
        .into_iter()
        .filter(|tool| {
            Command::new("sh")
                .arg("-c")
                .arg(format!("command -v {tool}"))
                .output()
                .map_or(true, |o| !o.status.success())
        })
        .collect()
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One SIP message of a SIPp message log: its first line and its headers.
struct Message {
    first: String,
    headers: Vec<(String, String)>,
}

impl Message {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The user part of the URI in a From or To header.
    fn user(&self, name: &str) -> String {
        let value = self.header(name).unwrap_or_default();
        let start = value.find("sip:").map_or(0, |i| i + 4);
        value[start..].split('@').next().unwrap_or_default().to_owned()
    }
}

fn messages(log: &Path) -> Vec<Message> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.split("\n-----------------------------------------------")
        .filter_map(|block| {
            let mut lines = block
                .lines()
                .skip_while(|l| !l.starts_with("UDP message"))
                .skip(1)
                .skip_while(|l| l.trim().is_empty());
            let first = lines.next()?.trim().to_owned();
            let headers = lines
                .take_while(|l| !l.trim().is_empty())
                .filter_map(|l| l.split_once(':'))
                .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
                .collect();
            Some(Message { first, headers })
        })
        .collect()
}

/// The first INVITE each call sent, by Call-ID.
fn invites(log: &Path) -> BTreeMap<String, Message> {
    let mut out = BTreeMap::new();
    for m in messages(log).into_iter().filter(|m| m.first.starts_with("INVITE ")) {
        let id = m.header("Call-ID").unwrap().to_owned();
        out.entry(id).or_insert(m);
    }
    out
}

/// Checks a SHAKEN PASSporT with the signer's public key; returns its claims.
fn verify_identity(identity: &str, key: &VerifyingKey) -> Result<Value, String> {
    let token = identity.split(';').next().unwrap_or_default().trim();
    let parts: Vec<&str> = token.split('.').collect();
    let [header, claims, signature] = parts[..] else {
        return Err(format!("not a compact JWS: {token}"));
    };
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header: Value =
        serde_json::from_slice(&b64.decode(header).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    if header["alg"] != "ES256" || header["ppt"] != "shaken" || header["typ"] != "passport" {
        return Err(format!("header {header}"));
    }
    let signature =
        Signature::from_slice(&b64.decode(signature).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let signed = &token[..token.rfind('.').unwrap()];
    key.verify(signed.as_bytes(), &signature)
        .map_err(|e| format!("signature: {e}"))?;
    serde_json::from_slice(&b64.decode(claims).map_err(|e| e.to_string())?).map_err(|e| e.to_string())
}

/// Whether the SIP tools are here; panics saying what to install unless
/// DIALGUARD_SKIP_SIP is set.
fn sip_tools() -> bool {
    let missing = tools_missing();
    if missing.is_empty() {
        return true;
    }
    if std::env::var_os("DIALGUARD_SKIP_SIP").is_some() {
        eprintln!("skipped: {} missing and DIALGUARD_SKIP_SIP is set", missing.join(", "));
        return false;
    }
    panic!(
        "{} missing: apt-get install -y kamailio kamailio-utils-modules kamailio-json-modules \
         kamailio-secsipid-modules sip-tester faketime curl openssl (or set DIALGUARD_SKIP_SIP=1)",
        missing.join(", ")
    );
}

/// The clock offset, in seconds, that puts every process at [`AT`].
fn offset() -> i64 {
    let at: jiff::Timestamp = AT.parse().unwrap();
    at.as_second() - jiff::Timestamp::now().as_second()
}

/// A finished run of `run.sh` at [`AT`] on free loopback ports.
struct Run {
    work: tempfile::TempDir,
    /// The offset the run's processes had: a later command reads its
    /// database at the same shifted clock.
    offset: i64,
    context: String,
}

impl Run {
    fn new(settings: &[(&str, &str)]) -> Run {
        let work = tempfile::tempdir().unwrap();
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let offset = offset();
        let mut command = Command::new("faketime");
        command
            .arg("-f")
            .arg(format!("{offset:+}s"))
            .arg(repo.join("integrations/kamailio/run.sh"))
            .env("DIALGUARD_BIN", env!("CARGO_BIN_EXE_dialguard"))
            .env("WORK", work.path())
            .env("DIALGUARD_PORT", free_tcp_port().to_string())
            .env("SIP_PORT", free_udp_port().to_string())
            .env("DIALER_PORT", free_udp_port().to_string())
            .env("CARRIER_PORT", free_udp_port().to_string())
            .env("FAKETIME_DONT_FAKE_MONOTONIC", "1");
        for (key, value) in settings {
            command.env(key, value);
        }
        let output = command.output().unwrap();
        let mut run = Run {
            work,
            offset,
            context: String::new(),
        };
        let kamailio = run.log("kamailio.log");
        let tail: Vec<&str> = kamailio.lines().rev().take(30).collect();
        run.context = format!(
            "run.sh: {}\n{}\nkamailio.log (last lines first):\n{}\ndialguard.log:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            tail.join("\n"),
            run.log("dialguard.log")
        );
        assert!(output.status.success(), "{}", run.context);
        run
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.work.path().join(name)).unwrap_or_default()
    }

    /// The final answer each call got, as run.sh tabulates them, by Call-ID:
    /// (status line, dialguard's reason, Retry-After).
    fn told(&self) -> BTreeMap<String, (String, String, String)> {
        self.log("dialer-calls.tsv")
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                let get = |i: usize| f.get(i).copied().unwrap_or_default().to_owned();
                (get(0), (get(1), get(2), get(3)))
            })
            .collect()
    }

    fn carrier(&self) -> BTreeMap<String, Message> {
        invites(&self.work.path().join("carrier-messages.log"))
    }
}

#[test]
fn without_an_answer_from_dialguard_the_proxy_fails_closed_or_open_as_configured_and_logs_it() {
    if !sip_tools() {
        return;
    }
    let closed = Run::new(&[("GUARD", "off"), ("CALLS", "8"), ("WITH_STIR", "0")]);
    let told = closed.told();
    assert_eq!(told.len(), 8, "{}", closed.context);
    assert!(
        told.values()
            .all(|t| t.0 == "SIP/2.0 503 Guard Unavailable" && t.1 == "guard_unavailable" && t.2 == "30"),
        "{told:?}"
    );
    assert!(closed.carrier().is_empty());
    let refusals = closed
        .log("kamailio.log")
        .matches("failing closed: 503, no unchecked call")
        .count();
    assert_eq!(refusals, 8);

    let open = Run::new(&[("GUARD", "off"), ("FAIL_OPEN", "1"), ("CALLS", "8"), ("WITH_STIR", "0")]);
    let carrier = open.carrier();
    assert_eq!(carrier.len(), 8, "{}", open.context);
    assert!(
        carrier.values().all(|m| m.user("From") == "+14155550199"),
        "placed with the dialer's own caller id"
    );
    assert_eq!(
        open.log("kamailio.log")
            .matches("FAIL_OPEN: placing it unchecked")
            .count(),
        8
    );
}

/// The Call-IDs of the proxy's records in a run's log, with how often each
/// is there.
fn recorded(run: &Run) -> BTreeMap<String, i64> {
    let db = rusqlite::Connection::open(run.work.path().join("dialguard.db")).unwrap();
    let mut counted = db
        .prepare("SELECT source_id, COUNT(*) FROM calls WHERE source = ?1 GROUP BY source_id")
        .unwrap();
    counted
        .query_map([SOURCE_KAMAILIO], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn the_records_of_calls_placed_while_dialguard_was_down_reach_it_once_it_is_back() {
    if !sip_tools() {
        return;
    }
    let late = Run::new(&[
        ("GUARD", "late"),
        ("FAIL_OPEN", "1"),
        ("CALLS", "8"),
        ("WITH_STIR", "0"),
    ]);
    let carrier = late.carrier();
    assert_eq!(carrier.len(), 8, "{}", late.context);
    let logged = recorded(&late);
    assert!(logged.values().all(|&n| n == 1), "{logged:?}");
    assert_eq!(
        logged.keys().collect::<BTreeSet<_>>(),
        carrier.keys().collect::<BTreeSet<_>>(),
        "{}",
        late.context
    );
    let kamailio = late.log("kamailio.log");
    assert_eq!(kamailio.matches("queued to resend").count(), 8, "{}", late.context);
    assert_eq!(kamailio.matches("was taken on a resend").count(), 8, "{}", late.context);
}

#[test]
fn kamailio_asks_dialguard_before_every_call_and_reports_every_call_back() {
    if !sip_tools() {
        return;
    }
    let run = Run::new(&[("CALLS", "200"), ("RATE", "40")]);
    let (work, context, offset) = (&run.work, &run.context, run.offset);
    let log = |name: &str| run.log(name);
    let bin = env!("CARGO_BIN_EXE_dialguard");

    // The campaign, line by line: SIPp's call N dials line N.
    let campaign: Vec<String> = log("campaign.csv")
        .lines()
        .skip(1)
        .map(|l| l.split(';').next().unwrap().to_owned())
        .collect();
    let line_of = |call_id: &str| -> usize { call_id.split('-').next().unwrap().parse::<usize>().unwrap() - 1 };
    // What the dialer was told, by the number called and the Call-ID.
    let told: BTreeMap<String, (String, String, String)> = run
        .told()
        .into_iter()
        .map(|(id, answer)| (campaign[line_of(&id)].clone() + "#" + &id, answer))
        .collect();
    assert_eq!(told.len(), campaign.len(), "every call got a final answer\n{context}");
    let answers_for = |to: &str| -> Vec<&(String, String, String)> {
        told.iter()
            .filter(|(k, _)| k.split('#').next() == Some(to))
            .map(|(_, v)| v)
            .collect()
    };
    let carrier = run.carrier();
    let carrier_saw = |to: &str| {
        carrier
            .values()
            .filter(|m| m.first.contains(&format!("sip:{to}@")))
            .count()
    };

    // An opted-out person is refused before the carrier hears of the call.
    let opted = answers_for(OPTED_OUT);
    assert_eq!(opted.len(), 1);
    assert!(
        opted[0].0.starts_with("SIP/2.0 403") && opted[0].1 == "opted_out",
        "{opted:?}"
    );
    assert_eq!(carrier_saw(OPTED_OUT), 0);

    // 06:00 in Honolulu: a 480 that says when to try again.
    let early = answers_for(HONOLULU);
    assert!(
        early[0].0.starts_with("SIP/2.0 480") && early[0].1 == "outside_calling_hours",
        "{early:?}"
    );
    let retry_after: u64 = early[0].2.parse().expect("a Retry-After in seconds");
    assert!(
        (7_000..=7_200).contains(&retry_after),
        "08:00 is two hours away: {retry_after}"
    );
    assert_eq!(carrier_saw(HONOLULU), 0);

    // The dead number: the carrier's 404 once, then dialguard refuses it.
    let mut dead = answers_for(DEAD);
    dead.sort();
    assert_eq!(dead.len(), 2, "{dead:?}");
    assert!(
        dead.iter().any(|d| d.0.starts_with("SIP/2.0 404") && d.1.is_empty()),
        "{dead:?}"
    );
    assert!(
        dead.iter()
            .any(|d| d.0.starts_with("SIP/2.0 403") && d.1 == "destination_invalid"),
        "{dead:?}"
    );
    assert_eq!(carrier_saw(DEAD), 1);

    // Every call that left carried a pool number, in From and
    // P-Asserted-Identity, signed in an Identity header that verifies.
    let key = VerifyingKey::from_public_key_pem(&log("stir-pub.pem")).unwrap();
    assert!(
        carrier.len() > 100,
        "{} calls reached the carrier\n{context}",
        carrier.len()
    );
    for (id, invite) in &carrier {
        let from = invite.user("From");
        assert!(POOL.contains(&from.as_str()), "{id}: From {from}");
        assert_eq!(invite.user("P-Asserted-Identity"), from, "{id}");
        let identity = invite
            .header("Identity")
            .unwrap_or_else(|| panic!("{id} left unsigned"));
        let claims = verify_identity(identity, &key).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(claims["attest"], "A", "{id}");
        assert_eq!(claims["orig"]["tn"], from.trim_start_matches('+'), "{id}");
        assert_eq!(
            claims["dest"]["tn"][0],
            invite.user("To").trim_start_matches('+'),
            "{id}"
        );
    }

    // The carrier refused every call from the number it labels, as 603+;
    // dialguard stopped using it.
    let from_labeled = carrier.values().filter(|m| m.user("From") == LABELED).count();
    assert!(from_labeled > 0);
    let list = Command::new("faketime")
        .arg("-f")
        .arg(format!("{offset:+}s"))
        .arg(bin)
        .args(["numbers", "list", "--format", "json", "--db"])
        .arg(work.path().join("dialguard.db"))
        .arg("--config")
        .arg(work.path().join("dialguard.toml"))
        .output()
        .unwrap();
    let numbers: Value = serde_json::from_slice(&list.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&list.stderr)));
    let state_of = |n: &str| {
        numbers
            .as_array()
            .or_else(|| numbers["numbers"].as_array())
            .unwrap()
            .iter()
            .find(|x| x["number"] == n)
            .map(|x| x["state"].as_str().unwrap().to_owned())
            .unwrap()
    };
    assert!(
        matches!(state_of(LABELED).as_str(), "quarantined" | "resting"),
        "{numbers}"
    );
    assert_eq!(state_of(POOL[0]), state_of(POOL[1]));
    assert!(
        !matches!(state_of(POOL[0]).as_str(), "quarantined" | "resting"),
        "{numbers}"
    );

    // Every call the carrier saw is in dialguard's log exactly once, and
    // nothing else came from the proxy.
    let logged = recorded(&run);
    assert!(logged.values().all(|&n| n == 1), "{logged:?}");
    let seen: BTreeSet<&String> = carrier.keys().collect();
    let recorded: BTreeSet<&String> = logged.keys().collect();
    assert_eq!(seen, recorded, "the carrier's calls and dialguard's records differ");
}
