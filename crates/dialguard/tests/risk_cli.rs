//! `dialguard explain` and `dialguard labels` as a user runs them: a real
//! database, real profile files, exit codes and output checked from outside.

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use dialguard_core::{Call, Cause, Direction, E164, Event, Outcome, Source};
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

const OURS: &str = "+14155550100";
const AT: &str = "2026-03-20T21:30:00Z";

fn dialguard(db: &Path) -> Command {
    let mut cmd = Command::cargo_bin("dialguard").expect("the binary is built");
    cmd.arg("--db").arg(db).env_remove("DIALGUARD_PROFILES");
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

/// Two weeks of a campaign whose callees hang up on half the answered
/// calls, written straight into the log.
fn hang_up_heavy_history(db: &Path) {
    let from = E164::parse_valid(OURS).unwrap();
    let end: Timestamp = AT.parse().unwrap();
    let mut events = Vec::new();
    for day in 0..14i64 {
        for i in 0..80i64 {
            let started_at = end - SignedDuration::from_hours(24 * day + 5) + SignedDuration::from_secs(i * 200);
            let (outcome, talk) = match i % 4 {
                0 => (Outcome::NoAnswer, 0),
                1 | 2 => (Outcome::Answered, 3),
                _ => (Outcome::Answered, 120),
            };
            events.push(Event::Call(Call {
                from,
                to: E164::from_digits_unchecked(12_125_550_000 + (day * 100 + i) as u64),
                direction: Direction::Outbound,
                started_at,
                answered_at: (outcome == Outcome::Answered).then_some(started_at),
                ended_at: started_at + SignedDuration::from_secs(talk + 5),
                talk_seconds: talk as u32,
                outcome,
                cause: Cause::Unspecified,
                source: Source::Api,
                source_id: format!("{day}-{i}"),
            }));
        }
    }
    let mut log = dialguard_store::open(db).unwrap();
    log.append("default", &events).unwrap();
}

fn explain_json(db: &Path, extra: &[&str]) -> Value {
    let (code, stdout, stderr) = run(dialguard(db)
        .args(["explain", OURS, "--at", AT, "--format", "json"])
        .args(extra));
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn factor<'a>(assessment: &'a Value, profile: &str, name: &str) -> &'a Value {
    let score = assessment["scores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["profile"] == profile)
        .unwrap();
    score["factors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap()
}

#[test]
fn explain_names_the_factor_behind_a_hang_up_heavy_number() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    hang_up_heavy_history(&db);

    let a = explain_json(&db, &[]);
    assert_eq!(a["number"], OURS);
    assert_eq!(a["scores"].as_array().unwrap().len(), 3);
    let short = factor(&a, "hiya", "short_calls");
    assert_eq!(short["points"], short["weight"]);
    assert!(
        short["text"]
            .as_str()
            .unwrap()
            .starts_with("67 % of answered calls lasted 6 s or less"),
        "{short}"
    );
    let rules: Vec<&str> = a["triggers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"short_calls"), "{rules:?}");

    let (code, table, stderr) = run(dialguard(&db).args(["explain", "4155550100", "--at", AT]));
    assert_eq!(code, 0, "{stderr}");
    assert!(table.starts_with(&format!("{OURS} as of {AT}: ")), "{table}");
    for needle in [
        "hiya: ",
        "tns: ",
        "first-orion: ",
        "short_calls",
        "67 % of answered calls lasted 6 s or less",
        "quarantine triggers:",
        // The score's quarantine line counts evidence points only, and says so.
        "quarantine when its evidence points (complaints, blocked calls",
    ] {
        assert!(table.contains(needle), "{needle:?} missing from\n{table}");
    }
}

#[test]
fn edited_profiles_replace_the_shipped_ones() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    hang_up_heavy_history(&db);
    let profiles = dir.path().join("profiles");
    std::fs::create_dir(&profiles).unwrap();
    let shipped = dialguard_core::risk::SHIPPED[0].1;
    let lenient = shipped.replacen(
        "weight = 30  # [hiya-card] engagement grade",
        "weight = 0  # turned off here",
        1,
    );
    assert_ne!(lenient, shipped);
    std::fs::write(profiles.join("lenient.toml"), lenient).unwrap();

    let a = explain_json(&db, &["--profiles", profiles.to_str().unwrap()]);
    let names: Vec<&str> = a["scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["profile"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["lenient"]);
    assert_eq!(factor(&a, "lenient", "short_calls")["points"], 0.0);
}

#[test]
fn a_bad_profile_is_refused_with_its_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    hang_up_heavy_history(&db);
    let profiles = dir.path().join("profiles");
    std::fs::create_dir(&profiles).unwrap();
    let broken = dialguard_core::risk::SHIPPED[0]
        .1
        .replacen("strong = 0.20  # [volli]", "strong = 0.05  # [volli]", 1);
    std::fs::write(profiles.join("hiya.toml"), &broken).unwrap();
    let line = broken.lines().position(|l| l.starts_with("strong = 0.05")).unwrap() + 1;

    let (code, stdout, stderr) = run(dialguard(&db)
        .args(["explain", OURS, "--at", AT])
        .env("DIALGUARD_PROFILES", &profiles));
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stderr.contains(&format!(
            "hiya.toml:{line}: factors.short_calls.strong: 0.05 must be at or above concern (0.15)"
        )),
        "{stderr}"
    );

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (code, _, stderr) = run(dialguard(&db).args(["explain", OURS, "--profiles"]).arg(&empty));
    assert_eq!(code, 1);
    assert!(stderr.contains("no *.toml profiles in"), "{stderr}");
}

#[test]
fn explain_refuses_what_it_cannot_judge() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    hang_up_heavy_history(&db);
    let (code, _, stderr) = run(dialguard(&db).args(["explain", "+12125550199"]));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("+12125550199 has no calls or labels in the log"),
        "{stderr}"
    );
    let (code, _, stderr) = run(dialguard(&db).args(["explain", "not-a-number"]));
    assert_eq!(code, 1);
    assert!(stderr.contains("number \"not-a-number\""), "{stderr}");
    let (code, _, _) = run(dialguard(&db).args(["explain", OURS, "--at", "yesterday"]));
    assert_eq!(code, 2, "a bad --at is a usage error");
    let (code, _, _) = run(dialguard(&db).args(["explain", OURS, "--format", "csv"]));
    assert_eq!(code, 2);
}

/// `labels list OURS` as of 2026-03-21, as JSON.
fn labels_of_ours(db: &Path) -> Value {
    let (code, stdout, stderr) = run(dialguard(db).args([
        "labels",
        "list",
        OURS,
        "--at",
        "2026-03-21T00:00:00Z",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_str(&stdout).unwrap()
}

/// Registers OURS in the pool `sales` from 2026-03-01.
fn register_ours(db: &Path) {
    let (code, _, stderr) = run(dialguard(db).args([
        "numbers",
        "add",
        OURS,
        "--pool",
        "sales",
        "--at",
        "2026-03-01T00:00:00Z",
    ]));
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn labels_are_recorded_listed_and_override_health() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    hang_up_heavy_history(&db);
    let add = |args: &[&str]| run(dialguard(&db).args(["labels", "add", "(415) 555-0100"]).args(args));
    // Not registered yet: refused as a likely typo, with what to do.
    let (code, _, stderr) = add(&["--carrier", "att", "--clean", "--at", "2026-03-20T11:00:00Z"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("+14155550100 is not a registered number"), "{stderr}");
    assert!(stderr.contains("--allow-unregistered"), "{stderr}");
    register_ours(&db);

    let (code, stdout, stderr) = add(&[
        "--carrier",
        "AT&T",
        "--label",
        "Spam Likely",
        "--at",
        "2026-03-20T12:00:00Z",
        "--source",
        "test_call",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("recorded: +14155550100 on att (hiya) showed \"Spam Likely\""),
        "{stdout}"
    );
    let (code, _, stderr) = add(&["--carrier", "t-mobile", "--clean", "--at", "2026-03-20T13:00:00Z"]);
    assert_eq!(code, 0, "{stderr}");

    let listed = labels_of_ours(&db);
    let carriers = &listed["numbers"][0]["carriers"];
    assert_eq!(
        (carriers[0]["carrier"].as_str(), carriers[0]["label"].as_str()),
        (Some("att"), Some("Spam Likely"))
    );
    assert_eq!(
        (carriers[1]["engine"].as_str(), carriers[1]["label"].as_str()),
        (Some("first-orion"), None)
    );
    assert_eq!(listed["numbers"][0]["history"].as_array().unwrap().len(), 2);

    let (code, table, _) = run(dialguard(&db).args(["labels", "list", "--at", "2026-03-21T00:00:00Z"]));
    assert_eq!(code, 0);
    assert!(table.contains("Spam Likely") && table.contains("clean"), "{table}");

    let a = explain_json(&db, &[]);
    assert_eq!(a["health"], "labeled");
    assert!(
        a["triggers"].as_array().unwrap().iter().any(|t| t["rule"] == "label"),
        "{}",
        a["triggers"]
    );
    // Before the label was seen, the number was not labeled.
    let earlier = run(dialguard(&db).args(["explain", OURS, "--at", "2026-03-20T11:00:00Z", "--format", "json"])).1;
    assert_ne!(serde_json::from_str::<Value>(&earlier).unwrap()["health"], "labeled");
}

#[test]
fn a_label_scan_export_imports_as_observations_once_however_often_it_is_imported() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    hang_up_heavy_history(&db);
    register_ours(&db);
    // A monitoring service's export: a column per carrier, US dates.
    let scan = dir.path().join("scan.csv");
    std::fs::write(
        &scan,
        "Phone Number,AT&T,Verizon,T-Mobile,Last Checked\n\
         (415) 555-0100,Spam Risk,Clean,,03/20/2026 12:00\n\
         415-555-01,Spam Risk,,,03/20/2026 12:00\n",
    )
    .unwrap();
    let import = || {
        let (code, stdout, stderr) = run(dialguard(&db)
            .args(["import", "--format", "labels", "--output", "json"])
            .arg(&scan));
        (
            code,
            serde_json::from_str::<Value>(&stdout).unwrap_or(Value::Null),
            stderr,
        )
    };
    let (code, first, stderr) = import();
    assert_eq!(code, 3, "a rejected row makes the import exit 3: {stderr}");
    assert_eq!(
        (first["accepted"].as_u64(), first["rejected"].as_u64()),
        (Some(2), Some(1)),
        "{first}"
    );
    let reject = &first["first_rejects"][0];
    assert_eq!(reject["line"], 3);
    assert!(reject["reason"].as_str().unwrap().contains("number"), "{reject}");
    let (_, again, _) = import();
    assert_eq!(
        (again["accepted"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(2)),
        "{again}"
    );

    let listed = labels_of_ours(&db);
    assert_eq!(listed["numbers"][0]["history"].as_array().unwrap().len(), 2, "{listed}");
    let carriers = &listed["numbers"][0]["carriers"];
    assert_eq!(
        (carriers[0]["carrier"].as_str(), carriers[0]["label"].as_str()),
        (Some("att"), Some("Spam Risk"))
    );
    assert_eq!(explain_json(&db, &[])["health"], "labeled");
}

#[test]
fn a_label_scan_with_headers_of_its_own_imports_through_a_map() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    hang_up_heavy_history(&db);
    register_ours(&db);
    let scan = dir.path().join("vendor-export.csv");
    std::fs::write(
        &scan,
        "Subscriber,Net,Shown As,Seen\n(415) 555-0100,verizon,Potential Spam,2026-03-20 12:00:00\n",
    )
    .unwrap();
    let (code, _, stderr) = run(dialguard(&db).args(["import", "--format", "labels"]).arg(&scan));
    assert_ne!(code, 0, "unrecognised headers without a map are refused");
    assert!(
        stderr.contains("Subscriber"),
        "the error lists the columns found: {stderr}"
    );

    let (code, _, stderr) = run(dialguard(&db)
        .args(["import", "--format", "labels", "--map", "number=Subscriber,carrier=Net"])
        .arg(&scan));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--map: the label map needs carrier= and label= together"),
        "{stderr}"
    );

    let (code, _, stderr) = run(dialguard(&db)
        .args([
            "import",
            "--format",
            "labels",
            "--map",
            "number=Subscriber,carrier=Net,label=Shown As,at=Seen",
        ])
        .arg(&scan));
    assert_eq!(code, 0, "{stderr}");
    let carriers = &labels_of_ours(&db)["numbers"][0]["carriers"];
    let verizon = carriers
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["carrier"] == "verizon")
        .unwrap_or_else(|| panic!("{carriers}"));
    assert_eq!(verizon["label"], "Potential Spam");
}

#[test]
fn tz_shows_instants_in_the_operators_zone_and_they_read_back_as_the_same_instant() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    register_ours(&db);
    let (code, _, stderr) = run(dialguard(&db).args([
        "labels",
        "add",
        OURS,
        "--carrier",
        "att",
        "--label",
        "Spam Likely",
        "--at",
        "2026-03-20T15:00:00Z",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let list = |extra: &[&str]| {
        let (code, out, err) = run(dialguard(&db)
            .args(extra)
            .args(["labels", "list", "--at", "2026-03-21T00:00:00Z"]));
        assert_eq!(code, 0, "{err}");
        out
    };
    let utc = list(&[]);
    assert!(utc.contains("2026-03-20T15:00:00Z"), "{utc}");
    // Chicago is on daylight time (UTC-5) from 8 March 2026.
    let chicago = list(&["--tz", "America/Chicago"]);
    assert!(chicago.contains("labels as of 2026-03-20T19:00:00-05:00"), "{chicago}");
    assert!(chicago.contains("2026-03-20T10:00:00-05:00"), "{chicago}");
    assert!(!chicago.contains("15:00:00Z"), "{chicago}");
    // What a person copies from the table is the same instant to --at.
    let (code, out, err) =
        run(dialguard(&db).args(["explain", OURS, "--at", "2026-03-20T10:00:00-05:00", "--format", "json"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["at"],
        "2026-03-20T15:00:00Z"
    );
    // JSON stays in UTC whatever the display zone.
    let (_, json, _) = run(dialguard(&db).args(["--tz", "America/Chicago", "labels", "list", "--format", "json"]));
    assert!(
        json.contains("2026-03-20T15:00:00Z") && !json.contains("-05:00"),
        "{json}"
    );
    let (code, _, err) = run(dialguard(&db).args(["--tz", "Central", "labels", "list"]));
    assert_ne!(code, 0);
    assert!(err.contains("--tz \"Central\" is not an IANA time zone"), "{err}");
}

#[test]
fn malformed_label_commands_are_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let add = |args: &[&str]| run(dialguard(&db).args(["labels", "add"]).args(args));
    let (code, _, stderr) = run(dialguard(&db).args(["numbers", "add", "+14155550101", "--pool", "sales"]));
    assert_eq!(code, 0, "{stderr}");
    let cases: [(&[&str], i32, &str); 8] = [
        (
            &[OURS, "--carrier", "sprint", "--clean"],
            1,
            "is not a carrier: use att, verizon or tmobile",
        ),
        (
            &[OURS, "--carrier", "att", "--label", "  "],
            1,
            "--label needs the text the handset showed",
        ),
        (
            &[OURS, "--carrier", "att", "--label", "Spam", "--source", " "],
            1,
            "--source must say how",
        ),
        (&["555", "--carrier", "att", "--clean"], 1, "number \"555\""),
        (&[OURS, "--carrier", "att"], 2, "--label"),
        (
            &[OURS, "--carrier", "att", "--clean"],
            1,
            "+14155550100 is not a registered number; did you mean +14155550101?",
        ),
        (
            &["+13105559876", "--carrier", "att", "--clean"],
            1,
            "+13105559876 is not a registered number\n",
        ),
        (
            &[OURS, "--carrier", "att", "--label", "Spam", "--clean"],
            2,
            "cannot be used with",
        ),
    ];
    for (args, want, message) in cases {
        let (code, _, stderr) = add(args);
        assert_eq!(code, want, "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    let (code, stdout, _) = run(dialguard(&db).args(["labels", "list"]));
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("no label observations"),
        "nothing was recorded: {stdout}"
    );
}

#[test]
fn numbers_lists_health_top_score_and_top_factor_at_an_instant() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    hang_up_heavy_history(&db);
    register_ours(&db);

    let (code, stdout, stderr) = run(dialguard(&db).args(["numbers", "list", "--at", AT, "--format", "json"]));
    assert_eq!(code, 0, "{stderr}");
    let listed: Value = serde_json::from_str(&stdout).unwrap();
    let row = &listed["numbers"][0];
    assert_eq!(row["number"], OURS);
    assert_ne!(row["health"], "healthy", "{row}");
    assert!(row["risk"].as_u64().unwrap() > 50, "{row}");
    assert!(
        ["short_calls", "engagement", "talk_time"].contains(&row["top_factor"].as_str().unwrap()),
        "the hang-ups are named: {row}"
    );
    let text = row["top_factor_text"].as_str().unwrap();
    assert!(text.contains("of answered calls lasted"), "{text}");

    let (code, table, stderr) = run(dialguard(&db).args(["numbers", "list", "--at", AT]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        table.contains("top factor") && table.contains("of answered calls lasted"),
        "{table}"
    );
}
