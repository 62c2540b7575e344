//! Alerts reach a real HTTP receiver on loopback: signed, within seconds,
//! and, when the receiver is down, once it is back, across a restart of the
//! server too.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{TestServer, config, json};
use dialguard_server::ClockMode;
use dialguard_server::alerts::signature;
use serde_json::{Value, json};

const SECRET: &str = "whsec-test-secret";
const NUMBER: &str = "+14155550100";

/// One request as the receiver got it.
#[derive(Debug)]
struct Received {
    headers: HashMap<String, String>,
    body: String,
}

/// A webhook receiver on a fixed loopback port that answers 200 to every
/// POST, and can be taken down and brought back on the same port.
struct Receiver200 {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    sent: Arc<Mutex<Sender<Received>>>,
}

impl Receiver200 {
    fn start(port: u16, sent: Arc<Mutex<Sender<Received>>>) -> Receiver200 {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("the receiver binds");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let to = sent.clone();
        let thread = std::thread::spawn(move || {
            while !stopped.load(Ordering::Acquire) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        stream.set_nonblocking(false).unwrap();
                        if let Some(received) = read_request(&stream) {
                            let mut stream = stream;
                            let _ =
                                stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                            let _ = to.lock().unwrap().send(received);
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Receiver200 {
            port,
            stop,
            thread: Some(thread),
            sent,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks/dialguard", self.port)
    }

    /// Stops listening: connections to the port are refused until `start`.
    fn down(mut self) -> (u16, Arc<Mutex<Sender<Received>>>) {
        self.stop.store(true, Ordering::Release);
        self.thread.take().unwrap().join().unwrap();
        (self.port, self.sent.clone())
    }
}

fn read_request(stream: &std::net::TcpStream) -> Option<Received> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    if !line.starts_with("POST ") {
        return None;
    }
    let mut headers = HashMap::new();
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        let (name, value) = trimmed.split_once(':')?;
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
    }
    let length: usize = headers.get("content-length")?.parse().ok()?;
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Received {
        headers,
        body: String::from_utf8(body).ok()?,
    })
}

fn alert_config(url: &str) -> dialguard_server::ServerConfig {
    config(&format!(
        "[[alerts]]\nname = \"ops\"\nurl = \"{url}\"\nsecret = \"{SECRET}\"\non = [\"label\", \"quarantine\"]\n"
    ))
}

/// The number, in use since before the labels below.
fn register(server: &TestServer) {
    let (status, body) = json(server.put(
        &format!("/v1/numbers/{NUMBER}"),
        &json!({"pool": "sales", "acquired_at": "2026-02-01T00:00:00Z"}),
    ));
    assert_eq!(status, 200, "{body}");
}

fn post_label(server: &TestServer, at: &str) {
    let (status, body) = json(server.post(
        "/v1/labels",
        &json!({"number": NUMBER, "carrier": "verizon", "label": "Spam Likely", "at": at, "source": "test_call"}),
    ));
    assert_eq!(status, 200, "{body}");
}

/// Everything received within `wait`, until `want` alerts came.
fn collect(rx: &Receiver<Received>, want: usize, wait: Duration) -> Vec<Received> {
    let until = Instant::now() + wait;
    let mut got = Vec::new();
    while got.len() < want {
        let left = until.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(r) => got.push(r),
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
        }
    }
    got
}

/// The wallboard's delivery-log entry holding `text`, if any.
fn board_line(board: &str, text: &str) -> Option<String> {
    common::part(board, "deliveries", "</section>")
        .split("<li")
        .find(|li| li.contains(text))
        .map(str::to_owned)
}

fn body(r: &Received) -> Value {
    serde_json::from_str(&r.body).unwrap()
}

fn assert_signed(r: &Received) {
    let timestamp: i64 = r.headers["x-dialguard-timestamp"].parse().unwrap();
    assert_eq!(
        r.headers["x-dialguard-signature"],
        signature(SECRET, timestamp, &r.body),
        "the signature verifies with the endpoint's secret"
    );
}

#[test]
fn a_label_reaches_the_receiver_signed_within_two_seconds() {
    let (tx, rx) = channel();
    let receiver = Receiver200::start(0, Arc::new(Mutex::new(tx)));
    let server = TestServer::with(alert_config(&receiver.url()), ClockMode::Event);
    register(&server);
    let posted = Instant::now();
    post_label(&server, "2026-03-02T15:00:00Z");

    let got = collect(&rx, 2, Duration::from_secs(5));
    assert!(
        posted.elapsed() < Duration::from_secs(2),
        "both alerts within 2 s, took {:?}",
        posted.elapsed()
    );
    let kinds: Vec<Value> = got.iter().map(|r| body(r)["kind"].clone()).collect();
    assert_eq!(
        kinds,
        [json!("label"), json!("quarantine")],
        "the label, then the quarantine it caused"
    );
    for r in &got {
        assert_signed(r);
        assert_eq!(body(r)["number"], NUMBER);
        assert_eq!(r.headers["x-dialguard-alert-id"], body(r)["id"].as_str().unwrap());
    }
    assert_eq!(body(&got[0])["label"], "Spam Likely");
    assert_eq!(body(&got[0])["at"], "2026-03-02T15:00:00Z");

    // The daily check finding the same label again is not news.
    post_label(&server, "2026-03-03T15:00:00Z");
    assert!(
        collect(&rx, 1, Duration::from_millis(1500)).is_empty(),
        "a label already known sends nothing"
    );
    drop(receiver);
}

#[test]
fn alerts_wait_for_a_receiver_that_is_down_even_across_a_restart() {
    let (tx, rx) = channel();
    let receiver = Receiver200::start(0, Arc::new(Mutex::new(tx)));
    let url = receiver.url();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("dialguard.db");
    let server = TestServer::on(&db, alert_config(&url), ClockMode::Event);
    register(&server);
    // The receiver goes down before anything happens.
    let (port, sent) = receiver.down();
    post_label(&server, "2026-03-02T15:00:00Z");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(rx.try_recv().is_err(), "nothing could be delivered");
    // The wallboard's delivery log says so, and when it is tried again.
    let board = server.get("/").text().unwrap();
    let failed = board_line(&board, "label to ops").expect("the failed try is listed");
    assert!(
        failed.contains("not delivered") && failed.contains("tried again in") && failed.contains("overdue"),
        "{failed}"
    );

    // The server restarts with the alerts still waiting; then the receiver
    // comes back.
    server.stop();
    let server = TestServer::on(&db, alert_config(&url), ClockMode::Event);
    let receiver = Receiver200::start(port, sent);
    let got = collect(&rx, 2, Duration::from_secs(10));
    let kinds: Vec<Value> = got.iter().map(|r| body(r)["kind"].clone()).collect();
    assert_eq!(
        kinds,
        [json!("label"), json!("quarantine")],
        "delivered once the receiver is back"
    );
    got.iter().for_each(assert_signed);
    let board = server.get("/").text().unwrap();
    for kind in ["label", "quarantine"] {
        let line = board_line(&board, &format!("{kind} to ops")).expect("the delivery is listed");
        assert!(line.contains("delivered") && !line.contains("not delivered"), "{line}");
    }

    // Delivered means done: another restart sends nothing again.
    server.stop();
    let _server = TestServer::on(&db, alert_config(&url), ClockMode::Event);
    assert!(
        collect(&rx, 1, Duration::from_millis(1500)).is_empty(),
        "an alert delivered is not sent again after a restart"
    );
    drop(receiver);
}

#[test]
fn an_alert_endpoint_the_configuration_cannot_use_is_refused_by_name() {
    let err = dialguard_server::ServerConfig::from_toml(
        "[[alerts]]\nname = \"ops\"\nurl = \"http://127.0.0.1:9/\"\ntenant = \"acme\"\n",
        "dialguard.toml",
        std::path::Path::new("."),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("alerts[0].tenant \"acme\" is not a tenant"), "{err}");
    let err = dialguard_server::ServerConfig::from_toml(
        "[[alerts]]\nname = \"ops\"\nurl = \"http://127.0.0.1:9/\"\non = [\"labels\"]\n",
        "dialguard.toml",
        std::path::Path::new("."),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("labels"), "{err}");
}

/// Debian's aiosmtpd on a free loopback port, printing every message it
/// takes to its standard output.
struct SmtpServer {
    child: std::process::Child,
    port: u16,
    lines: Receiver<String>,
}

impl SmtpServer {
    fn start() -> SmtpServer {
        let python = "/usr/bin/python3";
        let here = std::process::Command::new(python)
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            here,
            "the email alert test needs a local SMTP server: apt-get install -y python3-aiosmtpd"
        );
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = std::process::Command::new(python)
            .args(["-u", "-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("aiosmtpd starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let until = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < until, "aiosmtpd did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        SmtpServer { child, port, lines }
    }

    /// The next message it printed, as its lines.
    fn next_message(&self, wait: Duration) -> Vec<String> {
        let until = Instant::now() + wait;
        let mut message = Vec::new();
        loop {
            let left = until.saturating_duration_since(Instant::now());
            let Ok(line) = self.lines.recv_timeout(left) else {
                panic!("no whole message within {wait:?}; got {message:?}");
            };
            if line.contains("END MESSAGE") {
                return message;
            }
            if !line.contains("MESSAGE FOLLOWS") {
                message.push(line);
            }
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_label_reaches_a_real_smtp_server_as_an_email() {
    let smtp = SmtpServer::start();
    let server = TestServer::with(
        config(&format!(
            "[[alerts]]\nname = \"ops-mail\"\nurl = \"smtp://127.0.0.1:{}\"\n\
             from = \"dialguard <alerts@example.com>\"\nto = [\"ops@example.com\", \"lead@example.com\"]\n\
             on = [\"label\"]\n",
            smtp.port
        )),
        ClockMode::Event,
    );
    register(&server);
    post_label(&server, "2026-03-02T15:00:00Z");
    let message = smtp.next_message(Duration::from_secs(5)).join("\n");
    assert!(
        message.contains("Subject: dialguard [default]: +14155550100 labeled"),
        "{message}"
    );
    assert!(
        message.contains("ops@example.com") && message.contains("lead@example.com"),
        "{message}"
    );
    assert!(message.contains("alerts@example.com"), "{message}");
    assert!(
        message.contains("verizon (tns) shows +14155550100 as \"Spam Likely\""),
        "{message}"
    );
    assert!(
        message.contains("\"kind\": \"label\""),
        "the alert itself is in the body: {message}"
    );
}

#[test]
fn a_dispute_step_that_falls_due_is_sent_once() {
    let (tx, rx) = channel();
    let receiver = Receiver200::start(0, Arc::new(Mutex::new(tx)));
    let url = receiver.url();
    let alerts = format!("[[alerts]]\nname = \"disputes\"\nurl = \"{url}\"\non = [\"dispute_due\"]\n");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("dialguard.db");
    let server = TestServer::on(&db, config(&alerts), ClockMode::Event);
    register(&server);
    post_label(&server, "2026-03-02T15:00:00Z");
    // Three weeks later (the event clock moves with what is posted), the
    // engines' steps are overdue.
    let later = json!({"number": NUMBER, "carrier": "att", "at": "2026-03-23T15:00:00Z", "source": "test_call"});
    assert_eq!(json(server.post("/v1/labels", &later)).0, 200);
    let got = collect(&rx, 3, Duration::from_secs(5));
    let steps: Vec<Value> = got.iter().map(|r| body(r)["dispute"]["step"].clone()).collect();
    assert_eq!(steps, [json!("hiya"), json!("tns"), json!("first_orion")], "{got:?}");
    for r in &got {
        let b = body(r);
        assert_eq!(b["kind"], "dispute_due");
        assert_eq!(b["dispute"]["action"], "file");
        assert!(b["dispute"]["days_late"].as_i64().unwrap() > 0, "{b}");
        assert!(b["text"].as_str().unwrap().contains("days late"), "{b}");
    }
    let rest: Vec<String> = collect(&rx, 10, Duration::from_millis(800))
        .iter()
        .map(|r| r.body.clone())
        .collect();

    // Sent once: not again on the next event, nor after a restart.
    let again = json!({"number": NUMBER, "carrier": "att", "at": "2026-03-23T16:00:00Z", "source": "test_call"});
    assert_eq!(json(server.post("/v1/labels", &again)).0, 200);
    server.stop();
    let _server = TestServer::on(&db, config(&alerts), ClockMode::Event);
    let repeated = collect(&rx, 1, Duration::from_millis(1500));
    assert!(
        repeated.is_empty(),
        "sent again: {:?} (first: {rest:?})",
        repeated.iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    drop(receiver);
}

#[test]
fn a_pool_nearly_at_its_caps_is_named_once_a_day() {
    let (tx, rx) = channel();
    let receiver = Receiver200::start(0, Arc::new(Mutex::new(tx)));
    let url = receiver.url();
    let alerts = format!("[[alerts]]\nname = \"floor\"\nurl = \"{url}\"\non = [\"pool_headroom\"]\n");
    let server = TestServer::with(config(&alerts), ClockMode::Event);
    register(&server);
    let call = |i: u32, day: u32| {
        json!({"id": format!("c-{day}-{i}"), "from": NUMBER, "to": format!("+1212555{:04}", 100 + i),
               "started_at": format!("2026-03-{day:02}T15:{:02}:{:02}Z", i / 60, i % 60),
               "ended_at": format!("2026-03-{day:02}T15:{:02}:{:02}Z", i / 60 + 1, i % 60),
               "outcome": "no_answer"})
    };
    let cap = || {
        let (status, list) = json(server.get("/v1/numbers"));
        assert_eq!(status, 200, "{list}");
        let n = &list["numbers"][0];
        (n["calls_today"].as_u64().unwrap(), n["cap_today"].as_u64().unwrap())
    };
    // One call sets the clock; the pool is far from its caps.
    assert_eq!(json(server.post("/v1/calls", &call(0, 2))).0, 200);
    let (_, caps) = cap();
    assert!(caps > 1, "the number may call today");
    assert!(
        collect(&rx, 1, Duration::from_millis(1500)).is_empty(),
        "nothing to say with room left"
    );
    // Nine tenths of the caps used: the floor hears of it, once.
    let want = (caps as f64 * alerts_share()).ceil() as u32;
    let batch: Vec<Value> = (1..want).map(|i| call(i, 2)).collect();
    assert_eq!(json(server.post("/v1/calls", &json!({"calls": batch}))).0, 200);
    let (calls, _) = cap();
    assert!(calls >= want as u64, "{calls} calls today");
    let got = collect(&rx, 1, Duration::from_secs(5));
    assert_eq!(got.len(), 1, "one alert; {:?} want {want} of {caps}", cap());
    let b = body(&got[0]);
    assert_eq!(b["kind"], "pool_headroom");
    assert_eq!(b["pool"]["name"], "sales");
    assert_eq!(b["pool"]["calls"], calls);
    assert!(b.get("number").is_none(), "{b}");
    assert!(b["text"].as_str().unwrap().contains("pool sales has placed"), "{b}");
    // Another call the same day says nothing new.
    assert_eq!(json(server.post("/v1/calls", &call(want, 2))).0, 200);
    assert!(collect(&rx, 1, Duration::from_millis(1500)).is_empty(), "once a day");
    drop(receiver);
}

fn alerts_share() -> f64 {
    dialguard_server::alerts::HEADROOM_USED
}

#[test]
fn a_number_answering_far_below_its_pool_is_reported_as_probably_labeled() {
    let (tx, rx) = channel();
    let receiver = Receiver200::start(0, Arc::new(Mutex::new(tx)));
    let url = receiver.url();
    let alerts = format!("[[alerts]]\nname = \"floor\"\nurl = \"{url}\"\non = [\"suspected_label\"]\n");
    let server = TestServer::with(config(&alerts), ClockMode::Event);
    register(&server);
    let peer = "+14155550101";
    let (status, b) = json(server.put(
        &format!("/v1/numbers/{peer}"),
        &json!({"pool": "sales", "acquired_at": "2026-02-01T00:00:00Z"}),
    ));
    assert_eq!(status, 200, "{b}");
    // Today: 60 calls from the number, 3 answered; 120 from its peer, 48.
    let calls = |from: &str, count: u32, answered: u32, first: u32| -> Vec<Value> {
        (0..count)
            .map(|i| {
                let k = first + i;
                let start = format!("2026-03-02T{:02}:{:02}:{:02}Z", 14 + k / 3600, k / 60 % 60, k % 60);
                let mut call = json!({"id": format!("{from}-{i}"), "from": from,
                    "to": format!("+1212555{:04}", k), "started_at": start, "ended_at": start,
                    "outcome": "no_answer"});
                if i < answered {
                    call["outcome"] = json!("answered");
                    call["answered_at"] = json!(start);
                }
                call
            })
            .collect()
    };
    let mut all = calls(NUMBER, 60, 3, 0);
    all.extend(calls(peer, 120, 48, 60));
    assert_eq!(json(server.post("/v1/calls", &json!({"calls": all}))).0, 200);
    // A decision moves the clock on and re-assesses the numbers.
    let ask = json!({"pool": "sales", "to": "+12125559999", "at": "2026-03-02T17:30:00Z"});
    assert_eq!(json(server.post("/v1/decide", &ask)).0, 200);
    let got = collect(&rx, 1, Duration::from_secs(6));
    assert_eq!(got.len(), 1, "one alert");
    let b = body(&got[0]);
    assert_eq!(b["kind"], "suspected_label");
    assert_eq!(b["number"], NUMBER);
    let text = b["text"].as_str().unwrap();
    assert!(
        text.contains("probably labeled") && text.contains("suspected labeled"),
        "{text}"
    );
    drop(receiver);
}
