//! `dialguard serve` as a dialer and a test harness meet it: the real binary
//! on a free port, the event clock, several simulated days of decisions and
//! call results, then health and a quarantine read back through the API, a
//! SIGTERM, and a restart that finds everything.

mod served;

use std::io::Read;
use std::process::Command;

use serde_json::{Value, json};
use served::Served;

impl Served {
    fn post(&self, path: &str, body: Value) -> Value {
        let (status, value) = self.call("POST", path, Some(&body));
        assert_eq!(status, 200, "POST {path} {body}: {value}");
        value
    }

    fn number(&self, number: &str) -> Value {
        let (status, value) = self.call("GET", &format!("/v1/numbers/{number}"), None);
        assert_eq!(status, 200, "{value}");
        value
    }

    /// Stops the server the way an init system does, and waits for it.
    fn terminate(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        let mut stderr = String::new();
        self.child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
        assert!(exit.success(), "dialguard exited with {exit}: {stderr}");
        assert!(stderr.contains("every accepted request is in"), "{stderr}");
    }
}

const SHORT: &str = "+14155550101";
const TALKER: &str = "+14155550102";
const SPARE: &str = "+14155550103";

/// 2026-03-02 is a Monday; New York is on EST (UTC-5) until March 8.
fn at(day: i64, minute: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_772_463_600 + day * 86_400 + minute * 60).unwrap()
}

/// A different New York destination for every call.
fn destination(day: i64, i: i64) -> String {
    format!("+1212{}{:04}", 300 + day, 1000 + i)
}

/// One business morning: decide, then report each allowed call's result in
/// one batch. The short-call number's calls are hung up at once; the
/// others hold conversations.
fn drive_day(served: &Served, day: i64) -> (usize, usize) {
    let mut results = Vec::new();
    let mut allowed = 0;
    for i in 0..90 {
        let started = at(day, i * 2);
        let decision = served.post(
            "/v1/decide",
            json!({"pool": "sales", "to": destination(day, i), "at": started.to_string()}),
        );
        let Some(caller) = decision["caller_id"].as_str() else {
            continue;
        };
        allowed += 1;
        let talk = if caller == SHORT { 2 } else { 150 };
        let answered = started + jiff::SignedDuration::from_secs(8);
        let ended = answered + jiff::SignedDuration::from_secs(talk);
        results.push(json!({
            "id": format!("d{day}-{i}"), "from": caller, "to": destination(day, i),
            "started_at": started.to_string(), "answered_at": answered.to_string(),
            "ended_at": ended.to_string(), "outcome": "answered"
        }));
    }
    let sent = results.len();
    let ingested = served.post("/v1/calls", json!({ "calls": results }));
    assert_eq!(ingested["rejected"], json!([]), "{ingested}");
    assert_eq!(ingested["accepted"].as_u64(), Some(sent as u64), "{ingested}");
    (allowed, sent)
}

fn summary<'a>(list: &'a Value, number: &str) -> &'a Value {
    list["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["number"] == number)
        .unwrap()
}

#[test]
fn serve_drives_simulated_days_and_quarantines_through_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("dialguard.db");
    let served = Served::start(&db, &["--clock", "event"]);
    for number in [SHORT, TALKER, SPARE] {
        let (status, body) = served.call(
            "PUT",
            &format!("/v1/numbers/{number}"),
            Some(&json!({"pool": "sales", "acquired_at": "2026-01-05T00:00:00Z"})),
        );
        assert_eq!((status, body["state"].as_str()), (200, Some("active")), "{body}");
    }

    // Four simulated days of traffic, in well under a second of wall time
    // each. The first day's evidence is judged while it is fresh.
    let (allowed, _) = drive_day(&served, 0);
    assert!(allowed > 0, "day 0: nothing was allowed");
    let (_, first) = served.call("GET", "/v1/numbers", None);
    let short = summary(&first, SHORT);
    let talker = summary(&first, TALKER);
    // The number whose calls are hung up at once scores worse and reads
    // worse, and the factor named first says why. Its cap is the learned
    // lines' (no engine has said anything yet, so the same for every number)
    // and says so.
    let rank = |h: &Value| {
        ["healthy", "watch", "at_risk", "labeled"]
            .iter()
            .position(|x| h == x)
            .unwrap()
    };
    assert!(rank(&short["health"]) > rank(&talker["health"]), "{first}");
    assert!(short["risk"].as_u64() > talker["risk"].as_u64(), "{first}");
    assert!(
        short["cap_reason"]
            .as_str()
            .is_some_and(|why| why.contains("learned line")),
        "{first}"
    );
    assert!(
        ["engagement", "short_calls", "talk_time"].contains(&short["top_factor"]["factor"].as_str().unwrap()),
        "the top factor names the short calls: {short}"
    );
    for day in 1..4 {
        let (allowed, _) = drive_day(&served, day);
        assert!(allowed > 0, "day {day}: nothing was allowed");
    }
    let (_, list) = served.call("GET", "/v1/numbers", None);
    let short = summary(&list, SHORT);
    let talker = summary(&list, TALKER);
    // The guard prefers the numbers people talk to: the hung-up-on one
    // carries less of the later days' traffic.
    assert!(short["calls_today"].as_u64() < talker["calls_today"].as_u64(), "{list}");
    let view = served.number(SHORT);
    let week = view["metrics"]["windows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["window"] == "7d")
        .unwrap();
    assert_eq!(week["short_call_ratio"].as_f64(), Some(1.0), "{week}");
    // The conversations number keeps calling, within its cap.
    assert!(
        ["active", "watch"].contains(&talker["state"].as_str().unwrap()),
        "{talker}"
    );
    assert!(talker["calls_today"].as_u64().unwrap() > 0, "{talker}");
    assert!(
        talker["calls_today"].as_u64() <= talker["cap_today"].as_u64(),
        "{talker}"
    );

    // A carrier shows a label on day 5: the number stops at once.
    let label_at = at(4, 0);
    served.post(
        "/v1/labels",
        json!({"number": TALKER, "carrier": "verizon", "label": "Spam Likely", "at": label_at.to_string(), "source": "test_call"}),
    );
    let view = served.number(TALKER);
    assert_eq!(view["health"], "labeled");
    assert_eq!(
        view["state"], "resting",
        "quarantine starts the plan's rest: {}",
        view["history"]
    );
    let history: Vec<&str> = view["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        history[history.len() - 2..],
        ["quarantined", "resting"],
        "{}",
        view["history"]
    );
    let reason = view["history"][history.len() - 2]["reason"].as_str().unwrap();
    assert!(reason.contains("Spam Likely"), "the quarantine says why: {reason}");
    for i in 0..20 {
        let decision = served.post(
            "/v1/decide",
            json!({"pool": "sales", "to": destination(4, i), "at": at(4, 10 + i).to_string()}),
        );
        assert_ne!(
            decision["caller_id"], TALKER,
            "a quarantined number is never handed out"
        );
    }

    // A month on the handset shows the number clean; after the thirty days'
    // rest a decision moves the clock and the plan moves on.
    served.post(
        "/v1/labels",
        json!({"number": TALKER, "carrier": "verizon", "label": null, "at": at(30, 0).to_string(), "source": "test_call"}),
    );
    assert_eq!(served.number(TALKER)["state"], "resting");
    served.post(
        "/v1/decide",
        json!({"pool": "sales", "to": destination(40, 1), "at": at(35, 0).to_string()}),
    );
    let view = served.number(TALKER);
    assert_eq!(view["state"], "rehab_limited", "{}", view["history"]);

    // SIGTERM, then a restart on the same file finds the same state.
    let before = served.number(TALKER);
    served.terminate();
    let again = Served::start(&db, &["--clock", "event"]);
    let after = again.number(TALKER);
    assert_eq!(after["state"], before["state"]);
    assert_eq!(after["history"], before["history"]);
    assert_eq!(after["metrics"]["windows"], before["metrics"]["windows"]);
    let (_, list) = again.call("GET", "/v1/numbers", None);
    assert_eq!(list["numbers"].as_array().unwrap().len(), 3);

    // One world: the command line, on the same file at the server's instant,
    // gives the same state, health, risk, calls and caps for every number.
    // (An opt-out moves the event clock there without reserving a call, which
    // lives only in the deciding server's memory.)
    let now = at(35, 0);
    again.post("/v1/optouts", json!({"to": destination(41, 1), "at": now.to_string()}));
    let (_, served_list) = again.call("GET", "/v1/numbers", None);
    let served_history = again.number(TALKER)["history"].clone();
    // Reads as of earlier instants follow the same rule as `--at`.
    let earlier = [at(2, 600), at(20, 0)];
    let served_earlier: Vec<Value> = earlier
        .iter()
        .map(|t| {
            let (status, list) = again.call("GET", &format!("/v1/numbers?at={t}"), None);
            assert_eq!(status, 200, "{list}");
            list
        })
        .collect();
    let (status, talker_then) = again.call("GET", &format!("/v1/numbers/{TALKER}?at={}", earlier[0]), None);
    assert_eq!(status, 200, "{talker_then}");
    assert_ne!(
        talker_then["state"], "rehab_limited",
        "the live state is not the state then"
    );
    let (status, refused) = again.call("GET", "/v1/numbers?at=yesterday", None);
    assert_eq!((status, refused["field"].as_str()), (400, Some("at")), "{refused}");
    again.terminate();
    let cli = |args: &[&str]| -> Value {
        let out = Command::new(env!("CARGO_BIN_EXE_dialguard"))
            .args(["--db", db.to_str().unwrap()])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let listed = cli(&["numbers", "list", "--format", "json", "--at", &now.to_string()]);
    for number in [SHORT, TALKER, SPARE] {
        let (a, b) = (summary(&served_list, number), summary(&listed, number));
        for key in ["state", "health", "risk", "calls_today", "cap_today"] {
            assert_eq!(a[key], b[key], "{number} {key}: served {a}, command line {b}");
        }
    }
    for (t, served) in earlier.iter().zip(&served_earlier) {
        let listed = cli(&["numbers", "list", "--format", "json", "--at", &t.to_string()]);
        for number in [SHORT, TALKER, SPARE] {
            let (a, b) = (summary(served, number), summary(&listed, number));
            for key in ["state", "health", "risk", "calls_today", "cap_today"] {
                assert_eq!(a[key], b[key], "{number} {key} as of {t}: served {a}, command line {b}");
            }
        }
    }
    let story = cli(&["history", TALKER, "--format", "json", "--at", &now.to_string()]);
    assert_eq!(story["state"], "rehab_limited");
    let served_states: Vec<&Value> = served_history.as_array().unwrap().iter().map(|c| &c["state"]).collect();
    let changes: Vec<String> = story["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| {
            h["text"]
                .as_str()?
                .strip_prefix("→ ")
                .map(|t| t.split(':').next().unwrap().to_owned())
        })
        .collect();
    assert_eq!(
        served_states.iter().map(|s| s.as_str().unwrap()).collect::<Vec<_>>(),
        changes,
        "{served_history} vs {story}"
    );
}
