//! `dialguard serve`: the HTTP API, webhooks, metrics and dashboard.
//!
//! Starts on the SQLite log at `--db` with nothing to set up, replays it,
//! and serves until Ctrl-C or SIGTERM, then finishes the requests in flight
//! and writes what they accepted before exiting. The first line on stdout
//! names the address actually bound, so `--listen 127.0.0.1:0` can be used
//! by scripts.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::ValueEnum;
use dialguard_core::guard::DncList;
use dialguard_server::{ClockMode, ServeOptions};

use crate::replay::Store;

#[derive(clap::Args)]
pub struct Args {
    /// Address and port to listen on. Without tokens in --config only
    /// loopback addresses are allowed.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// `wall`: the machine's clock. `event`: "now" is the latest instant a
    /// request carried (decide's `at`, a call's end, …), so a test harness can
    /// drive days of traffic in seconds.
    #[arg(long, value_enum, default_value_t = Clock::Wall)]
    clock: Clock,
    /// The Do-Not-Call list saved by `dialguard dnc import` (default: the
    /// database's path with `.dnc`, when it exists).
    #[arg(long)]
    dnc: Option<PathBuf>,
    /// With --database-url, several servers share the log, and the one
    /// leading a tenant answers its decisions: the URL the others redirect
    /// them to (default: http:// and the address bound; give it when
    /// listening on 0.0.0.0 or behind NAT).
    #[arg(long)]
    advertise: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Clock {
    Wall,
    Event,
}

/// Serves a log recorded by a simulation: the event clock (its "now" is the
/// recording's last instant), no tokens, no Do-Not-Call list.
pub fn serve_recorded(db: &Store, listen: SocketAddr) -> Result<ExitCode> {
    let args = Args {
        listen,
        clock: Clock::Event,
        dnc: None,
        advertise: None,
    };
    run(db, args)
}

pub fn run(db: &Store, args: Args) -> Result<ExitCode> {
    // The global --config, as every command reads it.
    let config = db.server_config()?;
    let dnc_path = args.dnc.clone().unwrap_or_else(|| db.beside("dnc"));
    let dnc = if args.dnc.is_some() || dnc_path.exists() {
        let bytes =
            std::fs::read(&dnc_path).with_context(|| format!("reading the Do-Not-Call list {}", dnc_path.display()))?;
        Some(DncList::from_bytes(&bytes).with_context(|| format!("loading {}", dnc_path.display()))?)
    } else {
        None
    };
    let clock = match args.clock {
        Clock::Wall => ClockMode::Wall,
        Clock::Event => ClockMode::Event,
    };
    let options = ServeOptions {
        listen: args.listen,
        log: db.location(),
        clock,
        config,
        dnc,
        advertise: args.advertise.clone(),
    };
    let clock_name = match clock {
        ClockMode::Wall => "wall",
        ClockMode::Event => "event",
    };
    dialguard_server::serve_until_signal(options, |addr, replayed| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "dialguard listening on http://{addr}");
        let _ = writeln!(
            out,
            "clock {clock_name}; log {}: {} events replayed for {} tenant(s); dashboard at http://{addr}/",
            db, replayed.events, replayed.tenants
        );
        if let Some(shared) = &replayed.shared {
            let list = |names: &[String]| {
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            };
            let _ = writeln!(
                out,
                "shared log: this server leads {}; follows {} (another server leads them)",
                list(&shared.leads),
                list(&shared.follows)
            );
        }
        let _ = out.flush();
    })?;
    eprintln!("dialguard: stopped; every accepted request is in {}", db);
    Ok(ExitCode::SUCCESS)
}
