//! A real server on a free loopback port, run on a thread of its own, and a
//! blocking client to talk to it as a dialer would.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use dialguard_server::{ClockMode, ServeOptions, Server, ServerConfig};
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::Value;

pub struct TestServer {
    pub addr: SocketAddr,
    pub db: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    client: Client,
    token: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

pub fn config(text: &str) -> ServerConfig {
    ServerConfig::from_toml(text, "test.toml", Path::new(".")).expect("test config parses")
}

impl TestServer {
    /// A server without tokens on a fresh database, with the event clock.
    pub fn start() -> TestServer {
        TestServer::with(ServerConfig::default(), ClockMode::Event)
    }

    pub fn with(config: ServerConfig, clock: ClockMode) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("dialguard.db");
        let mut server = TestServer::on(&db, config, clock);
        server._dir = Some(dir);
        server
    }

    /// A server on an existing database file (for restarts).
    pub fn on(db: &Path, config: ServerConfig, clock: ClockMode) -> TestServer {
        let server = Server::open(ServeOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            log: dialguard_store::Location::File(db.to_path_buf()),
            clock,
            config,
            dnc: None,
            advertise: None,
        })
        .expect("the server opens");
        let addr = server.local_addr();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime
                .block_on(server.run(async {
                    let _ = stopped.await;
                }))
                .expect("the server stops cleanly");
        });
        TestServer {
            addr,
            db: db.to_path_buf(),
            stop: Some(stop),
            thread: Some(thread),
            client: Client::new(),
            token: None,
            _dir: None,
        }
    }

    /// Sends this bearer token with every request from now on.
    pub fn token(mut self, token: &str) -> TestServer {
        self.token = Some(token.to_owned());
        self
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn auth(&self, request: RequestBuilder) -> RequestBuilder {
        match &self.token {
            Some(t) => request.bearer_auth(t),
            None => request,
        }
    }

    pub fn get(&self, path: &str) -> Response {
        self.auth(self.client.get(self.url(path))).send().unwrap()
    }

    pub fn post_raw(&self, path: &str, body: impl Into<reqwest::blocking::Body>) -> Response {
        self.auth(self.client.post(self.url(path)))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .unwrap()
    }

    pub fn post(&self, path: &str, body: &Value) -> Response {
        self.post_raw(path, body.to_string())
    }

    pub fn put(&self, path: &str, body: &Value) -> Response {
        self.auth(self.client.put(self.url(path)))
            .body(body.to_string())
            .send()
            .unwrap()
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Stops the server as a signal would: requests in flight finish and
    /// the log is written before this returns.
    pub fn stop(mut self) -> PathBuf {
        self.shutdown();
        self.db.clone()
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            thread.join().expect("the server thread ends");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Status and JSON body.
pub fn json(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().unwrap();
    let value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, value)
}

pub fn register(server: &TestServer, number: &str, pool: &str) {
    let (status, body) = json(server.put(&format!("/v1/numbers/{number}"), &serde_json::json!({"pool": pool})));
    assert_eq!(status, 200, "registering {number}: {body}");
}

/// The part of a page from the element with `id` to the end of its
/// `closing` tag's first occurrence (a wallboard panel: `</section>`).
pub fn part<'a>(page: &'a str, id: &str, closing: &str) -> &'a str {
    let from = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no id={id} on the page"));
    let rest = &page[from..];
    &rest[..rest.find(closing).unwrap_or(rest.len())]
}
