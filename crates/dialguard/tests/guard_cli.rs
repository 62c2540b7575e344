//! `dialguard decide`, `dialguard dnc import` and `dialguard lint` as a user
//! runs them: real files, a real database, exit codes and output checked
//! from outside.

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use serde_json::{Value, json};

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

fn json_of(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// A Tuesday, 14:00 in New York and 11:00 in San Francisco.
const OPEN: &str = "2025-06-03T18:00:00Z";

fn add_numbers(db: &Path, pool: &str, numbers: &[&str]) {
    let (code, _, stderr) = run(dialguard(db)
        .args(["numbers", "add", "--pool", pool, "--at", "2025-06-01T00:00:00Z"])
        .args(numbers));
    assert_eq!(code, 0, "{stderr}");
}

fn decide(db: &Path, extra: &[&str]) -> Value {
    let (code, stdout, stderr) = run(dialguard(db).args(["decide", "--format", "json"]).args(extra));
    assert_eq!(code, 0, "{stderr}");
    json_of(&stdout)
}

#[test]
fn an_imported_registry_denies_its_numbers_and_merges_on_the_next_import() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let registry = dir.path().join("registry.txt");
    std::fs::write(
        &registry,
        "phone_number\n4155550100\n212-555-0199\n\n415555010\n+14155550100\n",
    )
    .unwrap();

    let (code, stdout, stderr) = run(dialguard(&db)
        .args(["dnc", "import", "--format", "json"])
        .arg(&registry));
    assert_eq!(code, 3, "a rejected line gives exit 3: {stderr}");
    let summary = json_of(&stdout);
    assert_eq!(summary["numbers_read"], 3);
    assert_eq!(summary["rejected"], 1);
    assert_eq!(summary["listed_now"], 2);
    assert!(
        summary["errors"][0].as_str().unwrap().starts_with("line 5:"),
        "{summary}"
    );
    assert!(
        dir.path().join("d.dnc").exists(),
        "the list is kept next to the database"
    );

    add_numbers(&db, "sales", &["+16175550100", "+16175550101"]);
    let listed = decide(&db, &["--pool", "sales", "--to", "+14155550100", "--at", OPEN]);
    assert_eq!(listed, json!({"decision": "deny", "reason": "dnc"}));
    let other = decide(&db, &["--pool", "sales", "--to", "+14155550101", "--at", OPEN]);
    assert_eq!(other, json!({"decision": "allow", "caller_id": "+16175550100"}));
    // A relationship the dialer only claims is no exemption from the
    // registry: only a dated consent record is.
    let known = decide(
        &db,
        &[
            "--pool",
            "sales",
            "--to",
            "+14155550100",
            "--at",
            OPEN,
            "--known-contact",
        ],
    );
    assert_eq!(known, json!({"decision": "deny", "reason": "dnc"}));

    // A second file adds to the list; --replace starts over.
    let more = dir.path().join("more.txt");
    std::fs::write(&more, "3125550100\n").unwrap();
    let (code, stdout, _) = run(dialguard(&db).args(["dnc", "import", "--format", "json"]).arg(&more));
    assert_eq!(code, 0);
    assert_eq!(
        (
            json_of(&stdout)["listed_before"].as_u64(),
            json_of(&stdout)["listed_now"].as_u64()
        ),
        (Some(2), Some(3))
    );
    let (_, stdout, _) = run(dialguard(&db)
        .args(["dnc", "import", "--replace", "--format", "json"])
        .arg(&more));
    assert_eq!(json_of(&stdout)["listed_now"], 1);
    let freed = decide(&db, &["--pool", "sales", "--to", "+14155550100", "--at", OPEN]);
    assert_eq!(freed["decision"], "allow");
}

#[test]
fn decide_names_each_kind_of_no() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    add_numbers(&db, "sales", &["+16175550100"]);
    // 07:30 in New York: opens at 08:00 (12:00Z).
    let early = decide(
        &db,
        &[
            "--pool",
            "sales",
            "--to",
            "+12125550123",
            "--at",
            "2025-06-03T11:30:00Z",
        ],
    );
    assert_eq!(
        early,
        json!({"decision": "deny", "reason": "outside_calling_hours", "retry_at": "2025-06-03T12:00:00Z"})
    );
    let typo = decide(&db, &["--pool", "slaes", "--to", "+12125550123", "--at", OPEN]);
    assert_eq!(typo, json!({"decision": "deny", "reason": "unknown_pool"}));
    let invalid = decide(&db, &["--pool", "sales", "--to", "+19995550100", "--at", OPEN]);
    assert_eq!(invalid, json!({"decision": "deny", "reason": "destination_invalid"}));
    let (code, stdout, _) =
        run(dialguard(&db).args(["decide", "--pool", "sales", "--to", "+12125550123", "--at", OPEN]));
    assert_eq!((code, stdout.trim()), (0, "allow: call from +16175550100"));

    let (code, _, stderr) = run(dialguard(&db).args(["decide", "--pool", "sales", "--to", "call me"]));
    assert_eq!(code, 1);
    assert!(stderr.contains("--to") && stderr.contains("+14155550100"), "{stderr}");
    let (code, _, stderr) = run(dialguard(&db).args(["decide", "--pool", " ", "--to", "+12125550123"]));
    assert_eq!(code, 1);
    assert!(stderr.contains("--pool"), "{stderr}");
}

#[test]
fn a_guard_config_file_sets_pool_rules_and_bad_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    add_numbers(&db, "sales", &["+16175550100"]);
    let config = dir.path().join("guard.toml");
    std::fs::write(&config, "[pools.sales]\nrequires_consent = true\n").unwrap();
    let config_arg = config.to_str().unwrap();
    let denied = decide(
        &db,
        &[
            "--pool",
            "sales",
            "--to",
            "+12125550123",
            "--at",
            OPEN,
            "--guard-config",
            config_arg,
        ],
    );
    assert_eq!(denied, json!({"decision": "deny", "reason": "no_consent"}));

    std::fs::write(&config, "calling_hours = \"07:00-22:00\"\n").unwrap();
    let (code, _, stderr) = run(dialguard(&db).args([
        "decide",
        "--pool",
        "sales",
        "--to",
        "+12125550123",
        "--guard-config",
        config_arg,
    ]));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("calling_hours") && stderr.contains("guard.toml"),
        "{stderr}"
    );
}

#[test]
fn a_damaged_list_file_stops_the_guard_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    std::fs::write(dir.path().join("d.dnc"), b"not a list").unwrap();
    let (code, _, stderr) = run(dialguard(&db).args(["decide", "--pool", "sales", "--to", "+12125550123"]));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("d.dnc") && stderr.contains("dialguard dnc import"),
        "{stderr}"
    );
    let (code, _, stderr) = run(dialguard(&db).args(["dnc", "import", "missing.txt"]));
    assert_eq!(code, 1);
    assert!(stderr.contains("missing.txt"), "{stderr}");
}

#[test]
fn lint_writes_the_clean_list_and_reports_every_flag() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let registry = dir.path().join("registry.txt");
    std::fs::write(&registry, "2125550130\n").unwrap();
    assert_eq!(run(dialguard(&db).args(["dnc", "import"]).arg(&registry)).0, 0);
    let list = dir.path().join("contacts.csv");
    std::fs::write(
        &list,
        "first,last,Mobile\nAnn,Lee,(212) 555-0123\nBob,Ray,+1 212 555 0123\nCy,Oz,2125550130\nDi,Ng,+442079460958\nEd,Fox,555\nFlo,Ma,4155550100\n",
    )
    .unwrap();
    let clean = dir.path().join("clean.csv");
    let (code, stdout, stderr) = run(dialguard(&db)
        .args(["lint", "--format", "json", "--at", OPEN, "--out"])
        .arg(&clean)
        .arg(&list));
    assert_eq!(code, 3, "flagged rows give exit 3: {stderr}");
    let report = json_of(&stdout);
    assert_eq!(
        (report["rows"].as_u64(), report["clean_count"].as_u64()),
        (Some(6), Some(2))
    );
    assert_eq!(report["column"], "Mobile");
    assert_eq!(
        report["by_reason"],
        json!({"invalid_number": 1, "not_nanp": 1, "duplicate": 1, "dnc": 1})
    );
    let written = std::fs::read_to_string(&clean).unwrap();
    assert_eq!(
        written,
        "first,last,Mobile\nAnn,Lee,(212) 555-0123\nFlo,Ma,4155550100\n"
    );

    // The clean list lints clean.
    let (code, stdout, _) = run(dialguard(&db).arg("lint").arg(&clean));
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("2 rows (phone column: Mobile): 2 clean, 0 flagged"),
        "{stdout}"
    );
}

#[test]
fn decide_keeps_to_the_caps_the_number_list_shows() {
    // The example week of Asterisk records (2026-03-02 to 03-09 08:10 UTC),
    // its ten numbers registered after the import, as a go-live does.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/asterisk/Master.csv");
    let (code, _, stderr) = run(dialguard(&db).args(["import", "--format", "asterisk", example]));
    assert_eq!(code, 0, "{stderr}");
    let (_, report, _) = run(dialguard(&db).args(["report", "--format", "json", "--at", "2026-03-09T00:00:00Z"]));
    let numbers: Vec<String> = json_of(&report)["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["number"].as_str().unwrap().to_owned())
        .collect();
    let (code, _, stderr) = run(dialguard(&db)
        .args(["numbers", "add", "--pool", "sales", "--at", "2026-01-01T00:00:00Z"])
        .args(&numbers));
    assert_eq!(code, 0, "{stderr}");
    // 09:00 in New York: every number already placed more calls in the last
    // 24 hours than the cap the list gives it.
    let at = "2026-03-09T14:00:00Z";
    let (_, listed, _) = run(dialguard(&db).args(["numbers", "list", "--format", "json", "--at", at]));
    let listed = json_of(&listed);
    for n in listed["numbers"].as_array().unwrap() {
        assert!(n["calls_today"].as_u64() >= n["cap_today"].as_u64(), "{n}");
        assert!(
            n["cap_today"].as_u64() < Some(150),
            "a cap under the guard's default: {n}"
        );
    }
    let decision = decide(&db, &["--pool", "sales", "--to", "+12125550123", "--at", at]);
    assert_eq!(decision["reason"], "pool_exhausted", "{decision}");
    // Later that day the oldest calls have left the window: the number it
    // picks is one the list shows under its cap.
    let later = "2026-03-09T20:00:00Z";
    let (_, listed, _) = run(dialguard(&db).args(["numbers", "list", "--format", "json", "--at", later]));
    let decision = decide(&db, &["--pool", "sales", "--to", "+12125550124", "--at", later]);
    let picked = decision["caller_id"].as_str().expect("an allow");
    let row = json_of(&listed)["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["number"] == picked)
        .cloned()
        .unwrap();
    assert!(row["calls_today"].as_u64() < row["cap_today"].as_u64(), "{row}");
}
