//! `dialguard simulate` and `dialguard plan` as a user runs them.

use std::path::Path;
use std::process::Command;

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

const SMALL: [&str; 10] = [
    "--days",
    "3",
    "--contacts",
    "2000",
    "--numbers",
    "4",
    "--calls-per-minute",
    "1",
    "--history-days",
    "2",
];

#[test]
fn simulate_prints_the_strategies_side_by_side_and_is_repeatable() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let json = |extra: &[&str]| {
        let (code, out, err) = run(dialguard(&db)
            .arg("simulate")
            .args(SMALL)
            .args(extra)
            .args(["--format", "json"]));
        assert_eq!(code, 0, "{err}");
        assert!(err.is_empty(), "no progress bar when stderr is not a terminal: {err}");
        serde_json::from_str::<Value>(&out).unwrap()
    };
    let first = json(&[]);
    let names: Vec<&str> = first["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["strategy"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["round_robin", "capped", "dialguard"]);
    assert_eq!(first["strategies"][2]["violating_calls"], 0);
    assert_eq!(first, json(&[]), "same seed, same table");
    assert_ne!(first["strategies"], json(&["--seed", "2"])["strategies"]);
    let one = json(&["--strategies", "capped"]);
    assert_eq!(one["strategies"].as_array().unwrap().len(), 1);

    let (code, table, _) = run(dialguard(&db).arg("simulate").args(SMALL));
    assert_eq!(code, 0);
    for row in [
        "conversations",
        "label-days",
        "legal violations",
        "numbers ever labeled",
        "denials",
    ] {
        assert!(table.contains(row), "{row} in {table}");
    }
}

#[test]
fn simulate_refuses_bad_settings_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let cases: &[(&[&str], &str)] = &[
        (&["--strategies", "rotate"], "round_robin, capped or dialguard"),
        (&["--days", "0"], "days"),
        (&["--calls-per-minute", "0"], "calls_per_minute"),
        (&["--severity", "0"], "severity"),
        (&["--cap", "0"], "capped_daily_cap"),
    ];
    for (args, mentions) in cases {
        let base = ["--contacts", "2000", "--numbers", "4", "--history-days", "1"];
        let (code, _, err) = run(dialguard(&db).arg("simulate").args(base).args(*args));
        assert_ne!(code, 0, "{args:?}");
        assert!(err.contains(mentions), "{args:?}: {err}");
    }
    let bad = dir.path().join("engines.toml");
    std::fs::write(&bad, "[att]\nlabel_at = 'high'\n").unwrap();
    let (code, _, err) = run(dialguard(&db).arg("simulate").arg("--engines").arg(&bad));
    assert_ne!(code, 0);
    assert!(err.contains("engines.toml") && err.contains("--print-engines"), "{err}");
}

#[test]
fn the_guard_in_a_simulation_runs_on_the_configuration_every_command_reads() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let guard = |config: Option<&Path>| {
        let mut cmd = dialguard(&db);
        if let Some(config) = config {
            cmd.arg("--config").arg(config);
        }
        let (code, out, err) =
            run(cmd
                .arg("simulate")
                .args(SMALL)
                .args(["--strategies", "dialguard", "--format", "json"]));
        assert_eq!(code, 0, "{err}");
        let report: Value = serde_json::from_str(&out).unwrap();
        report["strategies"][0]["calls"].as_u64().unwrap()
    };
    let defaults = guard(None);
    let tight = dir.path().join("tight.toml");
    std::fs::write(&tight, "[guard]\ndaily_cap = 2\n").unwrap();
    let capped = guard(Some(&tight));
    // Four numbers, three days, two calls a day each at most.
    assert!(
        capped <= 4 * 3 * 2,
        "the configuration's daily cap held: {capped} calls"
    );
    assert!(capped < defaults, "{capped} calls under the cap, {defaults} without it");
    // A misspelt key is refused, naming it, rather than simulated on defaults.
    let typo = dir.path().join("typo.toml");
    std::fs::write(&typo, "[control]\nprobe_stepp = 0.2\n").unwrap();
    let (code, _, err) = run(dialguard(&db).arg("--config").arg(&typo).arg("simulate").args(SMALL));
    assert_ne!(code, 0);
    assert!(err.contains("probe_stepp"), "{err}");
}

#[test]
fn the_engines_printed_can_be_edited_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let (code, printed, _) = run(dialguard(&db).args(["simulate", "--print-engines"]));
    assert_eq!(code, 0);
    assert!(
        printed.contains("[verizon]") && printed.contains("label_at"),
        "{printed}"
    );
    let file = dir.path().join("harsh.toml");
    std::fs::write(
        &file,
        printed
            .replace("label_at = 40.0", "label_at = 10.0")
            .replace("clear_below = 20.0", "clear_below = 5.0"),
    )
    .unwrap();
    let labels = |extra: &[&str]| {
        let (code, out, err) = run(dialguard(&db)
            .arg("simulate")
            .args(SMALL)
            .args(["--strategies", "round_robin", "--format", "json"])
            .args(extra));
        assert_eq!(code, 0, "{err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        v["strategies"][0]["label_days"].as_f64().unwrap()
    };
    let harsh = labels(&["--engines", file.to_str().unwrap()]);
    let usual = labels(&[]);
    assert!(harsh > usual, "a harsher engine labels more: {harsh} vs {usual}");
    assert!(labels(&["--severity", "0.3"]) < usual, "a milder one less");
}

#[test]
fn simulate_records_each_strategy_into_its_own_tenant_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sim.db");
    let args = ["--strategies", "dialguard", "--record", "--format", "json"];
    let (code, _, err) = run(dialguard(&db).arg("simulate").args(SMALL).args(args));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("sim-dialguard"), "{err}");
    let (code, _, err) = run(dialguard(&db).arg("simulate").args(SMALL).args(args));
    assert_ne!(code, 0, "a second run would mix two campaigns");
    assert!(err.contains("fresh file with --db"), "{err}");
}

#[test]
fn plan_sizes_a_pool_for_a_volume() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let (code, out, err) = run(dialguard(&db).args(["plan", "--calls-per-day", "20000", "--format", "json"]));
    assert_eq!(code, 0, "{err}");
    let plan: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(plan["mature"]["per_number_daily"], 150);
    assert_eq!(plan["mature"]["working"], 134);
    assert_eq!(plan["mature"]["total"], 161);
    let (code, table, _) = run(dialguard(&db).args(["plan", "--calls-per-day", "3000"]));
    assert_eq!(code, 0);
    assert!(table.contains("3000 calls a day") && table.contains("tns"), "{table}");
    for bad in [["--calls-per-day", "0"], ["--calls-per-day", "x"]] {
        let (code, _, err) = run(dialguard(&db).arg("plan").args(bad));
        assert_ne!(code, 0);
        assert!(err.contains("calls_per_day") || err.contains("calls-per-day"), "{err}");
    }
}

#[test]
fn frontier_names_the_best_fixed_cap_no_dirtier_than_the_guard() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let frontier = |extra: &[&str]| {
        let (code, out, err) = run(dialguard(&db)
            .args(["simulate", "--frontier", "--format", "json"])
            .args(SMALL)
            .args(extra));
        assert_eq!(code, 0, "{err}");
        serde_json::from_str::<Value>(&out).unwrap()
    };
    let f = frontier(&[]);
    let caps = f["caps"].as_array().unwrap();
    let listed: Vec<u64> = caps.iter().map(|c| c["cap"].as_u64().unwrap()).collect();
    assert_eq!(listed, [5, 10, 15, 20, 25, 30, 40, 50, 60, 75, 90, 100, 125, 150, 200]);
    let guard_days = f["guard"]["label_days"].as_f64().unwrap();
    let eligible: Vec<&Value> = caps
        .iter()
        .filter(|c| c["label_days"].as_f64().unwrap() <= guard_days)
        .collect();
    let most = eligible.iter().map(|c| c["conversations"].as_u64().unwrap()).max();
    assert_eq!(f["best"]["conversations"].as_u64(), most, "{f}");
    if let Some(most) = most {
        let ratio = f["guard"]["conversations"].as_f64().unwrap() / most.max(1) as f64;
        assert!((f["ratio"].as_f64().unwrap() - ratio).abs() < 1e-9);
    }

    // Drawn engines are other engines, the same for the same seed.
    let drawn = frontier(&["--engines", "random", "--engine-seed", "4"]);
    assert_ne!(drawn["scenario"]["engines"], f["scenario"]["engines"]);
    assert_eq!(
        drawn["scenario"]["engines"],
        frontier(&["--engines", "random", "--engine-seed", "4"])["scenario"]["engines"]
    );

    let (code, table, _) = run(dialguard(&db).args(["simulate", "--frontier"]).args(SMALL));
    assert_eq!(code, 0);
    assert!(table.contains("capped 200") && table.contains("dialguard"), "{table}");
    assert!(
        table.contains("best fixed cap in hindsight") || table.contains("no fixed cap had as few"),
        "{table}"
    );
    let (code, _, err) = run(dialguard(&db).args(["simulate", "--frontier", "--cap", "20"]));
    assert_ne!(code, 0);
    assert!(err.contains("--cap"), "{err}");
}

/// `dialguard serve --clock event` on a fresh database, until dropped.
struct Served {
    child: std::process::Child,
    url: String,
}

impl Served {
    fn start(db: &Path) -> Served {
        use std::io::BufRead;
        let mut child = dialguard(db)
            .args(["serve", "--listen", "127.0.0.1:0", "--clock", "event"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("dialguard serves");
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let url = first
            .trim()
            .strip_prefix("dialguard listening on ")
            .unwrap_or_else(|| panic!("{first}"))
            .to_owned();
        Served { child, url }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_guard_asked_through_a_running_server_runs_the_campaign_the_engine_runs_in_process() {
    let dir = tempfile::tempdir().unwrap();
    let served_db = dir.path().join("served.db");
    let served = Served::start(&served_db);
    let report = |extra: &[&str]| -> Value {
        let (code, out, err) = run(dialguard(&dir.path().join("sim.db"))
            .arg("simulate")
            .args(SMALL)
            .args(["--strategies", "dialguard", "--format", "json"])
            .args(extra));
        assert_eq!(code, 0, "{err}");
        serde_json::from_str::<Value>(&out).unwrap()["strategies"][0].clone()
    };
    let remote = report(&["--server", &served.url]);
    let local = report(&[]);
    assert!(remote["calls"].as_u64().unwrap() > 100, "{remote}");
    // The same campaign, the same guard: the server ticks on its own
    // schedule (on each request, not each simulated minute), so the runs
    // part by a few calls, and who answers by chance.
    let (r, l) = (remote["calls"].as_f64().unwrap(), local["calls"].as_f64().unwrap());
    assert!((r - l).abs() <= 0.05 * l, "calls: {r} over HTTP, {l} in process");
    for field in ["answered", "conversations"] {
        let (r, l) = (remote[field].as_f64().unwrap(), local[field].as_f64().unwrap());
        assert!(
            (r - l).abs() <= 3.0 * l.sqrt() + 2.0,
            "{field}: {r} over HTTP, {l} in process"
        );
    }
    for law in ["outside_hours", "opted_out", "frequency"] {
        assert_eq!(remote["violations"][law], 0, "{remote}");
    }
    // What the server was told is in its log: every campaign call (and the
    // numbers' earlier calls), readable by every command.
    drop(served);
    let (code, out, err) = run(dialguard(&served_db).args(["numbers", "list", "--format", "json"]));
    assert_eq!(code, 0, "{err}");
    let numbers: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(numbers["numbers"].as_array().unwrap().len(), 4, "{numbers}");
    assert!(
        numbers["numbers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["pool"] == "campaign")
    );
}

#[test]
fn a_server_that_is_not_there_or_refuses_the_token_stops_the_run_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sim.db");
    // Nothing listens on the port a just-closed listener had.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (code, _, err) = run(dialguard(&db).arg("simulate").args(SMALL).args([
        "--strategies",
        "dialguard",
        "--server",
        &format!("http://127.0.0.1:{port}"),
    ]));
    assert_ne!(code, 0);
    assert!(
        err.contains(&format!("127.0.0.1:{port}")) && err.contains("serve --clock event"),
        "{err}"
    );

    let (code, _, err) = run(dialguard(&db).arg("simulate").args(SMALL).args([
        "--strategies",
        "dialguard",
        "--server",
        "127.0.0.1:8080",
    ]));
    assert_ne!(code, 0);
    assert!(err.contains("base URL"), "{err}");

    // A server with tokens answers 401 to a wrong one; the run stops on it.
    let config = dir.path().join("dialguard.toml");
    std::fs::write(
        &config,
        "tokens = [{ token = \"s3cret-token-for-acme\", tenant = \"acme\" }]\n",
    )
    .unwrap();
    let served = Served::start(&dir.path().join("served.db"));
    let (code, _, err) = run(dialguard(&db).arg("simulate").args(SMALL).args([
        "--strategies",
        "dialguard",
        "--server",
        &served.url,
        "--token",
        "wrong-token",
    ]));
    assert_ne!(code, 0);
    assert!(err.contains("401"), "{err}");
}
