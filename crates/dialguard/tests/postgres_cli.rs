//! `--database-url`: the command line on a PostgreSQL log gives what it
//! gives on the SQLite file. Needs the PostgreSQL at `DIALGUARD_TEST_PG`
//! (default `postgres://postgres@127.0.0.1:5432/test`, trust auth); each
//! test works in a schema of its own and drops it.

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

mod common;

use common::Schema;

fn dialguard(db: &Path, url: Option<&str>) -> Command {
    let mut cmd = Command::cargo_bin("dialguard").expect("the binary is built");
    cmd.arg("--db").arg(db).env_remove("DIALGUARD_DATABASE_URL");
    if let Some(url) = url {
        cmd.args(["--database-url", url]);
    }
    cmd
}

fn json(cmd: &mut Command) -> Value {
    let out = cmd.output().expect("dialguard runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/asterisk/Master.csv");

#[test]
fn a_postgres_log_reports_what_the_sqlite_file_reports_and_never_counts_twice() {
    let schema = Schema::new("cli_same");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let url = schema.url();
    let import = |url: Option<&str>| {
        json(
            dialguard(&db, url)
                .args(["import", "--format", "asterisk", "--output", "json"])
                .arg(EXAMPLE),
        )
    };
    let first = import(Some(&url));
    assert_eq!(
        (first["accepted"].as_u64(), first["duplicates"].as_u64()),
        (Some(10_000), Some(0))
    );
    let again = import(Some(&url));
    assert_eq!(
        (again["accepted"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(10_000))
    );
    import(None);
    assert!(db.exists(), "without --database-url the SQLite file holds the log");

    let report = |url: Option<&str>| {
        json(dialguard(&db, url).args(["report", "--format", "json", "--at", "2026-03-20T00:00:00Z"]))
    };
    let on_pg = report(Some(&url));
    assert_eq!(on_pg, report(None), "the two backends give the same figures");
    assert!(
        on_pg.to_string().contains("+13126970053"),
        "the report covers the file's numbers: {on_pg}"
    );
}

#[test]
fn a_bad_database_url_says_what_is_accepted_and_shows_no_password() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    for (url, says) in [
        ("mysql://root@localhost/x", "postgres://"),
        ("postgres://me:hunter2@127.0.0.1:1/x", "cannot connect"),
    ] {
        let out = dialguard(&db, Some(url)).arg("report").output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{url}: {stderr}");
        assert!(stderr.contains(says), "{url}: {stderr}");
        assert!(
            !stderr.contains("hunter2"),
            "the password stays out of messages: {stderr}"
        );
    }
    assert!(!db.exists(), "a failed URL does not fall back to the file");
}
