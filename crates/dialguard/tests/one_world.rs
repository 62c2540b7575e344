//! One world: every read command and the API's matching read, asked about
//! the same database at the same `--at` / `?at=`, give the same health,
//! state, caps, plan and dispute calendar; asked again a moment later, the
//! same again (nothing moves with the instant someone looked).

mod served;

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use served::Served;

const LABELED: &str = "+14155550100";
const CALM: &str = "+14155550101";
/// Before the label, the day after it, and in the limited phase of its plan.
const INSTANTS: [&str; 3] = ["2025-06-20T12:00:00Z", "2025-06-28T12:00:00Z", "2025-08-05T12:00:00Z"];

fn cli(db: &Path, args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_dialguard"))
        .arg("--db")
        .arg(db)
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("dialguard runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{args:?}: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {stdout}"))
}

fn ok(db: &Path, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_dialguard"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("dialguard runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A read through the API of a server on the same database; it must answer 200.
fn get(served: &Served, path: &str) -> Value {
    let (status, body) = served.call("GET", path, None);
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

/// What both sides must agree on for one number: from a list row, and from
/// a number's view.
fn list_row(row: &Value) -> Value {
    json!({
        "number": row["number"], "pool": row["pool"], "state": row["state"], "health": row["health"],
        "risk": row["risk"], "calls_today": row["calls_today"], "cap_today": row["cap_today"],
    })
}

fn plan_and_calendar(view: &Value) -> Value {
    let steps: Vec<Value> = view["disputes"]
        .as_array()
        .map(|calendars| {
            calendars
                .iter()
                .flat_map(|c| c["steps"].as_array().cloned().unwrap_or_default())
                .map(|s| json!({"step": s["step"], "status": s["status"], "due": s["due"]}))
                .collect()
        })
        .unwrap_or_default();
    let plans: Vec<Value> = view["plans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| json!({"ordinal": p["ordinal"], "day": p["day"], "next": p["next"], "phases": p["phases"].as_array().unwrap().iter().map(|ph| ph["phase"].clone()).collect::<Vec<_>>()}))
        .collect();
    json!({"state": view["state"], "health": view["health"], "plans": plans, "disputes": steps})
}

/// Every read at `at`, from the command line and from the API.
fn both_sides(db: &Path, served: &Served, at: &str) -> (Value, Value) {
    let mut cli_rows: Vec<Value> = cli(db, &["numbers", "list", "--at", at])["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(list_row)
        .collect();
    let mut api_rows: Vec<Value> = get(served, &format!("/v1/numbers?at={at}"))["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(list_row)
        .collect();
    cli_rows.sort_by_key(|r| r["number"].to_string());
    api_rows.sort_by_key(|r| r["number"].to_string());
    let mut cli_side = json!({"numbers": cli_rows});
    let mut api_side = json!({"numbers": api_rows});
    for number in [LABELED, CALM] {
        cli_side[number] = plan_and_calendar(&cli(db, &["history", number, "--at", at]));
        api_side[number] = plan_and_calendar(&get(served, &format!("/v1/numbers/{number}?at={at}")));
    }
    let steps: Vec<Value> = cli(db, &["disputes", "list", "--at", at])["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| json!({"step": s["step"], "status": s["status"], "due": s["due"]}))
        .collect();
    cli_side["open_disputes"] = json!(steps);
    api_side["open_disputes"] = api_side[LABELED]["disputes"].clone();
    (cli_side, api_side)
}

#[test]
fn every_read_command_and_the_api_answer_alike_at_the_same_instant_and_again_later() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("world.db");
    ok(
        &db,
        &[
            "numbers",
            "add",
            LABELED,
            CALM,
            "--pool",
            "sales",
            "--at",
            "2025-01-02T00:00:00Z",
        ],
    );
    ok(
        &db,
        &[
            "labels",
            "add",
            LABELED,
            "--carrier",
            "att",
            "--label",
            "Spam Likely",
            "--at",
            "2025-06-27T16:00:00Z",
        ],
    );
    ok(
        &db,
        &[
            "disputes",
            "update",
            LABELED,
            "hiya",
            "submitted",
            "--at",
            "2025-06-30T15:00:00Z",
            "--note",
            "ticket 4411",
        ],
    );
    let served = Served::start(&db, &[]);

    let first: Vec<(Value, Value)> = INSTANTS.iter().map(|at| both_sides(&db, &served, at)).collect();
    for ((cli_side, api_side), at) in first.iter().zip(INSTANTS) {
        assert_eq!(cli_side, api_side, "the command line and the API differ at {at}");
    }
    // The story the instants tell: calling, then resting with a calendar,
    // then in the plan's limited phase.
    assert_eq!(first[0].0["numbers"][0]["state"], "active");
    assert_eq!(first[1].0["numbers"][0]["state"], "resting");
    assert_eq!(first[2].0["numbers"][0]["state"], "rehab_limited");
    assert_eq!(first[1].0[LABELED]["disputes"][0]["status"], "planned");
    assert_eq!(first[2].0[LABELED]["disputes"][0]["status"], "submitted");
    assert!(
        first[1].0["numbers"][1]["cap_today"].as_u64().unwrap() > 0,
        "the calm number may call"
    );

    std::thread::sleep(std::time::Duration::from_millis(1500));
    let again: Vec<(Value, Value)> = INSTANTS.iter().map(|at| both_sides(&db, &served, at)).collect();
    assert_eq!(
        first, again,
        "asking again later changed an answer about the same instants"
    );
}
