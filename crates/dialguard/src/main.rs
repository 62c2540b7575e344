//! `dialguard`: the command line. Thin glue over the crates: parse the
//! arguments, open the log, replay it into the core, print what was asked.
//!
//! Exit codes: 0 done; 1 failed (the message says why and what to do);
//! 2 bad usage; 3 done, but some input rows were rejected (they are listed).

mod cmd;
mod output;
mod remote;
mod replay;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Keeps outbound caller-ID numbers from being labeled "Spam Likely":
/// ingest call records, watch each number's calling pattern, guard the dial
/// path, recover burned numbers.
#[derive(Parser)]
#[command(name = "dialguard", version, about, long_about = None)]
struct Cli {
    /// The SQLite database holding the event log (created on first use).
    #[arg(long, global = true, env = "DIALGUARD_DB", default_value = "dialguard.db")]
    db: PathBuf,

    /// A PostgreSQL database holding the event log instead of the SQLite
    /// file (`postgres://user@host:5432/db`; `?options=-csearch_path%3Dschema`
    /// picks a schema). Files kept beside the log still go beside --db.
    #[arg(long, global = true, env = "DIALGUARD_DATABASE_URL")]
    database_url: Option<String>,

    /// The configuration every command and the server read (TOML: tokens,
    /// webhooks, guard, lifecycle, loop and engine settings). Default:
    /// `dialguard.toml` beside the database when it exists, else the
    /// documented defaults.
    #[arg(long, global = true, env = "DIALGUARD_CONFIG")]
    config: Option<PathBuf>,

    /// The tenant a command works in: `default`, a token's tenant from the
    /// configuration, or `sim-dialguard` (and the other strategies) for
    /// what `simulate --record` wrote.
    #[arg(long, global = true, env = "DIALGUARD_TENANT", default_value = replay::TENANT)]
    tenant: String,

    /// Show instants in tables and text in this IANA zone (e.g.
    /// America/Chicago), with its offset: `2026-03-02T09:15:01-06:00`.
    /// Default UTC (`2026-03-02T15:15:01Z`). JSON and CSV always carry UTC.
    #[arg(long, global = true, env = "DIALGUARD_TZ")]
    tz: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Import call records or complaint feeds into the log.
    Import(Box<cmd::import::Args>),
    /// Register owned numbers and list them.
    Numbers(cmd::numbers::Args),
    /// Per-number calling patterns over 1 h, 24 h, 7 d and 30 d.
    Report(cmd::report::Args),
    /// Each engine profile's risk score for a number, factor by factor.
    Explain(cmd::risk::ExplainArgs),
    /// Record and list what carriers' handsets showed (Spam Likely, clean, …).
    Labels(cmd::risk::LabelsArgs),
    /// May this number be called now, and from which of the pool's numbers?
    Decide(cmd::guard::DecideArgs),
    /// The national Do-Not-Call list: import the registry's files.
    Dnc(cmd::guard::DncArgs),
    /// Check a contact list: bad formats, duplicates, opt-outs, DNC, numbers that came back invalid.
    Lint(cmd::guard::LintArgs),
    /// Serve the HTTP API, webhooks, Prometheus metrics and the dashboard.
    Serve(cmd::serve::Args),
    /// Dispute calendars of labeled numbers: list, what is due, record progress.
    Disputes(cmd::lifecycle::DisputesArgs),
    /// Write a number's documentation package for disputes (Markdown, JSON, daily CSV).
    Package(cmd::lifecycle::PackageArgs),
    /// Export the numbers in service: the Free Caller Registry form, or a plain list.
    Export(cmd::lifecycle::ExportArgs),
    /// A number's whole story: states, labels, plans, disputes.
    History(cmd::lifecycle::HistoryArgs),
    /// Run one campaign several ways (round-robin, a fixed cap, dialguard) against emulated analytics engines.
    Simulate(Box<cmd::sim::SimulateArgs>),
    /// Simulate the default campaign into a fresh log and serve its dashboard (prints the URL).
    Demo(Box<cmd::sim::DemoArgs>),
    /// How many numbers a pool needs to carry a daily volume inside the profiles' allowances.
    Plan(cmd::sim::PlanArgs),
}

/// Large tables (known destinations, the Do-Not-Call registry) on 2 MB pages:
/// see `dialguard_core::huge_pages`.
#[global_allocator]
static ALLOCATOR: dialguard_core::huge_pages::HugePages<mimalloc::MiMalloc> =
    dialguard_core::huge_pages::HugePages::new(mimalloc::MiMalloc);

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve(_) | Command::Demo(_)) {
        end_quietly_on_a_closed_pipe();
    }
    if let Some(Err(error)) = cli.tz.as_deref().map(output::show_in) {
        eprintln!("error: {error:#}");
        return ExitCode::FAILURE;
    }
    let store = replay::Store {
        db: cli.db,
        url: cli.database_url,
        tenant: cli.tenant,
        config: cli.config,
        loaded: std::sync::OnceLock::new(),
    };
    let result = match cli.command {
        Command::Import(args) => cmd::import::run(&store, *args),
        Command::Numbers(args) => cmd::numbers::run(&store, args),
        Command::Report(args) => cmd::report::run(&store, args),
        Command::Explain(args) => cmd::risk::explain(&store, args),
        Command::Labels(args) => cmd::risk::labels(&store, args),
        Command::Decide(args) => cmd::guard::decide(&store, args),
        Command::Dnc(args) => cmd::guard::dnc(&store, args),
        Command::Lint(args) => cmd::guard::run_lint(&store, args),
        Command::Serve(args) => cmd::serve::run(&store, args),
        Command::Disputes(args) => cmd::lifecycle::disputes(&store, args),
        Command::Package(args) => cmd::lifecycle::package(&store, args),
        Command::Export(args) => cmd::lifecycle::export(&store, args),
        Command::History(args) => cmd::lifecycle::history(&store, args),
        Command::Simulate(args) => cmd::sim::simulate(&store, *args),
        Command::Demo(args) => cmd::sim::demo(*args),
        Command::Plan(args) => cmd::sim::plan(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// A reader that stops early (`dialguard explain … | head`) ends the command
/// quietly, as it ends any Unix tool: the default action of SIGPIPE. Rust
/// programs ignore the signal, so the next write to the closed pipe would
/// fail and `println!` panic. The servers keep ignoring it: a client that
/// hangs up must not stop them.
fn end_quietly_on_a_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: restoring a signal's default action before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
