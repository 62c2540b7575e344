//! The lifecycle commands as a user runs them: moving a number by hand,
//! the dispute calendar, the documentation package, the exports and the
//! history, against a real database.

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

const N: &str = "+14155550100";

fn dialguard(db: &Path) -> Command {
    let mut cmd = Command::cargo_bin("dialguard").expect("the binary is built");
    cmd.arg("--db").arg(db);
    cmd
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("dialguard runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(cmd: &mut Command) -> String {
    let (code, stdout, stderr) = run(cmd);
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    stdout
}

fn json(cmd: &mut Command) -> Value {
    let stdout = ok(cmd);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn registered(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("d.db");
    ok(dialguard(&db).args([
        "numbers",
        "add",
        N,
        "+14155550101",
        "--pool",
        "sales",
        "--at",
        "2025-01-02T00:00:00Z",
    ]));
    db
}

/// [`registered`], and AT&T's handsets seen showing `N` as "Spam Likely"
/// on Friday 2025-06-27 at 16:00 UTC.
fn labeled(dir: &Path) -> std::path::PathBuf {
    let db = registered(dir);
    ok(dialguard(&db).args([
        "labels",
        "add",
        N,
        "--carrier",
        "att",
        "--label",
        "Spam Likely",
        "--at",
        "2025-06-27T16:00:00Z",
    ]));
    db
}

const BUSINESS: &str = r#"
legal_name = "Acme Dental Group LLC"
website = "https://acme-dental.example"
address = "100 Main St, Springfield, IL 62701"
years_in_operation = 12
use_case = "Appointment reminders and rescheduling calls to existing patients."
opt_in_process = "Patients give their number and consent on the intake form."
licences = ["Illinois dental practice licence 019-000000"]
contact_email = "compliance@acme-dental.example"
"#;

#[test]
fn an_operator_moves_a_number_and_the_list_and_history_show_why() {
    let dir = tempfile::tempdir().unwrap();
    let db = registered(dir.path());
    let out = ok(dialguard(&db).args([
        "numbers",
        "set-state",
        N,
        "resting",
        "--reason",
        "customer reported Spam Likely",
        "--at",
        "2025-02-01T15:00:00Z",
    ]));
    assert!(out.contains("→ resting"), "{out}");
    let listed = json(dialguard(&db).args(["numbers", "list", "--format", "json"]));
    let states: Vec<(&str, &str)> = listed["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["number"].as_str().unwrap(), n["state"].as_str().unwrap()))
        .collect();
    // Listed today, long after 2025-02: the plan ran its 90 days with no
    // label seen and a quiet (healthy) number, so it is back in service.
    assert_eq!(states, [("+14155550100", "active"), ("+14155550101", "active")]);
    assert_eq!(listed["numbers"][0]["cap_today"].as_u64().map(|c| c > 0), Some(true));
    assert!(listed["numbers"][0]["health"].is_string());
    let story = json(dialguard(&db).args(["history", N, "--at", "2025-02-02T00:00:00Z", "--format", "json"]));
    let texts: Vec<&str> = story["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert!(texts[0].starts_with("registered in pool sales"), "{texts:?}");
    assert!(
        texts
            .iter()
            .any(|t| t.contains("operator: customer reported Spam Likely")),
        "{texts:?}"
    );
    assert_eq!(story["state"], "resting");
    assert_eq!(story["plans"][0]["spans"][0]["phase"], "rest");
}

#[test]
fn registering_again_moves_the_pool_and_keeps_the_state() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let state_of = |number: &str| {
        let listed = json(dialguard(&db).args(["numbers", "list", "--at", "2025-01-07T00:00:00Z", "--format", "json"]));
        let row = listed["numbers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["number"] == number)
            .cloned()
            .unwrap();
        (
            row["pool"].as_str().unwrap().to_owned(),
            row["state"].as_str().unwrap().to_owned(),
        )
    };
    ok(dialguard(&db).args([
        "numbers",
        "add",
        N,
        "--pool",
        "sales",
        "--state",
        "aging",
        "--at",
        "2025-01-02T00:00:00Z",
    ]));
    // Into another pool: still aging (it used to turn active).
    ok(dialguard(&db).args(["numbers", "add", N, "--pool", "support", "--at", "2025-01-03T00:00:00Z"]));
    assert_eq!(state_of(N), ("support".to_owned(), "aging".to_owned()));
    // Asked for, the state moves.
    ok(dialguard(&db).args([
        "numbers",
        "add",
        N,
        "--pool",
        "support",
        "--state",
        "active",
        "--at",
        "2025-01-04T00:00:00Z",
    ]));
    assert_eq!(state_of(N), ("support".to_owned(), "active".to_owned()));
    // A resting number keeps resting; a registration cannot end its rest.
    ok(dialguard(&db).args([
        "numbers",
        "set-state",
        N,
        "resting",
        "--reason",
        "labeled",
        "--at",
        "2025-01-05T00:00:00Z",
    ]));
    ok(dialguard(&db).args(["numbers", "add", N, "--pool", "sales", "--at", "2025-01-06T00:00:00Z"]));
    assert_eq!(state_of(N), ("sales".to_owned(), "resting".to_owned()));
    let (code, _, stderr) = run(dialguard(&db).args(["numbers", "add", N, "--pool", "sales", "--state", "active"]));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("is resting") && stderr.contains("set-state"),
        "{stderr}"
    );
    assert_eq!(state_of(N), ("sales".to_owned(), "resting".to_owned()));
}

#[test]
fn set_state_refuses_bad_input_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let db = registered(dir.path());
    let cases: &[(&[&str], &str)] = &[
        (
            &["numbers", "set-state", N, "sleeping", "--reason", "x"],
            "rehab_limited",
        ),
        (
            &["numbers", "set-state", "+14155550199", "resting", "--reason", "x"],
            "numbers add",
        ),
        (
            &["numbers", "set-state", N, "active", "--reason", "x"],
            "already active",
        ),
        (
            &["numbers", "set-state", N, "resting", "--reason", " "],
            "needs a reason",
        ),
        (&["numbers", "set-state", "555", "resting", "--reason", "x"], "\"555\""),
    ];
    for (args, says) in cases {
        let (code, _, stderr) = run(dialguard(&db).args(*args));
        assert_eq!(code, 1, "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    let (code, _, stderr) = run(dialguard(&db).args(["numbers", "set-state", N, "resting"]));
    assert_eq!(code, 2, "--reason is required: {stderr}");
}

#[test]
fn a_label_opens_a_dispute_calendar_that_records_progress() {
    let dir = tempfile::tempdir().unwrap();
    // Seen on Friday 2025-06-27 in New York.
    let db = labeled(dir.path());
    let listed = json(dialguard(&db).args(["disputes", "list", "--at", "2025-06-27T17:00:00Z", "--format", "json"]));
    let steps = listed["steps"].as_array().unwrap();
    let plan: Vec<(&str, &str, &str)> = steps
        .iter()
        .map(|s| {
            (
                s["step"].as_str().unwrap(),
                s["status"].as_str().unwrap(),
                s["due"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(plan.len(), 8);
    assert_eq!(plan[0], ("hiya", "planned", "2025-07-01"));
    assert_eq!(plan[3], ("free_caller_registry", "planned", "2025-07-04"));
    assert_eq!(plan[7], ("fcc", "planned", "2025-08-01"));
    let due = json(dialguard(&db).args(["disputes", "due", "--at", "2025-07-01T15:00:00Z", "--format", "json"]));
    let due: Vec<&str> = due["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(due, ["hiya", "tns", "first_orion"]);

    let out = ok(dialguard(&db).args([
        "disputes",
        "update",
        N,
        "Hiya",
        "submitted",
        "--note",
        "ticket H-77",
        "--at",
        "2025-07-01T15:00:00Z",
    ]));
    assert!(out.contains("follow up on 2025-07-10"), "{out}");
    // Moving time recorded the quarantine the label called for, before the update.
    assert!(out.contains("→ quarantined"), "{out}");
    let (code, _, stderr) = run(dialguard(&db).args([
        "disputes",
        "update",
        N,
        "tns",
        "answered",
        "--at",
        "2025-07-02T15:00:00Z",
    ]));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("tns of +14155550100 is planned; it cannot become answered"),
        "{stderr}"
    );
    assert!(stderr.contains("may become: submitted, resolved"), "{stderr}");
    for (args, says) in [
        (["disputes", "update", N, "nomorobo", "submitted"], "not a dispute step"),
        (["disputes", "update", N, "hiya", "done"], "not a dispute status"),
        (
            ["disputes", "update", "+14155550101", "hiya", "submitted"],
            "has no dispute calendar",
        ),
    ] {
        let (code, _, stderr) = run(dialguard(&db).args(args));
        assert_eq!(code, 1, "{args:?}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    let due = json(dialguard(&db).args(["disputes", "due", "--at", "2025-07-10T15:00:00Z", "--format", "json"]));
    let hiya = due["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "hiya")
        .unwrap()
        .clone();
    assert_eq!(
        (hiya["action"].as_str(), hiya["last_note"].as_str()),
        (Some("follow up"), Some("ticket H-77"))
    );
}

#[test]
fn the_package_and_the_exports_are_written_from_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let db = registered(dir.path());
    let business = dir.path().join("business.toml");
    std::fs::write(&business, BUSINESS).unwrap();
    let out = dir.path().join("out");
    ok(dialguard(&db)
        .args(["package", N, "--at", "2025-03-01T12:00:00Z", "--business"])
        .arg(&business)
        .arg("--out")
        .arg(&out));
    let folder = out.join(N);
    let md = std::fs::read_to_string(folder.join("package.md")).unwrap();
    assert!(
        md.contains("Acme Dental Group LLC") && md.contains("## How the number is used"),
        "{md}"
    );
    let csv = std::fs::read_to_string(folder.join("daily.csv")).unwrap();
    assert_eq!(csv.lines().count(), 91, "a header and 90 days");
    assert!(csv.lines().nth(90).unwrap().starts_with("2025-02-28,0,"), "{csv}");
    let package: Value = serde_json::from_str(&std::fs::read_to_string(folder.join("package.json")).unwrap()).unwrap();
    assert_eq!(package["business"]["years_in_operation"], 12);

    let fcr = ok(dialguard(&db)
        .args(["export", "fcr", "--at", "2025-03-01T12:00:00Z", "--business"])
        .arg(&business));
    let mut lines = fcr.lines();
    assert!(lines.next().unwrap().starts_with("phone_number,company_name,"), "{fcr}");
    assert_eq!(lines.filter(|l| l.contains("Acme Dental Group LLC")).count(), 2);
    let plain = ok(dialguard(&db).args(["export", "numbers", "--at", "2025-03-01T12:00:00Z"]));
    assert_eq!(plain, "+14155550100\n+14155550101\n");

    std::fs::write(&business, "legal_name = \"Acme\"\nwebsite = \"\"\n").unwrap();
    let (code, _, stderr) = run(dialguard(&db).args(["export", "fcr", "--business"]).arg(&business));
    assert_eq!(code, 1);
    assert!(stderr.contains("business.toml"), "{stderr}");
    std::fs::write(
        &business,
        BUSINESS.replace("website = \"https://acme-dental.example\"", "website = \"  \""),
    )
    .unwrap();
    let (code, _, stderr) = run(dialguard(&db).args(["export", "fcr", "--business"]).arg(&business));
    assert_eq!(code, 1);
    assert!(stderr.contains("`website` is empty"), "{stderr}");
}

#[test]
fn a_question_as_of_an_instant_is_answered_from_what_had_happened_by_then() {
    let dir = tempfile::tempdir().unwrap();
    let db = labeled(dir.path());
    let state = |at: &str| {
        let list = json(dialguard(&db).args(["numbers", "list", "--at", at, "--format", "json"]));
        let row = list["numbers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["number"] == N)
            .cloned()
            .unwrap();
        row["state"].as_str().unwrap().to_owned()
    };
    // The week before the label, the number was calling; the day after, resting.
    assert_eq!(state("2025-06-20T12:00:00Z"), "active");
    assert_eq!(state("2025-06-28T12:00:00Z"), "resting");
    let history = |at: &str| json(dialguard(&db).args(["history", N, "--at", at, "--format", "json"])).to_string();
    assert!(!history("2025-06-20T12:00:00Z").contains("Spam Likely"));
    assert!(history("2025-06-28T12:00:00Z").contains("Spam Likely"));
    let labels =
        |at: &str| json(dialguard(&db).args(["labels", "list", N, "--at", at, "--format", "json"])).to_string();
    assert!(!labels("2025-06-20T12:00:00Z").contains("Spam Likely"));
    assert!(labels("2025-06-28T12:00:00Z").contains("Spam Likely"));
    let disputes =
        |at: &str| json(dialguard(&db).args(["disputes", "list", "--at", at, "--format", "json"]))["steps"].clone();
    assert_eq!(disputes("2025-06-20T12:00:00Z").as_array().map(Vec::len), Some(0));
    assert_eq!(disputes("2025-06-28T12:00:00Z").as_array().map(Vec::len), Some(8));
}
