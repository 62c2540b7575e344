//! `dialguard decide`, `dialguard dnc import` and `dialguard lint`: the
//! dial-path guard from the command line.
//!
//! Each command rebuilds the guard by replaying the log (numbers, states,
//! opt-outs, consents, calls) and loads the Do-Not-Call list from its binary
//! file next to the database (`dialguard.dnc` beside `dialguard.db`, or
//! `--dnc PATH`). A decision made here is a one-off answer as of `--at`: the
//! slot it reserves lives only as long as the process (`dialguard serve`
//! keeps reservations between decisions).

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use dialguard_core::guard::{
    DecideRequest, Decision, DncBuilder, DncList, DncReader, Guard, GuardConfig, LintReport, lint,
};
use dialguard_core::{E164, NumberError};
use indicatif::{ProgressBar, ProgressStyle};
use jiff::Timestamp;
use serde::Serialize;

use crate::output::{self, table};
use crate::replay::{Store, open_log, replay, replay_as_of};
use dialguard_core::engine::Engine;

/// How the guard commands print.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Json,
}

/// Where the guard's inputs beyond the log come from.
#[derive(clap::Args)]
pub struct GuardFiles {
    /// The Do-Not-Call list (written by `dialguard dnc import`); default the
    /// database's path with the extension `.dnc`.
    #[arg(long)]
    dnc: Option<PathBuf>,
    /// Guard settings (TOML): pacing, caps, calling hours, pools that require
    /// consent or use local presence. Default: the documented defaults.
    #[arg(long)]
    guard_config: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct DecideArgs {
    /// The pool (a campaign's caller-id group) to call from.
    #[arg(long)]
    pool: String,
    /// The number to call: E.164 (+14155550100) or a NANP form ((415) 555-0100).
    #[arg(long)]
    to: String,
    /// The instant to decide for (RFC 3339); default now.
    #[arg(long)]
    at: Option<Timestamp>,
    /// The person knows the business (a customer): it picks the caller id
    /// and passes a recovery phase that calls known contacts only. It is no
    /// exemption from the Do-Not-Call registry (only a consent record is).
    #[arg(long)]
    known_contact: bool,
    #[command(flatten)]
    files: GuardFiles,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(clap::Args)]
pub struct DncArgs {
    #[command(subcommand)]
    action: DncAction,
}

#[derive(clap::Subcommand)]
enum DncAction {
    /// Add a registry file to the list: one number a line (10 digits, 11
    /// starting with 1, or +1…); blank lines, `#` comments and a header are
    /// skipped, bad lines are listed with their line number.
    Import {
        file: PathBuf,
        /// Start a new list instead of adding to the saved one.
        #[arg(long)]
        replace: bool,
        /// Where the list is kept; default the database's path with `.dnc`.
        #[arg(long)]
        dnc: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

#[derive(clap::Args)]
pub struct LintArgs {
    /// A contact list (CSV; the phone column is found by its header, or is
    /// the first column).
    file: PathBuf,
    /// Write the rows that may be called here, header included.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Judge opt-outs and earlier invalid calls as of this instant (RFC 3339); default now.
    #[arg(long)]
    at: Option<Timestamp>,
    #[command(flatten)]
    files: GuardFiles,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// The saved list's path: `--dnc`, or the database's with `.dnc`.
fn dnc_path(db: &Store, explicit: Option<&Path>) -> PathBuf {
    explicit.map_or_else(|| db.beside("dnc"), Path::to_path_buf)
}

fn load_dnc(path: &Path) -> Result<Option<DncList>> {
    if !path.exists() {
        return Ok(None);
    }
    let bytes = fs::read(path).with_context(|| format!("reading the Do-Not-Call list {}", path.display()))?;
    let list = DncList::from_bytes(&bytes).with_context(|| format!("loading {}", path.display()))?;
    Ok(Some(list))
}

/// Writes beside the target and renames, so a killed write never leaves a
/// half list where the whole one was.
fn save_dnc(path: &Path, list: &DncList) -> Result<()> {
    let partial = path.with_extension("dnc.partial");
    fs::write(&partial, list.to_bytes()).with_context(|| format!("writing {}", partial.display()))?;
    fs::rename(&partial, path).with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}

fn guard_config(files: &GuardFiles) -> Result<GuardConfig> {
    Ok(match &files.guard_config {
        Some(path) => {
            let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            GuardConfig::from_toml(&text).with_context(|| format!("in {}", path.display()))?
        }
        None => GuardConfig::default(),
    })
}

/// The law's side of the guard as the log and the saved files describe it
/// (opt-outs, consents, the registry, frequency): what `lint` checks.
fn load_guard(db: &Store, files: &GuardFiles) -> Result<Guard> {
    let mut guard = Guard::new(guard_config(files)?)?;
    // A contact list may be checked against the registry alone, before any
    // log exists; a log is read only where there is one (and not created).
    if db.url.is_some() || db.db.exists() {
        let log = open_log(db)?;
        replay(db, &*log, |event| guard.apply(event))?;
    }
    if let Some(list) = load_dnc(&dnc_path(db, files.dnc.as_deref()))? {
        guard.set_dnc(list);
    }
    Ok(guard)
}

pub fn decide(db: &Store, args: DecideArgs) -> Result<ExitCode> {
    let to = match E164::parse(&args.to) {
        Ok(parsed) => Some(parsed.number),
        // A number libphonenumber rules out is an answer, not a usage error.
        Err(NumberError::Invalid(_)) => None,
        Err(e) => bail!("--to: {e}; give the number to call, e.g. --to +14155550100"),
    };
    let pool = args.pool.trim();
    if pool.is_empty() {
        bail!("--pool must name a pool, e.g. --pool sales");
    }
    let decision = match to {
        Some(to) => {
            // The whole engine, brought to the instant, as the server
            // decides: the numbers' states and the caps the closed loop
            // steers to, not the guard's defaults alone.
            let at = args.at.unwrap_or_else(crate::replay::now);
            let mut config = db.engine_config()?;
            if args.files.guard_config.is_some() {
                config.guard = guard_config(&args.files)?;
            }
            let mut engine = Engine::new(config).context("the guard settings")?;
            if db.url.is_some() || db.db.exists() {
                let log = open_log(db)?;
                replay_as_of(db, &*log, args.at, |event| engine.apply(event))?;
            }
            if let Some(list) = load_dnc(&dnc_path(db, args.files.dnc.as_deref()))? {
                engine.guard_mut().set_dnc(list);
            }
            engine.tick(at);
            let request = DecideRequest {
                pool: pool.to_owned(),
                to,
                known_contact: args.known_contact,
            };
            engine.decide(&request, at)
        }
        None => Decision::Deny {
            reason: dialguard_core::guard::DenyReason::DestinationInvalid,
            retry_at: None,
        },
    };
    match args.format {
        Format::Json => output::print_json(&decision)?,
        Format::Table => match &decision {
            Decision::Allow { caller_id } => println!("allow: call from {caller_id}"),
            Decision::Deny { reason, retry_at } => match retry_at {
                Some(at) => println!("deny: {} (retry at {})", reason.as_str(), crate::output::when(*at)),
                None => println!("deny: {}", reason.as_str()),
            },
        },
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct DncSummary {
    file: String,
    list: String,
    numbers_read: u64,
    skipped_lines: u64,
    rejected: u64,
    /// The first rejected lines, with their line numbers.
    errors: Vec<String>,
    listed_before: u64,
    listed_now: u64,
}

/// How many rejected lines the table prints (JSON carries up to 1,000).
const SHOWN_ERRORS: usize = 10;

pub fn dnc(db: &Store, args: DncArgs) -> Result<ExitCode> {
    let DncAction::Import {
        file,
        replace,
        dnc,
        format,
    } = args.action;
    // A missing file should fail before a half-gigabyte list is loaded.
    let input = File::open(&file).with_context(|| format!("opening {}", file.display()))?;
    let list_path = dnc_path(db, dnc.as_deref());
    let existing = if replace { None } else { load_dnc(&list_path)? };
    let listed_before = existing.as_ref().map_or(0, DncList::len);
    let mut builder = DncBuilder::new();
    if let Some(list) = &existing {
        builder.add_list(list);
    }
    drop(existing);

    let size = input.metadata().map(|m| m.len()).unwrap_or(0);
    let progress = ProgressBar::new(size);
    progress.set_style(
        ProgressStyle::with_template("{msg} {wide_bar} {bytes}/{total_bytes} eta {eta}")
            .expect("the template is valid"),
    );
    progress.set_message(file.display().to_string());
    let mut input = progress.wrap_read(BufReader::with_capacity(1 << 20, input));
    let mut reader = DncReader::new(&mut builder);
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = input
            .read_until(b'\n', &mut line)
            .with_context(|| format!("reading {}", file.display()))?;
        if read == 0 {
            break;
        }
        // Bytes that are not UTF-8 make the line a row error, not a failure.
        reader.line(&String::from_utf8_lossy(&line));
    }
    let report = reader.finish();
    progress.finish_and_clear();

    let list = builder.finish();
    save_dnc(&list_path, &list)?;
    let summary = DncSummary {
        file: file.display().to_string(),
        list: list_path.display().to_string(),
        numbers_read: report.numbers,
        skipped_lines: report.skipped,
        rejected: report.errors_total,
        errors: report.errors.iter().map(ToString::to_string).collect(),
        listed_before,
        listed_now: list.len(),
    };
    match format {
        Format::Json => output::print_json(&summary)?,
        Format::Table => {
            println!(
                "{}: {} numbers read, {} rejected; the list at {} now holds {} numbers (was {})",
                summary.file,
                summary.numbers_read,
                summary.rejected,
                summary.list,
                summary.listed_now,
                summary.listed_before
            );
            for error in summary.errors.iter().take(SHOWN_ERRORS) {
                println!("  {error}");
            }
            if summary.rejected as usize > SHOWN_ERRORS {
                println!(
                    "  … and {} more (--format json lists up to 1,000)",
                    summary.rejected as usize - SHOWN_ERRORS
                );
            }
        }
    }
    Ok(if summary.rejected > 0 {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

/// How many flagged rows the table prints (JSON lists them all).
const SHOWN_ISSUES: usize = 20;

pub fn run_lint(db: &Store, args: LintArgs) -> Result<ExitCode> {
    let bytes = fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let text = String::from_utf8_lossy(&bytes);
    let guard = load_guard(db, &args.files)?;
    let report = lint(text.lines(), &guard, args.at.unwrap_or_else(crate::replay::now));
    if let Some(out) = &args.out {
        write_clean(out, &report)?;
    }
    match args.format {
        Format::Json => output::print_json(&report)?,
        Format::Table => print_lint(&report, args.out.as_deref()),
    }
    Ok(if report.flagged > 0 {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

fn write_clean(path: &Path, report: &LintReport) -> Result<()> {
    let mut out = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let header = report.header.iter().map(String::as_str);
    for line in header.chain(report.clean.iter().map(|row| row.record.as_str())) {
        writeln!(out, "{line}").with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn print_lint(report: &LintReport, out: Option<&Path>) {
    println!(
        "{} rows (phone column: {}): {} clean, {} flagged",
        report.rows, report.column, report.clean_count, report.flagged
    );
    if !report.by_reason.is_empty() {
        let mut t = table(&["reason", "rows"]);
        for (reason, count) in &report.by_reason {
            t.add_row(vec![reason.as_str().to_owned(), count.to_string()]);
        }
        println!("{t}");
        let mut t = table(&["line", "value", "reason", "detail"]);
        for issue in report.issues.iter().take(SHOWN_ISSUES) {
            t.add_row(vec![
                issue.line.to_string(),
                issue.value.clone(),
                issue.reason.as_str().to_owned(),
                issue.detail.clone(),
            ]);
        }
        println!("{t}");
        if report.issues.len() > SHOWN_ISSUES {
            println!(
                "… and {} more (--format json lists them all)",
                report.issues.len() - SHOWN_ISSUES
            );
        }
    }
    if let Some(path) = out {
        println!("clean list written to {}", path.display());
    }
}
