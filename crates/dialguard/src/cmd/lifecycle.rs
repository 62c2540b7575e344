//! The number lifecycle and remediation on the command line:
//! `numbers set-state`, `disputes list|due|update`, `package`,
//! `export fcr|numbers` and `history`.
//!
//! Each command rebuilds the engine from the log and moves it to `--at`
//! (default now). Commands that record something (`set-state`,
//! `disputes update`) append what moving time decided (a plan phase that
//! fell due, a quarantine) before their own event, so the log tells the
//! story in order; the others only look.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use dialguard_core::engine::{DisputeRow, Engine};
use dialguard_core::lifecycle::{BusinessProfile, DisputeStatus, DisputeStep};
use dialguard_core::{DisputeUpdated, E164, Event, NumberState};
use dialguard_store::EventLog;
use jiff::Timestamp;

use crate::output::{self, Format, table};
use crate::replay::{Store, engine, open_existing};

fn parse_number(text: &str) -> Result<E164> {
    E164::parse_valid(text).with_context(|| format!("number {text:?}"))
}

/// The engine with the whole log, moved to `at`, and the events moving it
/// there decided: what a change recorded at `at` is checked against.
fn engine_at(db: &Store, log: &dyn EventLog, at: Timestamp) -> Result<(Engine, Vec<Event>)> {
    let mut engine = engine(db, log)?;
    let derived = engine.tick(at);
    Ok((engine, derived))
}

/// The engine as of `at` for a question: only what had happened by then,
/// moved to `at`.
fn engine_as_of(db: &Store, at: Timestamp) -> Result<Engine> {
    let mut engine = crate::replay::engine_as_of(db, &*open_existing(db)?, Some(at))?;
    engine.tick(at);
    Ok(engine)
}

fn registered(engine: &Engine, number: E164) -> Result<()> {
    if !engine.is_registered(number) {
        bail!("{number} is not a registered number; register it with `dialguard numbers add {number} --pool NAME`");
    }
    Ok(())
}

/// `dialguard numbers set-state NUMBER STATE --reason TEXT`.
#[derive(clap::Args)]
pub struct SetStateArgs {
    /// The number to move.
    number: String,
    /// aging, active, watch, quarantined, resting, rehab_limited,
    /// rehab_moderate or retired.
    state: String,
    /// Why (goes in the number's history).
    #[arg(long)]
    reason: String,
    /// When (RFC 3339); default now.
    #[arg(long)]
    at: Option<Timestamp>,
}

pub fn set_state(db: &Store, args: SetStateArgs) -> Result<ExitCode> {
    let number = parse_number(&args.number)?;
    let Some(state) = NumberState::from_name(&args.state) else {
        let names: Vec<&str> = NumberState::ALL.iter().map(|s| s.as_str()).collect();
        bail!("{:?} is not a state; use one of: {}", args.state, names.join(", "));
    };
    let at = args.at.unwrap_or_else(crate::replay::now);
    let mut log = open_existing(db)?;
    let (mut engine, mut events) = engine_at(db, &*log, at)?;
    registered(&engine, number)?;
    let moved = engine.set_state(number, state, at, &args.reason)?;
    events.push(moved);
    log.append(&db.tenant, &events)?;
    print_changes(&events);
    Ok(ExitCode::SUCCESS)
}

fn print_changes(events: &[Event]) {
    for event in events {
        match event {
            Event::StateChanged(s) => println!("{} → {} at {}: {}", s.number, s.state.as_str(), s.at, s.reason),
            Event::DisputeUpdated(d) => println!(
                "{} {} → {} at {}{}",
                d.number,
                d.step.title(),
                d.status.as_str(),
                d.at,
                d.note.as_deref().map(|n| format!(": {n}")).unwrap_or_default()
            ),
            _ => {}
        }
    }
}

/// `dialguard disputes …`.
#[derive(clap::Args)]
pub struct DisputesArgs {
    #[command(subcommand)]
    action: DisputesAction,
}

#[derive(clap::Subcommand)]
enum DisputesAction {
    /// Every step of every open dispute calendar.
    List {
        /// Only this number's calendar.
        number: Option<String>,
        /// As of (RFC 3339); default now.
        #[arg(long)]
        at: Option<Timestamp>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// What to file or chase today: steps past their due date, and
    /// submissions past their follow-up date.
    Due {
        #[arg(long)]
        at: Option<Timestamp>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Record progress on one step: submitted, answered, resolved, rejected.
    Update {
        number: String,
        /// hiya, tns, first_orion, fcr, att, verizon, tmobile or fcc.
        step: String,
        /// submitted, answered, resolved or rejected.
        status: String,
        /// What was sent or said (a ticket number, the answer's gist).
        #[arg(long)]
        note: Option<String>,
        #[arg(long)]
        at: Option<Timestamp>,
    },
}

pub fn disputes(db: &Store, args: DisputesArgs) -> Result<ExitCode> {
    match args.action {
        DisputesAction::List { number, at, format } => {
            let at = at.unwrap_or_else(crate::replay::now);
            let only = number.as_deref().map(parse_number).transpose()?;
            let engine = engine_as_of(db, at)?;
            let rows: Vec<DisputeRow> = engine
                .disputes(at)
                .into_iter()
                .filter(|r| only.is_none_or(|n| r.number == n))
                .collect();
            print_disputes(
                &rows,
                format,
                "no open dispute calendar: one opens when a label is observed",
            )
        }
        DisputesAction::Due { at, format } => {
            let at = at.unwrap_or_else(crate::replay::now);
            let engine = engine_as_of(db, at)?;
            let mut rows: Vec<DisputeRow> = engine.disputes(at).into_iter().filter(|r| r.action.is_some()).collect();
            rows.sort_by_key(|r| (r.follow_up.unwrap_or(r.due), r.number, r.step));
            print_disputes(&rows, format, &format!("nothing due on {}", engine.today(at)))
        }
        DisputesAction::Update {
            number,
            step,
            status,
            note,
            at,
        } => update_dispute(db, &number, &step, &status, note, at),
    }
}

fn update_dispute(
    db: &Store,
    number: &str,
    step: &str,
    status: &str,
    note: Option<String>,
    at: Option<Timestamp>,
) -> Result<ExitCode> {
    let number = parse_number(number)?;
    let Some(step) = DisputeStep::from_name(step) else {
        let names: Vec<&str> = DisputeStep::ALL.iter().map(|s| s.as_str()).collect();
        bail!("{step:?} is not a dispute step; use one of: {}", names.join(", "));
    };
    let Some(status) = DisputeStatus::from_name(status) else {
        bail!("{status:?} is not a dispute status; use submitted, answered, resolved or rejected");
    };
    let at = at.unwrap_or_else(crate::replay::now);
    let mut log = open_existing(db)?;
    let (mut engine, mut events) = engine_at(db, &*log, at)?;
    registered(&engine, number)?;
    let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    let update = engine.update_dispute(DisputeUpdated {
        number,
        step,
        status,
        at,
        note,
    })?;
    events.push(update);
    log.append(&db.tenant, &events)?;
    print_changes(&events);
    if let Some(row) = engine
        .disputes(at)
        .into_iter()
        .find(|r| r.number == number && r.step == step)
        && let Some(follow_up) = row.follow_up
    {
        println!("follow up on {follow_up} if there is no answer by then");
    }
    Ok(ExitCode::SUCCESS)
}

fn print_disputes(rows: &[DisputeRow], format: Format, empty: &str) -> Result<ExitCode> {
    match format {
        Format::Json => output::print_json(&serde_json::json!({ "steps": rows }))?,
        Format::Csv => {
            let mut out = csv::Writer::from_writer(std::io::stdout());
            out.write_record([
                "number",
                "step",
                "status",
                "due",
                "follow_up",
                "action",
                "still_labeled",
                "last_note",
            ])?;
            for r in rows {
                out.write_record([
                    r.number.to_string(),
                    r.step.as_str().to_owned(),
                    r.status.as_str().to_owned(),
                    r.due.to_string(),
                    r.follow_up.map(|d| d.to_string()).unwrap_or_default(),
                    r.action.unwrap_or_default().to_owned(),
                    r.still_labeled.to_string(),
                    r.last_note.clone().unwrap_or_default(),
                ])?;
            }
            out.flush()?;
        }
        Format::Table if rows.is_empty() => println!("{empty}"),
        Format::Table => {
            let mut t = table(&["number", "step", "status", "due", "follow-up", "to do", "note"]);
            for r in rows {
                t.add_row(vec![
                    r.number.to_string(),
                    r.step.title().to_owned(),
                    r.status.as_str().to_owned(),
                    r.due.to_string(),
                    r.follow_up.map(|d| d.to_string()).unwrap_or_default(),
                    r.action.unwrap_or_default().to_owned(),
                    r.last_note.clone().unwrap_or_default(),
                ]);
            }
            println!("{t}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn read_business(path: &Path) -> Result<BusinessProfile> {
    let text = fs::read_to_string(path).with_context(|| format!("reading the business profile {}", path.display()))?;
    Ok(BusinessProfile::from_toml(&path.display().to_string(), &text)?)
}

/// `dialguard package NUMBER --business business.toml --out DIR`.
#[derive(clap::Args)]
pub struct PackageArgs {
    number: String,
    /// The business profile (TOML: legal_name, website, address,
    /// years_in_operation, use_case, opt_in_process, licences, contact_*).
    #[arg(long)]
    business: PathBuf,
    /// Where to write `NUMBER/package.md`, `package.json` and `daily.csv`.
    #[arg(long)]
    out: PathBuf,
    /// As of (RFC 3339); default now.
    #[arg(long)]
    at: Option<Timestamp>,
}

pub fn package(db: &Store, args: PackageArgs) -> Result<ExitCode> {
    let number = parse_number(&args.number)?;
    let business = read_business(&args.business)?;
    let at = args.at.unwrap_or_else(crate::replay::now);
    let engine = engine_as_of(db, at)?;
    registered(&engine, number)?;
    let package = engine.package(number, &business, at).context("building the package")?;
    let dir = args.out.join(number.to_string());
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut json = serde_json::to_string_pretty(&package)?;
    json.push('\n');
    for (name, text) in [
        ("package.md", package.to_markdown()),
        ("package.json", json),
        ("daily.csv", package.daily_csv()),
    ] {
        let path = dir.join(name);
        fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `dialguard export fcr|numbers`.
#[derive(clap::Args)]
pub struct ExportArgs {
    #[command(subcommand)]
    what: ExportWhat,
}

#[derive(clap::Subcommand)]
enum ExportWhat {
    /// The numbers in service (aging, active, watch) with the business's
    /// details, expected daily volume and use case, as the Free Caller
    /// Registry form asks (CSV).
    Fcr {
        #[arg(long)]
        business: PathBuf,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        at: Option<Timestamp>,
    },
    /// The numbers in service, one per line.
    Numbers {
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        at: Option<Timestamp>,
    },
}

pub fn export(db: &Store, args: ExportArgs) -> Result<ExitCode> {
    let (text, out) = match args.what {
        ExportWhat::Fcr { business, out, at } => {
            let business = read_business(&business)?;
            let at = at.unwrap_or_else(crate::replay::now);
            let engine = engine_as_of(db, at)?;
            let mut csv = csv::Writer::from_writer(Vec::new());
            for row in engine.fcr_rows(&business, at) {
                csv.serialize(row)?;
            }
            (String::from_utf8(csv.into_inner()?)?, out)
        }
        ExportWhat::Numbers { out, at } => {
            let at = at.unwrap_or_else(crate::replay::now);
            let engine = engine_as_of(db, at)?;
            let text: String = engine.in_service().iter().map(|n| format!("{n}\n")).collect();
            (text, out)
        }
    };
    match out {
        Some(path) => {
            fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `dialguard history NUMBER`.
#[derive(clap::Args)]
pub struct HistoryArgs {
    number: String,
    #[arg(long)]
    at: Option<Timestamp>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub fn history(db: &Store, args: HistoryArgs) -> Result<ExitCode> {
    let number = parse_number(&args.number)?;
    let at = args.at.unwrap_or_else(crate::replay::now);
    let engine = engine_as_of(db, at)?;
    registered(&engine, number)?;
    let entries = engine.history(number, at).unwrap_or_default();
    let view = engine.number(number, at).context("the number's view")?;
    match args.format {
        Format::Json => output::print_json(&serde_json::json!({
            "number": number,
            "state": view.state,
            "health": view.health,
            "plans": view.plans,
            "disputes": view.disputes,
            "history": entries,
        }))?,
        Format::Csv => {
            let mut out = csv::Writer::from_writer(std::io::stdout());
            out.write_record(["at", "kind", "text"])?;
            for e in &entries {
                out.write_record([e.at.to_string(), e.kind.as_str().to_owned(), e.text.clone()])?;
            }
            out.flush()?;
        }
        Format::Table => {
            println!(
                "{number}: {} ({}) since {}",
                view.state.as_str(),
                view.health.as_str(),
                crate::output::when(view.state_since)
            );
            if let Some(plan) = &view.plan {
                let next = plan
                    .next
                    .map(|n| {
                        let step = format!("{:?}", n.step).to_lowercase();
                        format!("; next: {step} at {}", crate::output::when(n.at))
                    })
                    .unwrap_or_default();
                println!(
                    "plan #{} day {}{next}{}",
                    plan.plan.ordinal,
                    plan.day.unwrap_or_default(),
                    if plan.retirement_recommended {
                        "; retirement and replacement recommended"
                    } else {
                        ""
                    }
                );
            }
            let mut t = table(&["at", "what", ""]);
            for e in &entries {
                t.add_row(vec![
                    crate::output::when(e.at),
                    e.kind.as_str().to_owned(),
                    e.text.clone(),
                ]);
            }
            println!("{t}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
