//! `dialguard simulate` and `dialguard plan`: what dialguard changes on a
//! campaign like yours, and how many numbers a volume needs.
//!
//! `simulate` runs the same campaign (same people, same seed) several ways
//! through `dialguard-sim` and prints them side by side. With `--record`,
//! each strategy's events go to the event log under the tenant
//! `sim-<strategy>`, so the other commands (and `dialguard demo`) can show
//! the run as if it had happened.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use dialguard_core::Event;
use dialguard_core::engine::EngineConfig;
use dialguard_core::guard::{DenyReason, GuardConfig};
use dialguard_sim::plan::{CapacityPlan, PlanRequest, Sizing};
use dialguard_sim::{
    EmulatorConfig, EventSink, FIXED_CAPS, Frontier, RemoteGuard, Scenario, Simulator, StrategyKind, StrategyReport,
};
use dialguard_store::EventLog;
use indicatif::{ProgressBar, ProgressStyle};
use jiff::Timestamp;
use serde::Serialize;

use crate::cmd::risk::risk_config;
use crate::output::{self, table};
use crate::replay::Store;

/// Events per transaction when recording a run into the log.
const BATCH: usize = 10_000;

#[derive(clap::Args)]
pub struct SimulateArgs {
    /// Days to simulate.
    #[arg(long, default_value_t = 45)]
    days: u32,
    /// Caller-id numbers in the pool.
    #[arg(long, default_value_t = 20)]
    numbers: u32,
    /// People on the contact list.
    #[arg(long, default_value_t = 40_000)]
    contacts: u32,
    /// Calls the dialer places per minute while the call center is open (08:00-20:00 Central).
    #[arg(long, default_value_t = 6.0)]
    calls_per_minute: f64,
    /// The seed: the same seed gives the same people, moods and results.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Strategies to run, comma-separated: round_robin, capped, dialguard.
    #[arg(long, value_delimiter = ',', default_value = "round_robin,capped,dialguard")]
    strategies: Vec<StrategyKind>,
    /// The `capped` strategy's fixed daily cap per number.
    #[arg(long, default_value_t = 150)]
    cap: u32,
    /// Months since the contact list was bought: its share of dead numbers follows 2.5 % monthly churn.
    #[arg(long, default_value_t = 3.0)]
    list_age_months: f64,
    /// Make the emulated analytics engines stricter (above 1, e.g. 1.5) or milder (below 1, e.g. 0.67).
    #[arg(long, default_value_t = 1.0)]
    severity: f64,
    /// The engines' emulation from a TOML file (write the defaults with --print-engines and edit them),
    /// or `random`: three engines drawn from wide ranges by --engine-seed (thresholds, memory, weights,
    /// allowances, small-sample daily triggers, labels that stay up for weeks), none of them the shipped ones.
    #[arg(long)]
    engines: Option<String>,
    /// With `--engines random`: which draw.
    #[arg(long, default_value_t = 1)]
    engine_seed: u64,
    /// Run the fixed-cap family (caps 5-200 a day per number) beside the dialguard strategy and print
    /// the best cap in hindsight with no more label-days than dialguard, and the ratio of conversations.
    #[arg(long, conflicts_with_all = ["record", "strategies", "cap"])]
    frontier: bool,
    /// Print the emulated engines' configuration as TOML and exit.
    #[arg(long)]
    print_engines: bool,
    /// Days the numbers were in service before the campaign (60 calls a day to other people); 0 for brand-new numbers.
    #[arg(long, default_value_t = 30)]
    history_days: u32,
    /// Engine profiles (*.toml) for the dialguard strategy instead of the shipped ones.
    #[arg(long, env = "DIALGUARD_PROFILES")]
    profiles: Option<PathBuf>,
    /// The first simulated instant (RFC 3339).
    #[arg(long)]
    start: Option<Timestamp>,
    /// Record each strategy's events into the event log (--db) under the tenant `sim-<strategy>`.
    #[arg(long)]
    record: bool,
    /// Cap the dialguard strategy by the profiles' allowances and the pool budget instead of the
    /// lines it learns from observed labels and clean checks (`[control] enabled = false` in the
    /// server's configuration): the behaviour before the closed loop, for comparison.
    #[arg(long)]
    open_loop: bool,
    /// Run the campaign without a monitoring feed (no daily test calls, no disputes): the guard
    /// learns of labels only from its own calls (suspected labels).
    #[arg(long)]
    no_monitoring: bool,
    /// Ask a running dialguard server for the dialguard strategy's decisions, through its HTTP API,
    /// instead of the engine in process: every call record, complaint, opt-out and label check is
    /// posted at its own instant. Serve a fresh database with `--clock event` (its configuration
    /// decides, so --profiles and --open-loop do not apply). Example: http://127.0.0.1:8080
    #[arg(long, conflicts_with_all = ["record", "open_loop", "profiles"])]
    server: Option<String>,
    /// The bearer token for --server, when the server has tokens.
    #[arg(long, env = "DIALGUARD_TOKEN", requires = "server")]
    token: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    format: output::Format,
}

#[derive(clap::Args)]
pub struct PlanArgs {
    /// The calls a day the pool must carry.
    #[arg(long)]
    calls_per_day: u32,
    /// Hours a day the calls spread over.
    #[arg(long, default_value_t = 12.0)]
    hours: f64,
    /// Spare numbers for those resting after a label, as a share of the working ones.
    #[arg(long, default_value_t = 0.2)]
    reserve: f64,
    /// A directory of engine profiles (*.toml) instead of the shipped ones.
    #[arg(long, env = "DIALGUARD_PROFILES")]
    profiles: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    format: output::Format,
}

#[derive(Serialize)]
struct Comparison<'a> {
    scenario: &'a Scenario,
    offered_calls_per_day: f64,
    strategies: Vec<StrategyReport>,
}

pub fn simulate(db: &Store, args: SimulateArgs) -> Result<ExitCode> {
    simulate_into(db, args, &tenant)
}

/// `dialguard demo`: the default comparison recorded into a fresh log, the
/// dialguard strategy's run as the log's default tenant (the one a server
/// without tokens serves), then the dashboard on it with the event clock,
/// so "now" is the end of the simulated campaign.
#[derive(clap::Args)]
pub struct DemoArgs {
    /// Address and port for the dashboard (loopback only: the demo has no tokens).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: std::net::SocketAddr,
    #[command(flatten)]
    sim: SimulateArgs,
}

pub fn demo(args: DemoArgs) -> Result<ExitCode> {
    let path = std::env::temp_dir().join(format!("dialguard-demo-{}.db", std::process::id()));
    for stale in [
        path.clone(),
        path.with_extension("db-wal"),
        path.with_extension("db-shm"),
    ] {
        let _ = std::fs::remove_file(stale);
    }
    let db = Store::file(path);
    let sim = SimulateArgs {
        record: true,
        ..args.sim
    };
    eprintln!("simulating the campaign three ways into {} …", db);
    simulate_into(&db, sim, &|strategy| match strategy {
        StrategyKind::Dialguard => dialguard_server::config::DEFAULT_TENANT.to_owned(),
        other => tenant(other),
    })?;
    eprintln!(
        "serving the dialguard run; the other strategies are in the same log under their own tenants. Ctrl-C stops."
    );
    crate::cmd::serve::serve_recorded(&db, args.listen)
}

fn simulate_into(db: &Store, args: SimulateArgs, tenant: &dyn Fn(StrategyKind) -> String) -> Result<ExitCode> {
    let engines = match args.engines.as_deref() {
        Some("random") => EmulatorConfig::draw(args.engine_seed),
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| {
                format!("reading {path} (--engines takes a TOML file from --print-engines, or `random`)")
            })?;
            EmulatorConfig::from_toml(&text).with_context(|| path.to_owned())?
        }
        None => EmulatorConfig::default(),
    }
    .with_severity(args.severity)?;
    if args.print_engines {
        print!("{}", engines.to_toml());
        return Ok(ExitCode::SUCCESS);
    }
    if args.strategies.is_empty() {
        bail!("no strategy to run: pass --strategies round_robin,capped,dialguard (or some of them)");
    }
    let mut strategies = args.strategies.clone();
    strategies.sort();
    strategies.dedup();
    let mut scenario = Scenario {
        days: args.days,
        seed: args.seed,
        calls_per_minute: args.calls_per_minute,
        capped_daily_cap: args.cap,
        history_days: args.history_days,
        engines,
        monitoring: !args.no_monitoring,
        ..Scenario::default()
    };
    if let Some(start) = args.start {
        scenario.start = start;
    }
    scenario.population.contacts = args.contacts;
    scenario.population.numbers = args.numbers;
    scenario.population.list_age_months = args.list_age_months;
    // The guard's side runs on the configuration every other command and
    // the server read (`--config`, or `dialguard.toml` beside the
    // database); `--profiles` and `--open-loop` override it for one run.
    let mut engine: EngineConfig = db.engine_config()?;
    if args.profiles.is_some() {
        engine.risk = risk_config(args.profiles.as_deref())?;
    }
    if args.open_loop {
        engine.control.enabled = false;
    }
    let sim = Simulator::new(scenario, engine)?;
    let remote = match &args.server {
        Some(base) => {
            let guard = crate::remote::HttpGuard::new(base, args.token.clone()).map_err(anyhow::Error::msg)?;
            Some(Box::new(guard) as Box<dyn RemoteGuard>)
        }
        None => None,
    };
    if args.frontier {
        return frontier(&sim, remote, args.format);
    }

    let bar = ProgressBar::new(u64::from(args.days) * strategies.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("simulating {wide_bar} {pos}/{len} strategy-days eta {eta}")
            .expect("the template is valid"),
    );
    let reports = if args.record {
        record_runs(db, &sim, &strategies, tenant, &bar)?
    } else if let Some(remote) = remote.filter(|_| strategies.contains(&StrategyKind::Dialguard)) {
        // The others in process, the guard over the wire, side by side.
        let local: Vec<_> = strategies
            .iter()
            .copied()
            .filter(|s| *s != StrategyKind::Dialguard)
            .collect();
        let (reports, guard) = std::thread::scope(|scope| {
            let guard = scope.spawn(|| sim.run_remote(remote, &|_| bar.inc(1)));
            let local = sim.run_all(&local, &|_, _| bar.inc(1));
            (
                local,
                guard.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            )
        });
        let mut reports = reports?;
        reports.push(guard?);
        reports.sort_by_key(|r| r.strategy);
        reports
    } else {
        sim.run_all(&strategies, &|_, _| bar.inc(1))?
    };
    bar.finish_and_clear();

    let comparison = Comparison {
        scenario: sim.scenario(),
        offered_calls_per_day: sim.scenario().offered_calls_per_day(),
        strategies: reports,
    };
    match args.format {
        output::Format::Json => output::print_json(&comparison)?,
        output::Format::Table | output::Format::Csv => print_comparison(&comparison, args.format),
    }
    if args.record {
        eprintln!(
            "recorded into {} under the tenants {}",
            db,
            strategies.iter().map(|s| tenant(*s)).collect::<Vec<_>>().join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `simulate --frontier`: the guard beside every fixed cap of the family.
fn frontier(sim: &Simulator, remote: Option<Box<dyn RemoteGuard>>, format: output::Format) -> Result<ExitCode> {
    let bar = ProgressBar::new(FIXED_CAPS.len() as u64 + 1);
    bar.set_style(
        ProgressStyle::with_template("simulating {wide_bar} {pos}/{len} runs eta {eta}")
            .expect("the template is valid"),
    );
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let frontier = sim.frontier_via(&FIXED_CAPS, threads, remote, &|| bar.inc(1))?;
    bar.finish_and_clear();
    if format == output::Format::Json {
        #[derive(Serialize)]
        struct Report<'a> {
            scenario: &'a Scenario,
            #[serde(flatten)]
            frontier: &'a Frontier,
        }
        output::print_json(&Report {
            scenario: sim.scenario(),
            frontier: &frontier,
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    let guard = &frontier.guard;
    let mut rows: Vec<[String; 5]> = frontier
        .caps
        .iter()
        .map(|c| {
            [
                format!("capped {}", c.cap),
                c.conversations.to_string(),
                format!("{:.1}", c.label_days),
                c.numbers_ever_labeled.to_string(),
                c.violating_calls.to_string(),
            ]
        })
        .collect();
    rows.push([
        "dialguard".into(),
        guard.conversations.to_string(),
        format!("{:.1}", guard.label_days),
        guard.numbers_ever_labeled.to_string(),
        guard.violating_calls.to_string(),
    ]);
    let header = [
        "strategy",
        "conversations",
        "label-days",
        "numbers ever labeled",
        "legal violations",
    ];
    if format == output::Format::Csv {
        println!("{}", header.join(","));
        for row in rows {
            println!("{}", row.join(","));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = table(&header);
    for row in rows {
        t.add_row(row.to_vec());
    }
    println!("{t}");
    match (&frontier.best, frontier.ratio) {
        (Some(best), Some(ratio)) => println!(
            "best fixed cap in hindsight with no more label-days than dialguard ({:.1}): {} a day, {} conversations ({:.1} label-days); dialguard/cap = {ratio:.2}",
            guard.label_days, best.cap, best.conversations, best.label_days
        ),
        _ => println!(
            "no fixed cap had as few label-days as dialguard ({:.1}): none of them matches it",
            guard.label_days
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// The log tenant a strategy's recorded run goes to.
pub fn tenant(strategy: StrategyKind) -> String {
    format!("sim-{}", strategy.as_str())
}

/// Batches a run's events into the log; the first error stops the writing
/// and is reported when the run ends.
struct LogSink<'a> {
    log: &'a mut (dyn EventLog + Send),
    tenant: String,
    batch: Vec<Event>,
    error: Option<anyhow::Error>,
}

impl LogSink<'_> {
    fn flush(&mut self) {
        if self.batch.is_empty() || self.error.is_some() {
            return;
        }
        if let Err(e) = self.log.append(&self.tenant, &self.batch) {
            self.error = Some(anyhow::Error::new(e).context(format!("recording the run into tenant {}", self.tenant)));
        }
        self.batch.clear();
    }
}

impl EventSink for LogSink<'_> {
    fn record(&mut self, event: &Event) {
        if self.error.is_some() {
            return;
        }
        self.batch.push(event.clone());
        if self.batch.len() >= BATCH {
            self.flush();
        }
    }
}

fn record_runs(
    db: &Store,
    sim: &Simulator,
    strategies: &[StrategyKind],
    tenant: &dyn Fn(StrategyKind) -> String,
    bar: &ProgressBar,
) -> Result<Vec<StrategyReport>> {
    let mut log = crate::replay::open_log(db)?;
    for strategy in strategies {
        let name = tenant(*strategy);
        if log.count(&name)? > 0 {
            bail!(
                "the log {} already holds a run under the tenant {name}: record into a fresh file with --db PATH",
                db
            );
        }
    }
    let mut reports = Vec::new();
    for strategy in strategies {
        let mut sink = LogSink {
            log: log.as_mut(),
            tenant: tenant(*strategy),
            batch: Vec::with_capacity(BATCH),
            error: None,
        };
        let report = sim.run(*strategy, Some(&mut sink), &|_| bar.inc(1))?;
        sink.flush();
        if let Some(error) = sink.error {
            return Err(error);
        }
        reports.push(report);
    }
    Ok(reports)
}

fn print_comparison(c: &Comparison, format: output::Format) {
    let s = c.scenario;
    let mut header = vec!["".to_owned()];
    header.extend(c.strategies.iter().map(|r| r.strategy.as_str().to_owned()));
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let mut row = |name: &str, value: &dyn Fn(&StrategyReport) -> String| {
        rows.push((name.to_owned(), c.strategies.iter().map(value).collect()));
    };
    row("conversations (2 min+)", &|r| r.conversations.to_string());
    row("calls", &|r| r.calls.to_string());
    row("answered", &|r| r.answered.to_string());
    row("label-days (number x carrier)", &|r| format!("{:.1}", r.label_days));
    row("numbers ever labeled", &|r| {
        format!("{} of {}", r.numbers_ever_labeled, s.population.numbers)
    });
    row("  labeled when the campaign began", &|r| {
        r.numbers_labeled_at_start.to_string()
    });
    row("legal violations (calls)", &|r| r.violating_calls.to_string());
    row("  outside legal hours", &|r| r.violations.outside_hours.to_string());
    row("  to opted-out people", &|r| r.violations.opted_out.to_string());
    row("  over a state's frequency limit", &|r| {
        r.violations.frequency.to_string()
    });
    row("complaints", &|r| r.complaints.to_string());
    row("opt-outs", &|r| r.opt_outs.to_string());
    row("calls blocked by a carrier", &|r| r.blocked_calls.to_string());
    row("quarantines", &|r| r.quarantines.to_string());
    row("denials", &|r| r.denied().to_string());
    for reason in DenyReason::ALL {
        let name = reason.as_str();
        if c.strategies
            .iter()
            .any(|r| r.denials.get(name).copied().unwrap_or(0) > 0)
        {
            row(&format!("  {name}"), &|r| {
                r.denials.get(name).copied().unwrap_or(0).to_string()
            });
        }
    }
    row("contacts still to call", &|r| r.contacts_left.to_string());

    if format == output::Format::Csv {
        println!("{}", header.join(","));
        for (name, values) in rows {
            println!("{},{}", name.trim(), values.join(","));
        }
        return;
    }
    println!(
        "{} days, {} numbers, {} contacts, {} calls a minute ({:.0} offered a day), seed {}",
        s.days, s.population.numbers, s.population.contacts, s.calls_per_minute, c.offered_calls_per_day, s.seed
    );
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut t = table(&header);
    for (name, values) in rows {
        let mut cells = vec![name];
        cells.extend(values);
        t.add_row(cells);
    }
    println!("{t}");
}

pub fn plan(args: PlanArgs) -> Result<ExitCode> {
    let risk = risk_config(args.profiles.as_deref())?;
    let request = PlanRequest {
        calls_per_day: args.calls_per_day,
        calling_hours: args.hours,
        reserve: args.reserve,
    };
    let plan = dialguard_sim::plan(&request, &risk, &GuardConfig::default())?;
    match args.format {
        output::Format::Json => output::print_json(&plan)?,
        output::Format::Table | output::Format::Csv => print_plan(&plan),
    }
    Ok(ExitCode::SUCCESS)
}

fn print_plan(p: &CapacityPlan) {
    println!(
        "{} calls a day over {} hours: {} numbers once they are mature ({} working + {} in reserve for numbers resting after a label)",
        p.request.calls_per_day, p.request.calling_hours, p.mature.total, p.mature.working, p.mature.reserve
    );
    let mut t = table(&[
        "numbers",
        "per number/day",
        "per number/hour",
        "limited by",
        "for the day",
        "for the busiest hour",
        "working",
        "reserve",
        "total",
    ]);
    let mut add = |name: String, s: &Sizing| {
        t.add_row(vec![
            name,
            s.per_number_daily.to_string(),
            s.per_number_hourly.to_string(),
            s.limited_by.clone(),
            s.for_daily.to_string(),
            s.for_hourly.to_string(),
            s.working.to_string(),
            s.reserve.to_string(),
            s.total.to_string(),
        ]);
    };
    add("mature (30+ days of calls)".into(), &p.mature);
    add("new to calling".into(), &p.new);
    for (week, s) in p.aging_weeks.iter().enumerate() {
        add(format!("aging, week {}", week + 1), s);
    }
    println!("{t}");
    let mut limits = table(&[
        "limit",
        "per hour (new)",
        "per hour (mature)",
        "per day (new)",
        "per day (mature)",
    ]);
    for l in &p.limits {
        limits.add_row(vec![
            l.source.clone(),
            l.per_hour_new.to_string(),
            l.per_hour_mature.to_string(),
            l.per_day_new.to_string(),
            l.per_day_mature.to_string(),
        ]);
    }
    println!("{limits}");
}
