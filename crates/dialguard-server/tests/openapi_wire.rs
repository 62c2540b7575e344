//! What goes over the wire is what `/openapi.json` says: every answer the
//! API gives in a short session (each endpoint's success, and its errors)
//! is validated against the response schema the document names for that
//! path, method and status, as a client generated from the document would
//! read it.

mod common;

use common::{TestServer, json};
use serde_json::{Value, json};

/// Closes every object schema that lists its properties: an answer with a
/// field the document does not name fails, as well as one missing a field
/// it requires or carrying one of another type.
fn closed(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                map.insert("additionalProperties".to_owned(), Value::Bool(false));
            }
            map.values_mut().for_each(closed);
        }
        Value::Array(items) => items.iter_mut().for_each(closed),
        _ => {}
    }
}

/// The schema the document gives for an answer, with the document's
/// components beside it so its `$ref`s resolve.
fn response_schema(doc: &Value, path: &str, method: &str, status: u16) -> Value {
    let responses = &doc["paths"][path][method]["responses"];
    let response = &responses[status.to_string()];
    assert!(
        !response.is_null(),
        "{method} {path} answered {status}, which the document does not list (it lists {:?})",
        responses.as_object().map(|r| r.keys().collect::<Vec<_>>())
    );
    let schema = response["content"]["application/json"]["schema"].clone();
    assert!(!schema.is_null(), "{method} {path} {status} has no JSON schema");
    let mut components = doc["components"].clone();
    closed(&mut components);
    let mut root = json!({ "components": components });
    for (key, value) in schema.as_object().unwrap() {
        root[key] = value.clone();
    }
    root
}

struct Wire {
    server: TestServer,
    doc: Value,
    problems: Vec<String>,
    statuses: Vec<u16>,
}

impl Wire {
    fn check(&mut self, method: &str, path: &str, template: &str, body: Option<Value>) -> Value {
        let url = self.server.url(path);
        let client = self.server.client();
        let request = match method {
            "get" => client.get(&url),
            "put" => client.put(&url),
            _ => client.post(&url),
        };
        let request = match body {
            Some(b) => request.header("content-type", "application/json").body(b.to_string()),
            None => request,
        };
        let (status, answer) = json(request.send().unwrap());
        self.statuses.push(status);
        let schema = response_schema(&self.doc, template, method, status);
        let validator = jsonschema::validator_for(&schema)
            .unwrap_or_else(|e| panic!("{method} {template} {status}: the document's schema does not compile: {e}"));
        for error in validator.iter_errors(&answer) {
            self.problems.push(format!(
                "{method} {template} {status}: at {}: {error}",
                error.instance_path()
            ));
        }
        answer
    }
}

#[test]
fn every_answer_matches_the_schema_the_document_gives_for_it() {
    let server = TestServer::start();
    let (_, doc) = json(server.get("/openapi.json"));
    let mut wire = Wire {
        server,
        doc,
        problems: Vec::new(),
        statuses: Vec::new(),
    };
    let n = "/v1/numbers/+14155550100";
    let t = "/v1/numbers/{number}";
    wire.check(
        "put",
        n,
        t,
        Some(json!({"pool": "sales", "acquired_at": "2026-01-05T00:00:00Z"})),
    );
    wire.check("put", n, t, Some(json!({"pool": ""})));
    wire.check("put", "/v1/numbers/+14155550199", t, Some(json!({"pool": "sales"})));
    wire.check(
        "post",
        "/v1/calls",
        "/v1/calls",
        Some(
            json!({"calls": [{"id": "c1", "from": "+14155550100", "to": "+12125550123",
            "started_at": "2026-03-02T15:00:00Z", "answered_at": "2026-03-02T15:00:05Z",
            "ended_at": "2026-03-02T15:02:05Z", "outcome": "answered"}]}),
        ),
    );
    wire.check("post", "/v1/calls", "/v1/calls", Some(json!({"calls": [{"id": "c2"}]})));
    wire.check(
        "post",
        "/v1/decide",
        "/v1/decide",
        Some(json!({"pool": "sales", "to": "+12125550124", "at": "2026-03-02T16:00:00Z"})),
    );
    wire.check(
        "post",
        "/v1/decide",
        "/v1/decide",
        Some(json!({"pool": "nope", "to": "+12125550124", "at": "2026-03-02T16:00:00Z"})),
    );
    wire.check("post", "/v1/decide", "/v1/decide", Some(json!({"pool": "sales"})));
    wire.check("get", n, t, None);
    wire.check("get", "/v1/numbers/+14155550111", t, None);
    wire.check("get", "/v1/numbers", "/v1/numbers", None);
    wire.check("get", "/v1/numbers?limit=1", "/v1/numbers", None);
    wire.check("get", "/v1/numbers?at=yesterday", "/v1/numbers", None);
    for (path, body) in [
        (
            "/v1/complaints",
            json!({"number": "+14155550100", "at": "2026-03-02T17:00:00Z", "source": "api", "id": "k1"}),
        ),
        (
            "/v1/optouts",
            json!({"to": "+12125550123", "at": "2026-03-02T17:00:00Z"}),
        ),
        (
            "/v1/consents",
            json!({"to": "+12125550125", "at": "2026-03-02T17:00:00Z", "kind": "written"}),
        ),
        (
            "/v1/labels",
            json!({"number": "+14155550100", "carrier": "att", "label": "Spam Likely", "at": "2026-03-02T18:00:00Z", "source": "test_call"}),
        ),
    ] {
        wire.check("post", path, path, Some(body));
        wire.check("post", path, path, Some(json!({"at": "not an instant"})));
    }
    wire.check(
        "post",
        "/v1/numbers/+14155550100/disputes",
        "/v1/numbers/{number}/disputes",
        Some(json!({"step": "hiya", "status": "submitted", "note": "ticket 1"})),
    );
    wire.check(
        "post",
        "/v1/numbers/+14155550100/disputes",
        "/v1/numbers/{number}/disputes",
        Some(json!({"step": "nobody", "status": "submitted"})),
    );
    wire.check(
        "post",
        "/v1/numbers/+14155550100/state",
        "/v1/numbers/{number}/state",
        Some(json!({"state": "retired", "reason": "replaced"})),
    );
    wire.check(
        "post",
        "/v1/numbers/+14155550100/state",
        "/v1/numbers/{number}/state",
        Some(json!({"state": "retired", "reason": "again"})),
    );
    // Each endpoint answered both ways: its success and its error.
    assert_eq!(
        wire.statuses,
        [
            200, 400, 200, 200, 200, 200, 200, 400, 200, 404, 200, 200, 400, 200, 400, 200, 400, 200, 400, 200, 400,
            200, 400, 200, 409
        ],
        "the session went otherwise than planned"
    );
    assert!(
        wire.problems.is_empty(),
        "answers the document does not describe:\n{}",
        wire.problems.join("\n")
    );
}
