//! Several `dialguard serve` processes on one PostgreSQL log: what one
//! accepts the others apply, one of them leads the tenant (decides its
//! state changes, which the others read), and when the leader is killed
//! with SIGKILL another takes the lead and goes on, with nothing accepted
//! lost or counted twice.
//!
//! Needs the PostgreSQL at `DIALGUARD_TEST_PG` (default
//! `postgres://postgres@127.0.0.1:5432/test`, trust auth); the test works in
//! a schema of its own and drops it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod common;

use common::Schema;

/// One server process on the shared log, its stderr collected as it comes.
struct Served {
    child: Child,
    addr: String,
    /// The startup line that says what this server leads.
    shared: String,
    stderr: Arc<Mutex<String>>,
}

impl Served {
    fn start(url: &str, dir: &std::path::Path) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dialguard"))
            .arg("--db")
            .arg(dir.join("unused.db"))
            .args([
                "--database-url",
                url,
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--clock",
                "event",
            ])
            .env_remove("DIALGUARD_DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("dialguard starts");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut lines = Vec::new();
        for _ in 0..3 {
            let mut line = String::new();
            stdout.read_line(&mut line).unwrap();
            lines.push(line.trim().to_owned());
        }
        let addr = lines[0]
            .strip_prefix("dialguard listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {:?}", lines[0]))
            .to_owned();
        assert!(lines[2].starts_with("shared log:"), "{lines:?}");
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let mut pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Served {
            child,
            addr,
            shared: lines[2].clone(),
            stderr,
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let (status, value, _) = request(&self.addr, method, path, body);
        (status, value)
    }

    fn post(&self, path: &str, body: Value) -> Value {
        let (status, value) = self.call("POST", path, Some(&body));
        assert_eq!(status, 200, "POST {path} {body}: {value}");
        value
    }

    fn number(&self, number: &str) -> Option<Value> {
        let (status, value) = self.call("GET", &format!("/v1/numbers/{number}"), None);
        (status == 200).then_some(value)
    }

    fn kill(mut self) {
        let status = Command::new("kill")
            .args(["-KILL", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        self.child.wait().unwrap();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

enum Decided {
    /// Answered by the server at this address.
    Answer(String, Value),
    /// Answered by the leader the first server redirected to.
    Redirected(String, Value),
    /// No answer yet (a leader just went): why.
    Retry(String),
}

/// `POST /v1/decide` as a client that follows redirects sends it.
fn decide(served: &Served, question: &Value) -> Decided {
    let (status, body, location) = request(&served.addr, "POST", "/v1/decide", Some(question));
    match status {
        200 => Decided::Answer(served.addr.clone(), body),
        307 => {
            let location = location.expect("a redirect says where");
            let target = location
                .strip_prefix("http://")
                .and_then(|rest| rest.strip_suffix("/v1/decide"))
                .unwrap_or_else(|| panic!("redirected to {location}"))
                .to_owned();
            if TcpStream::connect(&target).is_err() {
                return Decided::Retry(format!("redirected to {target}, which is gone"));
            }
            match request(&target, "POST", "/v1/decide", Some(question)) {
                (200, body, _) => Decided::Redirected(target, body),
                (status, body, _) => Decided::Retry(format!("{target} answered {status} {body}")),
            }
        }
        503 => Decided::Retry(format!("503 {body}")),
        other => panic!("decide answered {other}: {body}"),
    }
}

/// One request over a fresh connection: status, JSON body (null when the
/// body is not JSON) and the `Location` header.
fn request(addr: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, Value, Option<String>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    let payload = body.map(Value::to_string).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete HTTP response");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let location = head
        .lines()
        .find_map(|line| {
            line.strip_prefix("location: ")
                .or_else(|| line.strip_prefix("Location: "))
        })
        .map(str::to_owned);
    (status, serde_json::from_str(body).unwrap_or(Value::Null), location)
}

/// Polls `check` until it holds, failing after `limit`; how long it took.
fn within(limit: Duration, what: &str, mut check: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !check() {
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
    started.elapsed()
}

/// 2026-03-02 15:00 UTC plus `minutes`: a Monday morning in New York.
fn at(minutes: i64) -> String {
    jiff::Timestamp::from_second(1_772_463_600 + minutes * 60)
        .unwrap()
        .to_string()
}

const FIRST: &str = "+14155550101";
const SECOND: &str = "+14155550102";
const THIRD: &str = "+14155550103";
const PERSON: &str = "+12125550199";

fn state(served: &Served, number: &str) -> String {
    served
        .number(number)
        .and_then(|n| n["state"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn history(served: &Served, number: &str) -> Vec<Value> {
    served.number(number).unwrap()["history"].as_array().unwrap().clone()
}

fn attempts_30d(served: &Served, number: &str) -> u64 {
    let view = served.number(number).unwrap();
    view["metrics"]["windows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["window"] == "30d")
        .and_then(|w| w["attempts"].as_u64())
        .unwrap()
}

#[test]
fn servers_on_one_log_share_events_one_leads_and_another_takes_over_when_it_dies() {
    let schema = Schema::new("cluster_takeover");
    let dir = tempfile::tempdir().unwrap();
    let url = schema.url();
    let a = Served::start(&url, dir.path());
    let b = Served::start(&url, dir.path());
    assert!(a.shared.contains("leads default"), "{}", a.shared);
    assert!(b.shared.contains("leads none; follows default"), "{}", b.shared);

    // Registered on A, known on B.
    for number in [FIRST, SECOND, THIRD] {
        let (status, body) = a.call(
            "PUT",
            &format!("/v1/numbers/{number}"),
            Some(&json!({"pool": "sales", "acquired_at": "2026-01-05T00:00:00Z"})),
        );
        assert_eq!(status, 200, "{body}");
    }
    within(Duration::from_secs(5), "B learns A's registrations", || {
        [FIRST, SECOND, THIRD].iter().all(|n| b.number(n).is_some())
    });

    // An opt-out accepted by B (the follower) denies at A (the leader),
    // where B sends the tenant's decisions.
    let question = |minute| json!({"pool": "sales", "to": PERSON, "at": at(minute)});
    let Decided::Redirected(leader, first) = decide(&b, &question(0)) else {
        panic!("B sends decisions to the leader");
    };
    assert_eq!(
        (leader.as_str(), first["decision"].as_str()),
        (a.addr.as_str(), Some("allow")),
        "{first}"
    );
    b.post("/v1/optouts", json!({"to": PERSON, "at": at(1)}));
    let delay = within(Duration::from_secs(5), "A honours B's opt-out", || {
        let answer = a.post("/v1/decide", question(2));
        answer["reason"] == "opted_out"
    });
    eprintln!("opt-out accepted on B denied on A after {delay:?}");

    // Calls accepted by A count once everywhere, even when sent to B again.
    let calls: Vec<Value> = (0..5)
        .map(|i| {
            json!({"id": format!("c{i}"), "from": FIRST, "to": format!("+1212555{:04}", 1000 + i),
                   "started_at": at(3 + i), "ended_at": at(4 + i), "outcome": "no_answer"})
        })
        .collect();
    let on_a = a.post("/v1/calls", json!({ "calls": calls }));
    assert_eq!(on_a["accepted"], 5, "{on_a}");
    let on_b = b.post("/v1/calls", json!({ "calls": calls }));
    assert_eq!(
        (on_b["accepted"].as_u64(), on_b["duplicates"].as_u64()),
        (Some(0), Some(5)),
        "{on_b}"
    );
    within(Duration::from_secs(5), "B counts A's calls", || {
        attempts_30d(&b, FIRST) == 5
    });

    // A label reported to the follower is judged by the leader, once.
    b.post(
        "/v1/labels",
        json!({"number": SECOND, "carrier": "att", "label": "Spam Likely", "at": at(10)}),
    );
    within(Duration::from_secs(5), "the leader's quarantine reaches B", || {
        state(&b, SECOND) != "active"
    });
    within(Duration::from_secs(5), "A and B agree on the history", || {
        history(&a, SECOND) == history(&b, SECOND)
    });
    let changes = history(&a, SECOND).len();
    assert!(changes >= 1, "a quarantine is in the history");

    // Decisions through both servers, every allowed call's record sent to
    // the server that answered; the leader is killed halfway through.
    let mut allowed: Vec<(String, i64)> = Vec::new();
    let mut a = Some(a);
    let mut redirected = 0;
    let mut killed_at = None;
    for i in 0..60i64 {
        if i == 30 {
            a.take().unwrap().kill();
            killed_at = Some(Instant::now());
        }
        let second = 600 + 7 * i;
        let when = jiff::Timestamp::from_second(1_772_463_600 + second).unwrap();
        let question = json!({"pool": "sales", "to": format!("+1212556{:04}", i), "at": when.to_string()});
        let asked = match (&a, i % 2) {
            (Some(a), 0) => a,
            _ => &b,
        };
        let started = Instant::now();
        let (answered_by, answer) = loop {
            match decide(asked, &question) {
                Decided::Answer(server, answer) => break (server, answer),
                Decided::Redirected(server, answer) => {
                    redirected += 1;
                    break (server, answer);
                }
                Decided::Retry(why) => {
                    assert!(started.elapsed() < Duration::from_secs(15), "decision {i}: {why}");
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        };
        let Some(caller) = answer["caller_id"].as_str() else {
            continue;
        };
        allowed.push((caller.to_owned(), second));
        let ended = jiff::Timestamp::from_second(1_772_463_600 + second + 3).unwrap();
        let record = json!({"calls": [{"id": format!("t{i}"), "from": caller, "to": question["to"],
            "started_at": when.to_string(), "ended_at": ended.to_string(), "outcome": "no_answer"}]});
        let server = if answered_by == b.addr { &b } else { a.as_ref().unwrap() };
        assert_eq!(server.post("/v1/calls", record)["accepted"], 1);
    }
    assert!(redirected > 0, "B sent A's decisions to A while A led");
    assert!(allowed.len() >= 20, "too few allowed: {allowed:?}");
    for number in [FIRST, THIRD] {
        let seconds: Vec<i64> = allowed.iter().filter(|(n, _)| n == number).map(|(_, s)| *s).collect();
        for pair in seconds.windows(2) {
            assert!(
                pair[1] - pair[0] >= 20,
                "{number} paced {}s apart: {seconds:?}",
                pair[1] - pair[0]
            );
        }
    }
    let (_, list) = b.call("GET", "/v1/numbers", None);
    for entry in list["numbers"].as_array().unwrap() {
        let number = entry["number"].as_str().unwrap();
        let decided = allowed.iter().filter(|(n, _)| n == number).count() as u64;
        let cap = entry["cap_today"].as_u64();
        assert!(cap.is_some() || number != FIRST, "an active number has a cap: {entry}");
        if let Some(cap) = cap {
            assert!(
                decided <= cap,
                "{number}: {decided} calls allowed against a cap of {cap}: {entry}"
            );
        }
    }
    let takeover = within(Duration::from_secs(15), "B takes the lead", || {
        b.stderr.lock().unwrap().contains("now leads tenant default")
    });
    eprintln!(
        "B led within {:?} of A's kill ({takeover:?} after traffic resumed)",
        killed_at.unwrap().elapsed()
    );
    b.post(
        "/v1/labels",
        json!({"number": THIRD, "carrier": "verizon", "label": "Scam Likely", "at": at(20)}),
    );
    within(Duration::from_secs(5), "B quarantines on its own", || {
        state(&b, THIRD) != "active"
    });
    let more: Vec<Value> = (5..8)
        .map(|i| {
            json!({"id": format!("c{i}"), "from": FIRST, "to": format!("+1212555{:04}", 1000 + i),
                   "started_at": at(21 + i), "ended_at": at(22 + i), "outcome": "no_answer"})
        })
        .collect();
    let mut resent = calls.clone();
    resent.extend(more);
    let after = b.post("/v1/calls", json!({ "calls": resent }));
    assert_eq!(
        (after["accepted"].as_u64(), after["duplicates"].as_u64()),
        (Some(3), Some(5)),
        "{after}"
    );
    let first_calls = 8 + allowed.iter().filter(|(n, _)| n == FIRST).count() as u64;
    assert_eq!(attempts_30d(&b, FIRST), first_calls, "every accepted call counted once");

    // A newcomer replays the log and sees what both wrote, each once.
    let c = Served::start(&url, dir.path());
    assert!(c.shared.contains("follows default"), "B still leads: {}", c.shared);
    assert_eq!(attempts_30d(&c, FIRST), first_calls);
    assert_eq!(history(&c, SECOND).len(), changes, "no change recorded twice");
    assert_eq!(history(&c, THIRD), history(&b, THIRD));
    let answer = b.post("/v1/decide", json!({"pool": "sales", "to": PERSON, "at": at(30)}));
    assert_eq!(answer["reason"], "opted_out", "{answer}");
    let Decided::Redirected(leader, _) = decide(&c, &json!({"pool": "sales", "to": PERSON, "at": at(30)})) else {
        panic!("the newcomer sends decisions to B");
    };
    assert_eq!(leader, b.addr);
}
