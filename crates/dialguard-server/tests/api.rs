//! The v1 contract over real HTTP: shapes, errors, tenancy, webhooks,
//! idempotency, metrics and the OpenAPI document.

mod common;

use base64::Engine as _;
use common::{TestServer, config, json, register};
use dialguard_server::{ClockMode, ServeOptions, Server};
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};

const DAY1: &str = "2026-03-02T15:00:00Z";

fn call(id: &str, from: &str, to: &str, start: &str, end: &str, outcome: &str) -> Value {
    json!({"id": id, "from": from, "to": to, "started_at": start, "ended_at": end, "outcome": outcome})
}

#[test]
fn decisions_have_exactly_the_contract_shapes() {
    let server = TestServer::start();
    register(&server, "+14155550100", "sales");
    let (status, allow) = json(server.post(
        "/v1/decide",
        &json!({"pool": "sales", "to": "+12125550123", "at": DAY1}),
    ));
    assert_eq!(
        (status, allow),
        (200, json!({"decision": "allow", "caller_id": "+14155550100"}))
    );
    // The only number is pacing now: the pool is exhausted until the gap passes.
    let (_, busy) = json(server.post(
        "/v1/decide",
        &json!({"pool": "sales", "to": "+12125550124", "at": DAY1}),
    ));
    assert_eq!(
        busy,
        json!({"decision": "deny", "reason": "pool_exhausted", "retry_at": "2026-03-02T15:00:20Z", "retry_after": 20})
    );
    let cases = [
        (
            json!({"pool": "nope", "to": "+12125550123"}),
            json!({"decision": "deny", "reason": "unknown_pool"}),
        ),
        (
            json!({"pool": "sales", "to": "not a number"}),
            json!({"decision": "deny", "reason": "destination_invalid"}),
        ),
        (
            json!({"pool": "sales", "to": "+1415"}),
            json!({"decision": "deny", "reason": "destination_invalid"}),
        ),
        (
            json!({"pool": "nope", "to": ""}),
            json!({"decision": "deny", "reason": "destination_invalid"}),
        ),
    ];
    for (body, want) in cases {
        let (status, got) = json(server.post("/v1/decide", &body));
        assert_eq!((status, &got), (200, &want), "{body}");
    }
}

#[test]
fn malformed_decide_bodies_are_400_naming_the_field() {
    let server = TestServer::start();
    let cases = [
        (json!({"to": "+12125550123"}), Some("pool")),
        (json!({"pool": "sales"}), Some("to")),
        (json!({"pool": "sales", "to": 12125550123_u64}), Some("to")),
        (json!({"pool": ["sales"], "to": "+12125550123"}), Some("pool")),
        (
            json!({"pool": "sales", "to": "+12125550123", "at": "tomorrow"}),
            Some("at"),
        ),
        (
            json!({"pool": "sales", "to": "+12125550123", "known_contact": "yes"}),
            Some("known_contact"),
        ),
        (json!([1, 2]), None),
    ];
    for (body, field) in cases {
        let (status, got) = json(server.post("/v1/decide", &body));
        assert_eq!(status, 400, "{body}: {got}");
        assert_eq!(got["field"].as_str(), field, "{body}: {got}");
        assert!(got["error"].as_str().is_some_and(|e| !e.is_empty()), "{got}");
    }
    let (status, got) = json(server.post_raw("/v1/decide", "{\"pool\":"));
    assert_eq!((status, got["field"].clone()), (400, Value::Null));
    assert!(got["error"].as_str().unwrap().starts_with("the body is not valid JSON"));
}

#[test]
fn a_token_sees_only_its_own_tenants_numbers() {
    let cfg = config(
        r#"tokens = [{ token = "acme-token", tenant = "acme" }, { token = "globex-token", tenant = "globex" }]"#,
    );
    let dir = tempfile::tempdir().unwrap();
    let acme = TestServer::on(&dir.path().join("t.db"), cfg, ClockMode::Event).token("acme-token");
    register(&acme, "+14155550100", "sales");
    let globex = reqwest::blocking::Client::new();
    let as_globex = |path: &str| json(globex.get(acme.url(path)).bearer_auth("globex-token").send().unwrap());
    let (status, list) = as_globex("/v1/numbers");
    assert_eq!((status, list), (200, json!({"numbers": []})));
    let (status, body) = as_globex("/v1/numbers/+14155550100");
    assert_eq!((status, body["field"].as_str()), (404, Some("number")));
    // The pool is acme's too: globex cannot draw a caller id from it.
    let (_, decision) = json(
        globex
            .post(acme.url("/v1/decide"))
            .bearer_auth("globex-token")
            .body(json!({"pool": "sales", "to": "+12125550123", "at": DAY1}).to_string())
            .send()
            .unwrap(),
    );
    assert_eq!(decision, json!({"decision": "deny", "reason": "unknown_pool"}));
    for token in [None, Some("wrong")] {
        let mut request = globex.get(acme.url("/v1/numbers"));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        let (status, body) = json(request.send().unwrap());
        assert_eq!(status, 401, "{body}");
    }
    let (status, mine) = json(acme.get("/v1/numbers"));
    assert_eq!(
        (status, mine["numbers"][0]["number"].as_str()),
        (200, Some("+14155550100"))
    );
    // Operational endpoints carry no tenant data and need no token.
    assert_eq!(globex.get(acme.url("/healthz")).send().unwrap().status(), 200);
    // /metrics counts the numbers of the token's tenant only, and without a
    // token says nothing.
    assert_eq!(globex.get(acme.url("/metrics")).send().unwrap().status(), 401);
    let scrape = |token: &str| {
        globex
            .get(acme.url("/metrics"))
            .bearer_auth(token)
            .send()
            .unwrap()
            .text()
            .unwrap()
    };
    assert!(scrape("acme-token").contains("dialguard_numbers{health=\"healthy\"} 1"));
    let theirs = scrape("globex-token");
    assert!(theirs.contains("dialguard_numbers{health=\"healthy\"} 0"), "{theirs}");
    assert!(!theirs.contains("pool=\"sales\""), "{theirs}");
}

#[test]
fn without_tokens_only_loopback_may_be_served() {
    let dir = tempfile::tempdir().unwrap();
    let refused = Server::open(ServeOptions {
        listen: "0.0.0.0:0".parse().unwrap(),
        log: dialguard_store::Location::File(dir.path().join("t.db")),
        clock: ClockMode::Wall,
        config: Default::default(),
        dnc: None,
        advertise: None,
    })
    .err()
    .expect("an open server on every interface is refused");
    assert!(
        refused
            .to_string()
            .starts_with("refusing to listen on 0.0.0.0:0 without API tokens"),
        "{refused}"
    );
}

#[test]
fn a_batch_lands_its_good_calls_rejects_bad_ones_by_index_and_counts_resends_once() {
    let server = TestServer::start();
    register(&server, "+14155550100", "sales");
    let good = |id: &str| {
        call(
            id,
            "+14155550100",
            "+12125550123",
            "2026-03-02T15:00:00Z",
            "2026-03-02T15:02:00Z",
            "answered",
        )
    };
    let batch = json!({"calls": [good("a"), {"id": "b", "from": "+14155550100"}, good("c"), 42]});
    let (status, body) = json(server.post("/v1/calls", &batch));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["accepted"].as_u64(), body["duplicates"].as_u64()),
        (Some(2), Some(0))
    );
    let rejected: Vec<u64> = body["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    assert_eq!(rejected, vec![1, 3]);
    assert_eq!(body["rejected"][0]["error"], "calls[1].to is missing (a string)");
    // The same calls again, plus one new: only the new one counts.
    let again = json!({"calls": [good("a"), good("c"), good("d")]});
    let (_, body) = json(server.post("/v1/calls", &again));
    assert_eq!(body, json!({"accepted": 1, "duplicates": 2, "rejected": []}));
    let (_, view) = json(server.get("/v1/numbers/+14155550100"));
    let day = view["metrics"]["windows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["window"] == "24h")
        .unwrap()
        .clone();
    assert_eq!(day["attempts"], 3, "{day}");
    // A single call object that does not parse is a 400; so is a body that is not JSON.
    let (status, body) = json(server.post(
        "/v1/calls",
        &json!({"id": "x", "from": "+14155550100", "to": "+12125550123", "started_at": DAY1}),
    ));
    assert_eq!((status, body["field"].as_str()), (400, Some("ended_at")));
    let (status, _) = json(server.post_raw("/v1/calls", "calls,from,to"));
    assert_eq!(status, 400);
}

#[test]
fn a_body_over_the_limit_is_a_json_413() {
    let server = TestServer::with(config("body_limit_bytes = 2048"), ClockMode::Event);
    let calls: Vec<Value> = (0..100)
        .map(|i| {
            call(
                &format!("c{i}"),
                "+14155550100",
                "+12125550123",
                DAY1,
                DAY1,
                "no_answer",
            )
        })
        .collect();
    let (status, body) = json(server.post("/v1/calls", &json!({ "calls": calls })));
    assert_eq!(status, 413);
    assert!(
        body["error"].as_str().unwrap().contains("limit of 2048 bytes"),
        "{body}"
    );
}

#[test]
fn a_label_quarantines_the_number_and_the_guard_stops_using_it() {
    let server = TestServer::start();
    let (status, _) = json(server.put(
        "/v1/numbers/+14155550100",
        &json!({"pool": "sales", "acquired_at": "2026-02-01T00:00:00Z"}),
    ));
    assert_eq!(status, 200);
    let (status, body) = json(server.post(
        "/v1/labels",
        &json!({"number": "+14155550100", "carrier": "att", "label": "Spam Likely", "at": DAY1, "source": "test_call"}),
    ));
    assert_eq!((status, body), (200, json!({"accepted": 1, "duplicates": 0})));
    let (_, view) = json(server.get("/v1/numbers/+14155550100"));
    assert_eq!(view["health"], "labeled");
    let states: Vec<&str> = view["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["state"].as_str().unwrap())
        .collect();
    assert!(states.contains(&"quarantined"), "{states:?}");
    assert!(
        !["active", "watch", "aging"].contains(&view["state"].as_str().unwrap()),
        "{}",
        view["state"]
    );
    let (_, decision) = json(server.post(
        "/v1/decide",
        &json!({"pool": "sales", "to": "+12125550123", "at": "2026-03-02T15:05:00Z"}),
    ));
    assert_eq!(decision["reason"], "pool_exhausted", "{decision}");
    // The label opened a dispute calendar; filing its first step is recorded.
    assert_eq!(
        view["disputes"][0]["steps"][0]["status"], "planned",
        "{}",
        view["disputes"]
    );
    let dispute = |body: Value| json(server.post("/v1/numbers/+14155550100/disputes", &body));
    let (status, after) =
        dispute(json!({"step": "hiya", "status": "submitted", "at": "2026-03-03T10:00:00Z", "note": "ticket 881"}));
    assert_eq!(
        (status, &after["disputes"][0]["steps"][0]["status"]),
        (200, &json!("submitted")),
        "{after}"
    );
    let (status, body) = dispute(json!({"step": "hiya", "status": "planned", "at": "2026-03-04T10:00:00Z"}));
    assert_eq!((status, body["field"].as_str()), (409, Some("status")), "{body}");
    let (status, body) = dispute(json!({"step": "sprint", "status": "submitted"}));
    assert_eq!((status, body["field"].as_str()), (400, Some("step")), "{body}");
    // Restarting a stopped number by registration is refused: 409.
    let (status, body) = json(server.put("/v1/numbers/+14155550100", &json!({"pool": "sales", "state": "active"})));
    assert_eq!((status, body["field"].as_str()), (409, Some("state")), "{body}");
}

#[test]
fn a_misspelled_field_is_a_400_naming_it_and_an_unrelated_one_is_ignored() {
    let server = TestServer::start();
    // `stat` would have registered the number active, its default.
    let (status, body) = json(server.put("/v1/numbers/+14155550100", &json!({"pool": "sales", "stat": "aging"})));
    assert_eq!((status, body["field"].as_str()), (400, Some("stat")), "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("did you mean state?"),
        "{body}"
    );
    let (status, _) = json(server.get("/v1/numbers/+14155550100"));
    assert_eq!(status, 404, "nothing was registered");
    register(&server, "+14155550100", "sales");
    let at = "2026-03-02T15:00:00Z";
    for (path, body, field) in [
        (
            "/v1/decide",
            json!({"pool": "sales", "to": "+12125550123", "at": at, "knwon_contact": true}),
            "knwon_contact",
        ),
        (
            "/v1/labels",
            json!({"number": "+14155550100", "carrier": "att", "lable": "Spam Likely", "at": at}),
            "lable",
        ),
        (
            "/v1/complaints",
            json!({"number": "+14155550100", "At": at, "at": at}),
            "At",
        ),
        (
            "/v1/optouts",
            json!({"to_number": "+12125550123", "to": "+12125550123", "at": at}),
            "to_number",
        ),
        (
            "/v1/consents",
            json!({"to": "+12125550123", "at": at, "pools": "sales"}),
            "pools",
        ),
        (
            "/v1/numbers/+14155550100/state",
            json!({"state": "retired", "reasons": "x", "reason": "x"}),
            "reasons",
        ),
    ] {
        let (status, got) = json(server.post(path, &body));
        assert_eq!(
            (status, got["field"].as_str()),
            (400, Some(field)),
            "{path} {body}: {got}"
        );
    }
    // In a batch, the call with the slip is rejected by index; the others land.
    let good = call(
        "c1",
        "+14155550100",
        "+12125550123",
        at,
        "2026-03-02T15:01:00Z",
        "answered",
    );
    let mut slip = call(
        "c2",
        "+14155550100",
        "+12125550124",
        at,
        "2026-03-02T15:01:00Z",
        "answered",
    );
    slip["sipcode"] = json!(200);
    let (status, got) = json(server.post("/v1/calls", &json!({"calls": [good, slip]})));
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["accepted"], 1, "{got}");
    assert_eq!(got["rejected"][0]["field"], "calls[1].sipcode", "{got}");
    // A field no version reads and no slip of one is ignored: clients may
    // send more than this version reads.
    let mut extra = call(
        "c3",
        "+14155550100",
        "+12125550125",
        at,
        "2026-03-02T15:01:00Z",
        "answered",
    );
    extra["campaign"] = json!("spring");
    let (status, got) = json(server.post("/v1/calls", &extra));
    assert_eq!((status, got["accepted"].as_u64()), (200, Some(1)), "{got}");
    let (status, got) = json(server.post(
        "/v1/decide",
        &json!({"pool": "sales", "to": "+12125550126", "at": at, "campaign": "spring"}),
    ));
    assert_eq!((status, got["decision"].as_str()), (200, Some("allow")), "{got}");
}

#[test]
fn a_body_sent_as_another_type_than_json_is_a_415_that_says_what_to_send() {
    let server = TestServer::start();
    register(&server, "+14155550100", "sales");
    let decide = json!({"pool": "sales", "to": "+12125550123", "at": DAY1}).to_string();
    let send = |content_type: Option<&str>| {
        let mut request = server.client().post(server.url("/v1/decide")).body(decide.clone());
        if let Some(t) = content_type {
            request = request.header("content-type", t);
        }
        json(request.send().unwrap())
    };
    for wrong in ["application/x-www-form-urlencoded", "text/plain", "application/xml"] {
        let (status, body) = send(Some(wrong));
        assert_eq!(status, 415, "{wrong}: {body}");
        assert!(body["error"].as_str().unwrap().contains("application/json"), "{body}");
    }
    for fine in [
        Some("application/json; charset=utf-8"),
        Some("application/vnd.dialer+json"),
        None,
    ] {
        let (status, body) = send(fine);
        assert_eq!(status, 200, "{fine:?}: {body}");
        assert!(body["decision"].is_string(), "{fine:?}: {body}");
    }
    // The same on the ingest endpoints; Twilio's form-encoded callbacks are
    // their own endpoint and keep their type.
    let (status, _) = json(
        server
            .client()
            .post(server.url("/v1/optouts"))
            .header("content-type", "text/csv")
            .body(json!({"to": "+12125550123", "at": DAY1}).to_string())
            .send()
            .unwrap(),
    );
    assert_eq!(status, 415);
}

#[test]
fn a_label_or_complaint_for_an_unregistered_number_is_refused_with_the_likely_one() {
    let server = TestServer::start();
    register(&server, "+14155550100", "sales");
    register(&server, "+12125550100", "sales");
    // Two digits swapped.
    let label = json!({"number": "+14155551000", "carrier": "att", "label": "Spam Likely", "at": DAY1});
    let (status, body) = json(server.post("/v1/labels", &label));
    assert_eq!((status, body["field"].as_str()), (400, Some("number")), "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("did you mean +14155550100?"),
        "{body}"
    );
    let complaint = json!({"number": "+13105559876", "at": DAY1});
    let (status, body) = json(server.post("/v1/complaints", &complaint));
    assert_eq!((status, body["field"].as_str()), (400, Some("number")), "{body}");
    assert!(!body["error"].as_str().unwrap().contains("did you mean"), "{body}");
    // Nothing was recorded: the registered number is untouched.
    let (_, number) = json(server.get("/v1/numbers/+14155550100"));
    assert_eq!(number["labels"], json!([]), "{number}");
    let right = json!({"number": "+14155550100", "carrier": "att", "label": "Spam Likely", "at": DAY1});
    assert_eq!(json(server.post("/v1/labels", &right)).0, 200);
    let (_, number) = json(server.get("/v1/numbers/+14155550100"));
    assert_eq!(number["labels"].as_array().map(Vec::len), Some(1), "{number}");
}

#[test]
fn numbers_endpoints_answer_404_400_and_409_where_a_user_would_expect() {
    let server = TestServer::start();
    let (status, body) = json(server.get("/v1/numbers/+14155550199"));
    assert_eq!((status, body["field"].as_str()), (404, Some("number")));
    let (status, body) = json(server.get("/v1/numbers/abc"));
    assert_eq!((status, body["field"].as_str()), (400, Some("number")));
    let (status, body) = json(server.put("/v1/numbers/+14155550100", &json!({"pool": ""})));
    assert_eq!((status, body["field"].as_str()), (400, Some("pool")));
    let (status, body) = json(server.put(
        "/v1/numbers/+14155550100",
        &json!({"pool": "sales", "state": "quarantined"}),
    ));
    assert_eq!((status, body["field"].as_str()), (400, Some("state")));
    let (status, body) = json(server.put(
        "/v1/numbers/+14155550100",
        &json!({"pool": "sales", "state": "aging", "acquired_at": "2026-03-01T00:00:00Z", "cnam": "ACME"}),
    ));
    assert_eq!(
        (status, body["state"].as_str(), body["pool"].as_str()),
        (200, Some("aging"), Some("sales"))
    );
    // Re-PUT with another pool moves it.
    let (_, body) = json(server.put("/v1/numbers/+14155550100", &json!({"pool": "support"})));
    assert_eq!(
        (body["pool"].as_str(), body["state"].as_str()),
        (Some("support"), Some("aging"))
    );
    let move_to = |state: &str, reason: &str| {
        json(server.post(
            "/v1/numbers/+14155550100/state",
            &json!({"state": state, "reason": reason, "at": "2026-03-02T00:00:00Z"}),
        ))
    };
    let (status, body) = move_to("retired", "");
    assert_eq!((status, body["field"].as_str()), (400, Some("reason")));
    let (status, body) = move_to("retired", "replaced by +14155550101 (ops ticket 42)");
    assert_eq!((status, body["state"].as_str()), (200, Some("retired")));
    let (status, body) = move_to("retired", "again");
    assert_eq!((status, body["field"].as_str()), (409, Some("state")), "{body}");
    let (status, _) = json(server.post(
        "/v1/numbers/+14155550199/state",
        &json!({"state": "retired", "reason": "x"}),
    ));
    assert_eq!(status, 404);
    let (status, body) = json(server.client().delete(server.url("/v1/numbers")).send().unwrap());
    assert_eq!(status, 405, "{body}");
}

#[test]
fn complaints_optouts_and_consents_are_recorded_and_an_opt_out_is_obeyed() {
    let server = TestServer::start();
    register(&server, "+14155550100", "sales");
    let complaint = json!({"number": "+14155550100", "at": DAY1, "source": "carrier", "id": "r-1"});
    assert_eq!(
        json(server.post("/v1/complaints", &complaint)).1,
        json!({"accepted": 1, "duplicates": 0})
    );
    assert_eq!(
        json(server.post("/v1/complaints", &complaint)).1,
        json!({"accepted": 0, "duplicates": 1})
    );
    let (status, _) = json(server.post(
        "/v1/consents",
        &json!({"to": "+12125550123", "at": DAY1, "pool": "sales"}),
    ));
    assert_eq!(status, 200);
    let (status, got) = json(server.post(
        "/v1/consents",
        &json!({"to": "+12125550124", "at": DAY1, "kind": "ebr_inquiry"}),
    ));
    assert_eq!((status, got["accepted"].as_u64()), (200, Some(1)), "{got}");
    let (status, _) = json(server.post("/v1/optouts", &json!({"to": "+12125550123", "at": DAY1})));
    assert_eq!(status, 200);
    let (_, decision) = json(server.post(
        "/v1/decide",
        &json!({"pool": "sales", "to": "+12125550123", "at": "2026-03-02T16:00:00Z"}),
    ));
    assert_eq!(decision, json!({"decision": "deny", "reason": "opted_out"}));
    for (path, body, field) in [
        ("/v1/optouts", json!({"to": "+12125550123"}), "at"),
        ("/v1/consents", json!({"at": DAY1}), "to"),
        (
            "/v1/consents",
            json!({"to": "+12125550124", "at": DAY1, "kind": "verbal"}),
            "kind",
        ),
        ("/v1/complaints", json!({"number": "555", "at": DAY1}), "number"),
        (
            "/v1/complaints",
            json!({"number": "+14155550100", "at": DAY1, "id": 1.5}),
            "id",
        ),
        (
            "/v1/labels",
            json!({"number": "+14155550100", "carrier": "sprint", "at": DAY1}),
            "carrier",
        ),
    ] {
        let (status, got) = json(server.post(path, &body));
        assert_eq!(
            (status, got["field"].as_str()),
            (400, Some(field)),
            "{path} {body}: {got}"
        );
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

#[test]
fn a_signed_twilio_callback_is_recorded_and_a_forged_one_refused() {
    let cfg = config(
        r#"
        tokens = [{ token = "acme-token", tenant = "acme" }]
        [[twilio]]
        auth_token = "twilio-secret"
        tenant = "acme"
        "#,
    );
    let server = TestServer::with(cfg, ClockMode::Event).token("acme-token");
    register(&server, "+14155550100", "sales");
    let params = [
        ("AccountSid", "AC0000"),
        ("CallSid", "CA1111"),
        ("From", "+14155550100"),
        ("To", "+12125550123"),
        ("Direction", "outbound-api"),
        ("CallStatus", "completed"),
        ("CallDuration", "95"),
        ("Timestamp", "Mon, 02 Mar 2026 15:04:05 +0000"),
    ];
    let owned: Vec<(String, String)> = params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let url = server.url("/v1/webhooks/twilio");
    let signature = dialguard_server::twilio_signature("twilio-secret", &url, &owned);
    let send = |signature: &str, body: String| {
        json(
            server
                .client()
                .post(&url)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("x-twilio-signature", signature)
                .body(body)
                .send()
                .unwrap(),
        )
    };
    let (status, body) = send(&signature, form(&params));
    assert_eq!((status, body), (200, json!({"accepted": 1, "duplicates": 0})));
    // Twilio retries: the same CallSid counts once.
    assert_eq!(
        send(&signature, form(&params)).1,
        json!({"accepted": 0, "duplicates": 1})
    );
    // A status that is not final is acknowledged and not recorded.
    let mut ringing = params;
    ringing[5] = ("CallStatus", "ringing");
    ringing[1] = ("CallSid", "CA2222");
    let ringing_owned: Vec<(String, String)> = ringing
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let ringing_signature = dialguard_server::twilio_signature("twilio-secret", &url, &ringing_owned);
    assert_eq!(
        send(&ringing_signature, form(&ringing)),
        (200, json!({"accepted": 0, "duplicates": 0}))
    );
    let (status, body) = send("", form(&params));
    assert_eq!(status, 403, "{body}");
    let mut tampered = params;
    tampered[6] = ("CallDuration", "3");
    let (status, body) = send(&signature, form(&tampered));
    assert_eq!(status, 403, "{body}");
    let (_, view) = json(server.get("/v1/numbers/+14155550100"));
    let day = view["metrics"]["windows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["window"] == "24h")
        .unwrap()
        .clone();
    assert_eq!(
        (day["attempts"].as_u64(), day["answered"].as_u64()),
        (Some(1), Some(1)),
        "{day}"
    );
}

#[test]
fn a_twilio_callback_with_an_overflowing_duration_or_a_nul_is_a_named_400() {
    // Open server, no [[twilio]]: callbacks are taken unsigned.
    let server = TestServer::start();
    register(&server, "+14155550100", "sales");
    let url = server.url("/v1/webhooks/twilio");
    let send = |pairs: &[(&str, &str)]| {
        json(
            server
                .client()
                .post(&url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form(pairs))
                .send()
                .unwrap(),
        )
    };
    let call = |sid: &'static str, duration: &'static str| {
        vec![
            ("CallSid", sid),
            ("From", "+14155550100"),
            ("To", "+12125550123"),
            ("Direction", "outbound-api"),
            ("CallStatus", "completed"),
            ("CallDuration", duration),
            ("Timestamp", "Mon, 02 Mar 2026 15:04:05 +0000"),
        ]
    };
    for duration in ["99999999999999999999", "-5", "1.5", "9223372036854775807"] {
        let (status, body) = send(&call("CA1", duration));
        assert_eq!(
            (status, body["field"].as_str()),
            (400, Some("CallDuration")),
            "{duration}: {body}"
        );
    }
    let (status, body) = send(&call("CA\u{0}1", "5"));
    assert_eq!((status, body["field"].as_str()), (400, Some("CallSid")), "{body}");
    // The server still answers, and a good callback after them lands.
    assert_eq!(send(&call("CA2", "5")), (200, json!({"accepted": 1, "duplicates": 0})));
}

#[test]
fn a_signed_telnyx_hangup_is_recorded_and_other_events_are_acknowledged() {
    let signing = SigningKey::from_bytes(&[42u8; 32]);
    let public = base64::engine::general_purpose::STANDARD.encode(signing.verifying_key().to_bytes());
    let cfg = config(&format!(
        "tokens = [{{ token = \"t\", tenant = \"acme\" }}]\n[telnyx]\npublic_key = \"{public}\"\ntenant = \"acme\"\n"
    ));
    let server = TestServer::with(cfg, ClockMode::Event).token("t");
    register(&server, "+14155550100", "sales");
    let send = |body: &Value, key: &SigningKey| {
        let text = body.to_string();
        let ts = jiff::Timestamp::now().as_second().to_string();
        let signature = key.sign(format!("{ts}|{text}").as_bytes());
        json(
            server
                .client()
                .post(server.url("/v1/webhooks/telnyx"))
                .header("telnyx-timestamp", ts)
                .header(
                    "telnyx-signature-ed25519",
                    base64::engine::general_purpose::STANDARD.encode(signature.to_bytes()),
                )
                .body(text)
                .send()
                .unwrap(),
        )
    };
    let hangup = json!({"data": {"event_type": "call.hangup", "id": "ev-1", "payload": {
        "call_leg_id": "leg-1", "from": "+14155550100", "to": "+12125550123", "direction": "outgoing",
        "hangup_cause": "user_busy", "sip_hangup_cause": "486",
        "start_time": "2026-03-02T15:00:00Z", "end_time": "2026-03-02T15:00:20Z"}}});
    assert_eq!(send(&hangup, &signing), (200, json!({"accepted": 1, "duplicates": 0})));
    let answered = json!({"data": {"event_type": "call.answered", "payload": {}}});
    assert_eq!(
        send(&answered, &signing),
        (200, json!({"accepted": 0, "duplicates": 0}))
    );
    let (status, body) = send(&hangup, &SigningKey::from_bytes(&[1u8; 32]));
    assert_eq!(status, 403, "{body}");
    let mut broken = hangup.clone();
    broken["data"]["payload"]["from"] = json!(7);
    let (status, body) = send(&broken, &signing);
    assert_eq!((status, body["field"].as_str()), (400, Some("data.payload.from")));
}

#[test]
fn a_proxys_accounting_record_lands_once_and_a_dead_number_it_reports_is_not_called_again() {
    let server = TestServer::with(config(""), ClockMode::Event);
    register(&server, "+14155550100", "sales");
    // 2026-03-02T15:00:00Z, as Kamailio's $TV(Sn) prints it.
    let dead = json!({"callid": "8f2c41@10.0.0.7", "src_user": "+14155550100", "dst_user": "+12125550123",
        "invite_time": "1772463600.125000", "end_time": "1772463601.500000",
        "sip_code": 404, "sip_reason": "Not Found"});
    assert_eq!(
        json(server.post("/v1/acc/kamailio", &dead)),
        (200, json!({"accepted": 1, "duplicates": 0}))
    );
    assert_eq!(
        json(server.post("/v1/acc/kamailio", &dead)),
        (200, json!({"accepted": 0, "duplicates": 1}))
    );
    let (_, decision) = json(server.post(
        "/v1/decide",
        &json!({"pool": "sales", "to": "+12125550123", "at": "2026-03-02T15:05:00Z"}),
    ));
    assert_eq!(decision["reason"], "destination_invalid", "{decision}");
    let mut broken = dead.clone();
    broken["end_time"] = json!("soon");
    let (status, body) = json(server.post("/v1/acc/kamailio", &broken));
    assert_eq!((status, body["field"].as_str()), (400, Some("end_time")), "{body}");
}

#[test]
fn metrics_count_decisions_and_ingest_and_never_name_a_number() {
    let server = TestServer::start();
    register(&server, "+14155550100", "sales");
    server.post(
        "/v1/decide",
        &json!({"pool": "sales", "to": "+12125550123", "at": DAY1}),
    );
    server.post(
        "/v1/decide",
        &json!({"pool": "other", "to": "+12125550123", "at": DAY1}),
    );
    server.post(
        "/v1/calls",
        &call("m1", "+14155550100", "+12125550123", DAY1, DAY1, "busy"),
    );
    let response = server.get("/metrics");
    assert_eq!(response.status(), 200);
    let text = response.text().unwrap();
    for line in [
        "dialguard_decisions_total{decision=\"allow\"} 1",
        "dialguard_decisions_total{decision=\"deny\"} 1",
        "dialguard_denials_total{reason=\"unknown_pool\"} 1",
        "dialguard_ingested_events_total{kind=\"call\"} 1",
        "dialguard_numbers{health=\"healthy\"} 1",
        "dialguard_http_requests_total{method=\"POST\",route=\"/v1/decide\",status=\"200\"} 2",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    assert!(
        text.contains("route=\"/v1/numbers/{number}\""),
        "routes are templates:\n{text}"
    );
    assert!(
        !text.contains("4155550100") && !text.contains("2125550123"),
        "a number leaked:\n{text}"
    );
}

#[test]
fn the_openapi_document_describes_every_contract_endpoint() {
    let server = TestServer::start();
    let (status, doc) = json(server.get("/openapi.json"));
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/v1/numbers/{number}", "put"),
        ("/v1/numbers/{number}", "get"),
        ("/v1/numbers/{number}/state", "post"),
        ("/v1/numbers/{number}/disputes", "post"),
        ("/v1/numbers", "get"),
        ("/v1/decide", "post"),
        ("/v1/calls", "post"),
        ("/v1/acc/kamailio", "post"),
        ("/v1/complaints", "post"),
        ("/v1/optouts", "post"),
        ("/v1/consents", "post"),
        ("/v1/labels", "post"),
        ("/v1/webhooks/twilio", "post"),
        ("/v1/webhooks/telnyx", "post"),
        ("/healthz", "get"),
        ("/metrics", "get"),
        ("/openapi.json", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} is not described"
        );
    }
    let decide = &doc["components"]["schemas"]["DecideBody"]["properties"];
    for field in ["pool", "to", "at", "known_contact"] {
        assert!(decide.get(field).is_some(), "DecideBody lacks {field}");
    }
}

#[test]
fn a_restart_replays_the_log_and_keeps_everything_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let server = TestServer::on(&db, Default::default(), ClockMode::Event);
    register(&server, "+14155550100", "sales");
    let calls: Vec<Value> = (0..500)
        .map(|i| {
            let start = jiff::Timestamp::from_second(1_772_463_600 + i * 120).unwrap();
            let end = start + jiff::SignedDuration::from_secs(45);
            call(
                &format!("r{i}"),
                "+14155550100",
                "+12125550123",
                &start.to_string(),
                &end.to_string(),
                "answered",
            )
        })
        .collect();
    let (_, body) = json(server.post("/v1/calls", &json!({ "calls": calls })));
    assert_eq!(body["accepted"], 500);
    let (_, before) = json(server.get("/v1/numbers/+14155550100"));
    let db = server.stop();
    let again = TestServer::on(&db, Default::default(), ClockMode::Event);
    let (_, after) = json(again.get("/v1/numbers/+14155550100"));
    assert_eq!(after["metrics"], before["metrics"], "the same figures after a restart");
    assert_eq!(after["state"], before["state"]);
}

#[test]
fn concurrent_resends_from_many_dialers_count_each_call_once() {
    let server = TestServer::start();
    register(&server, "+14155550100", "sales");
    let totals: Vec<(u64, u64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let server = &server;
                scope.spawn(move || {
                    let mut sums = (0, 0);
                    for r in 0..20 {
                        let calls: Vec<Value> = (0..5)
                            .map(|k| {
                                let id = (t * 100 + r * 5 + k) % 100;
                                let start = jiff::Timestamp::from_second(1_772_463_600 + id * 60).unwrap();
                                call(
                                    &format!("id-{id}"),
                                    "+14155550100",
                                    "+12125550123",
                                    &start.to_string(),
                                    &start.to_string(),
                                    "no_answer",
                                )
                            })
                            .collect();
                        let (status, body) = json(server.post("/v1/calls", &json!({ "calls": calls })));
                        assert_eq!(status, 200, "{body}");
                        sums.0 += body["accepted"].as_u64().unwrap();
                        sums.1 += body["duplicates"].as_u64().unwrap();
                    }
                    sums
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let accepted: u64 = totals.iter().map(|t| t.0).sum();
    let duplicates: u64 = totals.iter().map(|t| t.1).sum();
    assert_eq!((accepted, duplicates), (100, 700));
    let (_, view) = json(server.get("/v1/numbers/+14155550100"));
    let month = view["metrics"]["windows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["window"] == "30d")
        .unwrap()
        .clone();
    assert_eq!(month["attempts"], 100, "{month}");
}

#[test]
fn a_retried_decision_under_its_idempotency_key_gets_the_first_answer_and_reserves_once() {
    let server = TestServer::start();
    register(&server, "+14155550100", "sales");
    register(&server, "+14155550101", "sales");
    let ask = |key: Option<&str>, to: &str| {
        let mut request = server
            .client()
            .post(server.url("/v1/decide"))
            .header("content-type", "application/json")
            .body(json!({"pool": "sales", "to": to, "at": DAY1}).to_string());
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        let response = request.send().unwrap();
        let replayed = response.headers().get("idempotent-replayed").is_some();
        let (status, body) = json(response);
        (status, body, replayed)
    };
    let (status, first, replayed) = ask(Some("dialer-7-call-1"), "+12125550123");
    assert_eq!((status, replayed), (200, false), "{first}");
    let caller = first["caller_id"].as_str().expect("an allow").to_owned();
    // The dialer timed out and sends it again: the same answer, no new slot.
    let (status, again, replayed) = ask(Some("dialer-7-call-1"), "+12125550123");
    assert_eq!((status, replayed), (200, true), "{again}");
    assert_eq!(again, first);
    let (_, list) = json(server.get("/v1/numbers"));
    let reserved: u64 = list["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["calls_today"].as_u64().unwrap())
        .sum();
    assert_eq!(reserved, 1, "one reservation for one question: {list}");
    assert!(
        list["numbers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["number"] == caller.as_str())
    );
    // The same key on another question is refused by name.
    let (status, body, _) = ask(Some("dialer-7-call-1"), "+12125550124");
    assert_eq!(
        (status, body["field"].as_str()),
        (409, Some("Idempotency-Key")),
        "{body}"
    );
    // A key that is no key.
    let (status, body, _) = ask(Some("two words"), "+12125550124");
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("Idempotency-Key")),
        "{body}"
    );
    // Without a key, each request is its own question.
    let (status, body, _) = ask(None, "+12125550125");
    assert_eq!(status, 200, "{body}");
}

#[test]
fn every_answer_carries_a_request_id_and_echoes_the_callers() {
    let server = TestServer::start();
    let plain = server.get("/healthz");
    let made = plain.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(!made.is_empty());
    let next = server.get("/v1/numbers");
    assert_ne!(
        next.headers()["x-request-id"].to_str().unwrap(),
        made,
        "a new id per request"
    );
    let echoed = server
        .client()
        .get(server.url("/v1/numbers/+14155550199"))
        .header("x-request-id", "dialer-abc-123")
        .send()
        .unwrap();
    assert_eq!(echoed.status().as_u16(), 404);
    assert_eq!(echoed.headers()["x-request-id"], "dialer-abc-123");
}

#[test]
fn every_error_carries_a_stable_code_beside_its_message() {
    let server = TestServer::start();
    register(&server, "+14155550100", "sales");
    let send = |request: reqwest::blocking::RequestBuilder| json(request.send().unwrap());
    let c = server.client();
    let cases = [
        (
            send(c.post(server.url("/v1/decide")).body(r#"{"pool": "sales"}"#)),
            400,
            "invalid_field",
        ),
        (send(c.post(server.url("/v1/decide")).body("{")), 400, "invalid_body"),
        (send(c.get(server.url("/v1/numbers/+14155550199"))), 404, "not_found"),
        (send(c.delete(server.url("/v1/numbers"))), 405, "method_not_allowed"),
        (
            send(
                c.post(server.url("/v1/decide"))
                    .header("content-type", "text/plain")
                    .body("{}"),
            ),
            415,
            "unsupported_media_type",
        ),
        (
            send(
                c.post(server.url("/v1/numbers/+14155550100/state"))
                    .body(r#"{"state": "active", "reason": "already"}"#),
            ),
            409,
            "conflict",
        ),
    ];
    for ((status, body), want_status, want_code) in cases {
        assert_eq!(
            (status, body["code"].as_str()),
            (want_status, Some(want_code)),
            "{body}"
        );
        assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{body}");
    }
}

#[test]
fn the_number_list_filters_and_pages_with_a_cursor() {
    let server = TestServer::start();
    for (number, pool) in [
        ("+14155550103", "sales"),
        ("+14155550101", "sales"),
        ("+14155550102", "support"),
        ("+14155550104", "sales"),
        ("+14155550100", "sales"),
    ] {
        register(&server, number, pool);
    }
    let move_to = json!({"state": "retired", "reason": "replaced"});
    assert_eq!(json(server.post("/v1/numbers/+14155550104/state", &move_to)).0, 200);
    let numbers = |query: &str| -> (Vec<String>, Option<String>) {
        let (status, body) = json(server.get(&format!("/v1/numbers{query}")));
        assert_eq!(status, 200, "{query}: {body}");
        let list = body["numbers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["number"].as_str().unwrap().to_owned())
            .collect();
        (list, body["next_cursor"].as_str().map(str::to_owned))
    };
    let (all, next) = numbers("");
    assert_eq!(all.len(), 5);
    assert!(all.windows(2).all(|w| w[0] < w[1]), "in number order: {all:?}");
    assert_eq!(next, None);
    assert_eq!(numbers("?pool=support").0, ["+14155550102"]);
    assert_eq!(numbers("?pool=sales&state=retired").0, ["+14155550104"]);
    assert_eq!(numbers("?state=active&health=healthy").0.len(), 4);
    assert_eq!(numbers("?state=active&pool=sales").0.len(), 3);
    // Two at a time, each page continuing where the last stopped.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let (page, next) = numbers(&format!("?pool=sales&limit=2{cursor}"));
        assert!(page.len() <= 2);
        seen.extend(page);
        match next {
            Some(n) => cursor = format!("&cursor={}", n.replace('+', "%2B")),
            None => break,
        }
    }
    assert_eq!(seen, ["+14155550100", "+14155550101", "+14155550103", "+14155550104"]);
    for (query, field) in [
        ("?state=sleeping", "state"),
        ("?health=fine", "health"),
        ("?limit=0", "limit"),
        ("?limit=ten", "limit"),
        ("?cursor=abc", "cursor"),
    ] {
        let (status, body) = json(server.get(&format!("/v1/numbers{query}")));
        assert_eq!((status, body["field"].as_str()), (400, Some(field)), "{query}: {body}");
    }
}

#[test]
fn the_grafana_dashboard_reads_only_series_the_server_exposes() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../integrations/grafana/dialguard.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let server = TestServer::start();
    register(&server, "+14155550100", "sales");
    server.post(
        "/v1/decide",
        &json!({"pool": "sales", "to": "+12125550123", "at": DAY1}),
    );
    server.post(
        "/v1/calls",
        &call("g1", "+14155550100", "+12125550123", DAY1, DAY1, "busy"),
    );
    let scraped = server.get("/metrics").text().unwrap();
    let mut queried = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            let mut rest = expr;
            while let Some(at) = rest.find("dialguard_") {
                let name: String = rest[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                rest = &rest[at + name.len()..];
                queried.push(name);
            }
        }
    }
    assert!(queried.len() >= 10, "{queried:?}");
    for name in queried {
        // A series, or the family it belongs to (a counter with no series
        // yet is declared by its TYPE line, without `_total`).
        let family = ["_total", "_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix))
            .unwrap_or(&name);
        let exposed = scraped.lines().any(|l| {
            l.starts_with(&format!("{name}{{"))
                || l.starts_with(&format!("{name} "))
                || l.starts_with(&format!("# TYPE {family} "))
        });
        assert!(
            exposed,
            "the dashboard queries {name}, which /metrics does not expose:\n{scraped}"
        );
    }
}
