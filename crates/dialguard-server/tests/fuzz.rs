//! Property tests: whatever a client sends, every endpoint answers 200 or a
//! 400 with `{"error", "field"}`: never a 5xx, never a dropped connection,
//! never an error body of another shape.

mod common;

use std::sync::OnceLock;

use common::TestServer;
use proptest::prelude::*;
use serde_json::{Map, Value};

fn server() -> &'static TestServer {
    static SERVER: OnceLock<TestServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let server = TestServer::start();
        common::register(&server, "+14155550100", "sales");
        server
    })
}

/// Strings that are sometimes right: numbers, instants, names, junk.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("+14155550100".to_owned()),
        Just("+12125550123".to_owned()),
        Just("2026-03-02T15:00:00Z".to_owned()),
        Just("2026-03-02T15:01:40Z".to_owned()),
        Just("1772463600.125".to_owned()),
        Just("603".to_owned()),
        Just("SIP;cause=603;text=\"Network Blocked\"".to_owned()),
        Just("sales".to_owned()),
        Just("answered".to_owned()),
        Just("att".to_owned()),
        Just("inbound".to_owned()),
        Just(String::new()),
        "[0-9+() -]{0,16}",
        "\\PC{0,12}",
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN", |f| f.is_finite())
            .prop_map(Value::from),
        text().prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An object with some of `fields`, each any value.
fn body(fields: &'static [&'static str]) -> impl Strategy<Value = Value> {
    prop::collection::vec((prop::sample::select(fields), value()), 0..=fields.len()).prop_map(|pairs| {
        let mut map = Map::new();
        for (k, v) in pairs {
            map.insert(k.to_owned(), v);
        }
        Value::Object(map)
    })
}

const CALL: &[&str] = &[
    "id",
    "from",
    "to",
    "direction",
    "started_at",
    "answered_at",
    "ended_at",
    "outcome",
    "sip_code",
    "q850",
];

fn check(path: &str, method: reqwest::Method, payload: String) -> Result<(), TestCaseError> {
    let s = server();
    let response = s
        .client()
        .request(method, s.url(path))
        .body(payload.clone())
        .send()
        .map_err(|e| TestCaseError::fail(format!("{path}: no answer to {payload}: {e}")))?;
    let status = response.status().as_u16();
    let text = response.text().unwrap_or_default();
    prop_assert!(
        status == 200 || status == 400,
        "{path} answered {status} to {payload}: {text}"
    );
    let json: Value =
        serde_json::from_str(&text).map_err(|_| TestCaseError::fail(format!("{path}: not JSON: {text}")))?;
    if status == 400 {
        prop_assert!(json["error"].as_str().is_some_and(|e| !e.is_empty()), "{path}: {text}");
        prop_assert!(
            json.get("field").is_some_and(|f| f.is_null() || f.is_string()),
            "{path}: {text}"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn decide_answers_200_or_400(b in body(&["pool", "to", "at", "known_contact"])) {
        check("/v1/decide", reqwest::Method::POST, b.to_string())?;
    }

    #[test]
    fn a_single_call_answers_200_or_400(b in body(CALL)) {
        check("/v1/calls", reqwest::Method::POST, b.to_string())?;
    }

    #[test]
    fn a_call_batch_answers_200_or_400(calls in prop::collection::vec(prop_oneof![body(CALL), value()], 0..5)) {
        check("/v1/calls", reqwest::Method::POST, serde_json::json!({ "calls": calls }).to_string())?;
    }

    #[test]
    fn a_proxys_call_record_answers_200_or_400(b in body(&[
        "callid", "src_user", "dst_user", "invite_time", "answer_time", "end_time", "sip_code", "sip_reason", "reason",
    ])) {
        check("/v1/acc/kamailio", reqwest::Method::POST, b.to_string())?;
    }

    #[test]
    fn labels_answer_200_or_400(b in body(&["number", "carrier", "label", "at", "source"])) {
        check("/v1/labels", reqwest::Method::POST, b.to_string())?;
    }

    #[test]
    fn registration_answers_200_or_400(b in body(&["pool", "state", "acquired_at", "cnam"])) {
        check("/v1/numbers/+14155550177", reqwest::Method::PUT, b.to_string())?;
    }

    #[test]
    fn raw_bytes_answer_400(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let payload = String::from_utf8_lossy(&bytes).into_owned();
        prop_assume!(serde_json::from_str::<Value>(&payload).is_err());
        check("/v1/decide", reqwest::Method::POST, payload)?;
    }
}
