//! The `dialguard` binary as a user runs it: real files, a real database,
//! exit codes and output checked from outside.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

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

fn import_json(db: &Path, format: &str, file: &Path) -> (i32, Value) {
    let (code, stdout, stderr) = run(dialguard(db)
        .args(["import", "--format", format, "--output", "json"])
        .arg(file));
    let summary = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
    (code, summary)
}

fn report_json(db: &Path, at: &str) -> Value {
    let (code, stdout, stderr) = run(dialguard(db).args(["report", "--format", "json", "--at", at]));
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_str(&stdout).unwrap()
}

/// Every owned number's figures in every window, as of a day whose 30-day
/// window holds the whole generated week (2026-03-02 on): what a second
/// copy of any call would change. Checks the 30-day windows hold `calls`
/// attempts in all, so an empty report cannot pass for a right one.
fn whole_report(db: &Path, calls: u64) -> Value {
    let (code, stdout, stderr) =
        run(dialguard(db).args(["report", "--format", "json", "--at", "2026-03-20T00:00:00Z"]));
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let attempts: u64 = report["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["windows"].as_array()?.iter().find(|w| w["window"] == "30d"))
        .map(|w| w["attempts"].as_u64().unwrap())
        .sum();
    assert_eq!(attempts, calls, "the report covers every call once");
    report
}

fn generated_file(dir: &Path, rows: usize) -> PathBuf {
    let path = dir.join(format!("Master-{rows}.csv"));
    let mut file = std::fs::File::create(&path).unwrap();
    dialguard_formats::generate::asterisk_master_csv(rows, 20, 7, &mut file).unwrap();
    path
}

const AT: &str = "2030-01-01T00:00:00Z";

#[test]
fn importing_the_same_file_twice_adds_nothing_the_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let file = generated_file(dir.path(), 2_000);
    let (code, first) = import_json(&db, "asterisk", &file);
    assert_eq!(code, 0, "{first}");
    assert_eq!(first["accepted"], 2_000);
    let before = whole_report(&db, 2_000);
    let (code, second) = import_json(&db, "asterisk", &file);
    assert_eq!(code, 0);
    assert_eq!(
        (second["accepted"].as_u64(), second["duplicates"].as_u64()),
        (Some(0), Some(2_000))
    );
    assert_eq!(whole_report(&db, 2_000), before);
}

#[test]
fn an_import_killed_midway_and_run_again_ends_like_one_clean_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = generated_file(dir.path(), 300_000);
    let clean = dir.path().join("clean.db");
    let (code, _) = import_json(&clean, "asterisk", &file);
    assert_eq!(code, 0);

    let killed = dir.path().join("killed.db");
    let mut child = dialguard(&killed)
        .args(["import", "--format", "asterisk"])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill as soon as the first batches are durable, long before the end.
    let mut stored = 0;
    for _ in 0..2_000 {
        std::thread::sleep(Duration::from_millis(5));
        if let Ok(log) = dialguard_store::SqliteLog::open(&killed) {
            use dialguard_store::EventLog;
            stored = log.count("default").unwrap_or(0);
            if stored > 0 {
                break;
            }
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        stored > 0 && stored < 300_000,
        "the import was stopped midway ({stored} stored)"
    );

    let (code, rerun) = import_json(&killed, "asterisk", &file);
    assert_eq!(code, 0);
    assert_eq!(
        rerun["accepted"].as_u64().unwrap() + rerun["duplicates"].as_u64().unwrap(),
        300_000
    );
    assert_eq!(whole_report(&killed, 300_000), whole_report(&clean, 300_000));
}

#[test]
fn malformed_rows_are_named_and_every_good_row_lands() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let file = dir.path().join("Master.csv");
    std::fs::write(
        &file,
        concat!(
            "\"\",\"4155550100\",\"2125550101\",\"outbound\",\"\"\"ACME\"\" <4155550100>\",\"PJSIP/trunk-0001\",\"PJSIP/trunk-0002\",\"Dial\",\"PJSIP/2125550101@trunk,30\",\"2026-03-02 09:15:01\",\"2026-03-02 09:15:05\",\"2026-03-02 09:16:05\",64,60,\"ANSWERED\",\"DOCUMENTATION\",\"1772442901.1\"\n",
            "this row is not a CDR\n",
            "\"\",\"4155550100\",\"2125550102\",\"outbound\",\"\",\"PJSIP/trunk-0003\",\"\",\"Dial\",\"\",\"not a time\",\"\",\"2026-03-02 09:17:05\",10,0,\"NO ANSWER\",\"DOCUMENTATION\",\"1772442902.2\"\n",
            "\"\",\"4155550100\",\"2125550103\",\"outbound\",\"\",\"PJSIP/trunk-0004\",\"\",\"Dial\",\"\",\"2026-03-02 09:18:01\",\"\",\"2026-03-02 09:18:21\",20,0,\"BUSY\",\"DOCUMENTATION\",\"1772442903.3\"\n",
        ),
    )
    .unwrap();
    let rejects = dir.path().join("rejects.csv");
    let (code, stdout, stderr) = run(dialguard(&db)
        .args(["import", "--format", "asterisk", "--rejects"])
        .arg(&rejects)
        .arg(&file));
    assert_eq!(code, 3, "exit 3 says some rows were rejected: {stdout} {stderr}");
    assert!(stdout.contains("accepted 2, duplicates 0, rejected 2"), "{stdout}");
    assert!(
        stderr.contains(":line 2:") && stderr.contains(":line 3:"),
        "the bad lines are named: {stderr}"
    );
    let rejects = std::fs::read_to_string(rejects).unwrap();
    assert_eq!(rejects.lines().count(), 3, "a header and both bad rows: {rejects}");
    assert!(rejects.lines().nth(2).unwrap().contains(",line,3,"), "{rejects}");
}

#[test]
fn empty_and_binary_files_get_a_clear_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    let binary = dir.path().join("photo.csv");
    std::fs::write(&binary, [0x89u8, b'P', b'N', b'G', 0, 0, 0, 13, 0xff, 0xfe, 0]).unwrap();
    for file in [&empty, &binary] {
        let (code, stdout, stderr) = run(dialguard(&db).args(["import", "--format", "asterisk"]).arg(file));
        assert_eq!(code, 1, "{stdout} {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        let lower = stdout.to_lowercase();
        assert!(
            lower.contains("is empty") || lower.contains("not a text file"),
            "{stdout}"
        );
    }
}

#[test]
fn numbers_added_are_listed_and_scope_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let (code, _, stderr) =
        run(dialguard(&db).args(["numbers", "add", "(415) 555-0100", "+12125550199", "--pool", "sales"]));
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, _) = run(dialguard(&db).args(["numbers", "list", "--format", "json"]));
    assert_eq!(code, 0);
    let listed: Value = serde_json::from_str(&stdout).unwrap();
    let numbers: Vec<&str> = listed["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["+12125550199", "+14155550100"]);
    let report = report_json(&db, AT);
    assert_eq!(report["numbers"].as_array().unwrap().len(), 2);

    let (code, _, stderr) = run(dialguard(&db).args(["numbers", "add", "555", "--pool", "sales"]));
    assert_eq!(code, 1);
    assert!(stderr.contains("\"555\""), "the bad number is named: {stderr}");
}

#[test]
fn a_read_command_on_a_database_that_does_not_exist_says_so_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("dialgaurd.db");
    let n = "+14155550100";
    let business = dir.path().join("business.toml");
    std::fs::write(
        &business,
        "legal_name = \"Acme LLC\"\nwebsite = \"https://acme.example\"\naddress = \"1 Main St\"\n\
         years_in_operation = 3\nuse_case = \"reminders\"\nopt_in_process = \"intake form\"\n\
         contact_email = \"ops@acme.example\"\n",
    )
    .unwrap();
    let business = business.to_str().unwrap();
    let commands: [&[&str]; 12] = [
        &["numbers", "list"],
        &["report"],
        &["explain", n],
        &["labels", "list"],
        &["labels", "add", n, "--carrier", "att", "--clean"],
        &["history", n],
        &["disputes", "list"],
        &["export", "fcr", "--business", business],
        &["export", "numbers"],
        &["package", n, "--business", business, "--out", "pkg"],
        &["numbers", "set-state", n, "retired", "--reason", "x"],
        &["disputes", "update", n, "hiya", "submitted"],
    ];
    for args in commands {
        let (code, _, stderr) = run(dialguard(&typo).args(args));
        assert_ne!(code, 0, "{args:?}");
        assert!(
            stderr.contains("there is no database at") && stderr.contains("dialgaurd.db"),
            "{args:?}: {stderr}"
        );
        assert!(!typo.exists(), "{args:?} created the database");
    }
}

#[cfg(unix)]
#[test]
fn a_reader_that_stops_early_ends_the_command_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let mut child = dialguard(&dir.path().join("d.db"))
        .args(["simulate", "--print-engines"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `| head -0`: the reader is gone before the first line is written.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_ne!(out.status.code(), Some(101), "{stderr}");
    assert!(
        out.status.success() || out.status.signal() == Some(libc::SIGPIPE),
        "{:?}: {stderr}",
        out.status
    );
}

#[test]
fn report_and_explain_answer_as_of_now_like_every_command_and_say_when_the_log_is_older() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let (code, _) = import_json(&db, "asterisk", &generated_file(dir.path(), 500));
    assert_eq!(code, 0);
    let (code, stdout, stderr) = run(dialguard(&db).args(["report", "--format", "json"]));
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let written = report["at"].as_str().unwrap();
    assert!(
        written.len() == 20 && written.ends_with('Z') && written.as_bytes()[10] == b'T',
        "an instant to the second, as the reader expects: {written}"
    );
    let at: jiff::Timestamp = written.parse().unwrap();
    assert!(jiff::Timestamp::now().duration_since(at).as_secs() < 600, "{at}");
    assert!(
        stderr.contains("the newest record in the log is 2026-03-") && stderr.contains("pass --at 2026-03-"),
        "{stderr}"
    );
    let number = report["numbers"][0]["number"].as_str().unwrap().to_owned();
    let (code, stdout, stderr) = run(dialguard(&db).args(["explain", &number, "--format", "json"]));
    assert_eq!(code, 0, "{stderr}");
    let explained: Value = serde_json::from_str(&stdout).unwrap();
    let explained_at: jiff::Timestamp = explained["at"].as_str().unwrap().parse().unwrap();
    assert!(explained_at >= at, "{explained_at} {at}");
    assert!(stderr.contains("pass --at"), "{stderr}");
    // Asked at an instant, no note.
    let (_, _, stderr) = run(dialguard(&db).args(["report", "--at", "2026-03-09T00:00:00Z"]));
    assert!(!stderr.contains("note:"), "{stderr}");
}

#[test]
fn every_command_reads_the_configuration_beside_the_database_and_the_tenant_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let at = "2026-03-02T15:00:00Z";
    let (code, _, stderr) = run(dialguard(&db).args(["numbers", "add", "+14155550100", "--pool", "sales", "--at", at]));
    assert_eq!(code, 0, "{stderr}");
    let cap = |extra: &[&str]| {
        let (code, stdout, stderr) = run(dialguard(&db)
            .args(["numbers", "list", "--format", "json", "--at", "2026-03-02T16:00:00Z"])
            .args(extra));
        assert_eq!(code, 0, "{stderr}");
        serde_json::from_str::<Value>(&stdout).unwrap()["numbers"][0]["cap_today"]
            .as_u64()
            .unwrap()
    };
    let unset = cap(&[]);
    assert!(unset > 2, "{unset}");
    // The server's file, beside the database: the command line reads it too.
    std::fs::write(dir.path().join("dialguard.toml"), "[guard]\ndaily_cap = 2\n").unwrap();
    assert_eq!(cap(&[]), 2);
    // Named with --config, another file wins.
    let other = dir.path().join("other.toml");
    std::fs::write(&other, "[guard]\ndaily_cap = 1\n").unwrap();
    assert_eq!(cap(&["--config", other.to_str().unwrap()]), 1);
    // A bad file is an error naming it, not the defaults.
    std::fs::write(&other, "[guard]\ndaily_cpa = 1\n").unwrap();
    let (code, _, stderr) = run(dialguard(&db).args(["numbers", "list", "--config", other.to_str().unwrap()]));
    assert_eq!(code, 1);
    assert!(stderr.contains("other.toml"), "{stderr}");

    // What `simulate --record` wrote is read with --tenant.
    let sim = dir.path().join("sim.db");
    let (code, _, stderr) = run(dialguard(&sim).args([
        "simulate",
        "--days",
        "1",
        "--numbers",
        "3",
        "--contacts",
        "300",
        "--strategies",
        "dialguard",
        "--record",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let listed = |extra: &[&str]| {
        let (code, stdout, stderr) = run(dialguard(&sim)
            .args(["numbers", "list", "--format", "json"])
            .args(extra));
        assert_eq!(code, 0, "{stderr}");
        serde_json::from_str::<Value>(&stdout).unwrap()["numbers"]
            .as_array()
            .map_or(0, Vec::len)
    };
    assert_eq!(listed(&[]), 0, "the default tenant holds nothing");
    assert_eq!(listed(&["--tenant", "sim-dialguard"]), 3);
}

/// The README's shell examples that run to an end (every `cargo run
/// --release -- …` line but `demo` and `serve`, which serve until stopped), run as
/// written against the built binary, with the database put in a temporary
/// directory: the examples stay true.
#[test]
fn the_readmes_examples_run_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut ran = 0;
    let mut in_shell = false;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_shell = line == "```sh";
            continue;
        }
        let Some(args) = line.strip_prefix("cargo run --release -- ").filter(|_| in_shell) else {
            continue;
        };
        let args: Vec<String> = args
            .split_whitespace()
            .map(|a| match a.strip_suffix(".db") {
                Some(name) => dir.path().join(format!("{name}.db")).display().to_string(),
                None => a.to_owned(),
            })
            .collect();
        if args.iter().any(|a| a == "demo" || a == "serve") {
            continue;
        }
        let out = Command::cargo_bin("dialguard")
            .unwrap()
            .current_dir(&root)
            .args(&args)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{line}: {}\n{stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
        if args.iter().any(|a| a == "report") {
            assert!(
                stdout.contains("— last 24h; 10000 calls in the log"),
                "{line}: {stdout}"
            );
        }
        ran += 1;
    }
    assert!(ran >= 2, "the README's examples were not found ({ran} ran)");
}

#[test]
fn a_pbx_format_imported_without_its_zone_says_its_stamps_were_read_as_utc() {
    let dir = tempfile::tempdir().unwrap();
    let file = generated_file(dir.path(), 50);
    let (code, _, stderr) = run(dialguard(&dir.path().join("a.db"))
        .args(["import", "--format", "asterisk"])
        .arg(&file));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("reading it as UTC") && stderr.contains("--timezone"),
        "{stderr}"
    );
    let (code, _, stderr) = run(dialguard(&dir.path().join("b.db"))
        .args(["import", "--format", "asterisk", "--timezone", "America/Chicago"])
        .arg(&file));
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("reading it as UTC"), "{stderr}");
}
