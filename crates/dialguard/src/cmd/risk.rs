//! `dialguard explain` and `dialguard labels`: what each engine profile makes
//! of a number and why, and what carriers' handsets were seen to show.
//!
//! Profiles are the shipped ones unless `--profiles DIR` (or
//! `DIALGUARD_PROFILES`) names a directory of `*.toml` files, which then
//! replace them; a `quarantine.toml` there replaces the quarantine rules.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use dialguard_core::metrics::Ledger;
use dialguard_core::risk::{Assessment, CarrierLabel, Labels, RiskConfig, Score, assess};
use dialguard_core::{Carrier, E164, Event, LabelObserved};
use dialguard_store::EventLog;
use jiff::Timestamp;
use serde::Serialize;

use crate::output::{self, table};
use crate::replay::{Store, open_existing, open_log, replay, replay_as_of};

/// `explain` and `labels list` print a table for people or JSON for scripts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Json,
}

#[derive(clap::Args)]
pub struct ExplainArgs {
    /// The number to explain, in any usual form (+14155550100, (415) 555-0100, …).
    number: String,
    /// The instant to judge at (RFC 3339); default now.
    #[arg(long)]
    at: Option<Timestamp>,
    /// A directory of profile files (`*.toml`) replacing the shipped ones.
    #[arg(long, env = "DIALGUARD_PROFILES")]
    profiles: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(clap::Args)]
pub struct LabelsArgs {
    #[command(subcommand)]
    action: LabelsAction,
}

#[derive(clap::Args)]
struct AddLabel {
    /// The number, in any usual form.
    number: String,
    /// `att`, `verizon` or `tmobile` (also `AT&T`, `T-Mobile`, or the engine: `hiya`, `tns`, `first-orion`).
    #[arg(long)]
    carrier: String,
    /// The label shown, e.g. "Spam Likely".
    #[arg(long, required_unless_present = "clean", conflicts_with = "clean")]
    label: Option<String>,
    /// The number showed clean: no label.
    #[arg(long)]
    clean: bool,
    /// When it was seen (RFC 3339); default now.
    #[arg(long)]
    at: Option<Timestamp>,
    /// How it was seen: `manual`, `test_call`, `monitoring`, …
    #[arg(long, default_value = "manual")]
    source: String,
    /// Record it even though the number is not registered (a label is
    /// otherwise refused as a likely typo).
    #[arg(long)]
    allow_unregistered: bool,
}

#[derive(clap::Subcommand)]
enum LabelsAction {
    /// Record what a carrier's handset showed for a number.
    Add(AddLabel),
    /// Each carrier's latest display, per number (all numbers, or one with its history).
    List {
        number: Option<String>,
        /// The instant to read the displays at (RFC 3339); default now.
        #[arg(long)]
        at: Option<Timestamp>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

fn parse_number(text: &str) -> Result<E164> {
    E164::parse_valid(text).with_context(|| format!("number {text:?}"))
}

/// The profiles: a directory's `*.toml` files, or the shipped set.
pub(crate) fn risk_config(dir: Option<&Path>) -> Result<RiskConfig> {
    let Some(dir) = dir else {
        return Ok(RiskConfig::defaults());
    };
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("reading the profiles directory {}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("reading the profiles directory {}", dir.display()))?;
    paths.retain(|p| p.extension().is_some_and(|e| e == "toml"));
    paths.sort();
    if paths.is_empty() {
        bail!(
            "no *.toml profiles in {}: copy the shipped ones from crates/dialguard-core/profiles/ and edit them",
            dir.display()
        );
    }
    let files: Vec<(String, String)> = paths
        .iter()
        .map(|p| {
            Ok((
                p.display().to_string(),
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
            ))
        })
        .collect::<Result<_>>()?;
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(f, t)| (f.as_str(), t.as_str())).collect();
    Ok(RiskConfig::from_toml_strs(&borrowed)?)
}

/// The ledger and the labels, from one replay of the log as of `at` (all
/// of it without).
fn state(db: &Store, log: &dyn EventLog, at: Option<Timestamp>) -> Result<(Ledger, Labels)> {
    let mut ledger = Ledger::new(db.engine_config()?.metrics);
    let mut labels = Labels::new();
    replay_as_of(db, log, at, |event| {
        ledger.apply(event);
        labels.apply(event);
    })?;
    Ok((ledger, labels))
}

pub fn explain(db: &Store, args: ExplainArgs) -> Result<ExitCode> {
    let number = parse_number(&args.number)?;
    let config = match args.profiles.as_deref() {
        Some(dir) => risk_config(Some(dir))?,
        None => db.engine_config()?.risk,
    };
    let log = open_existing(db)?;
    let (ledger, labels) = state(db, &*log, args.at)?;
    if !ledger.is_owned(number) && labels.history(number).is_empty() {
        bail!(
            "{number} has no calls or labels in the log: import its calls with `dialguard import`, or register it with `dialguard numbers add {number} --pool NAME`"
        );
    }
    let at = crate::replay::as_of(args.at, ledger.latest());
    let assessment = assess(&ledger, &labels, &config, number, at);
    match args.format {
        Format::Json => output::print_json(&assessment)?,
        Format::Table => print_assessment(&assessment, &config),
    }
    Ok(ExitCode::SUCCESS)
}

fn print_assessment(a: &Assessment, config: &RiskConfig) {
    println!(
        "{} as of {}: {}",
        a.number,
        crate::output::when(a.at),
        a.health.as_str()
    );
    for l in &a.labels {
        println!("  {}", describe_label(l));
    }
    for score in &a.scores {
        println!();
        print_score(score, config);
    }
    println!();
    if a.triggers.is_empty() {
        println!("no quarantine trigger");
    } else {
        println!("quarantine triggers:");
        for t in &a.triggers {
            println!("  - {}", t.state_change(a.number, a.at).reason);
        }
    }
}

fn print_score(score: &Score, config: &RiskConfig) {
    let limits = config
        .profile(&score.profile)
        .map(|p| {
            format!(
                " (watch from {}, at risk from {}); quarantine when its evidence points \
                 (complaints, blocked calls, repeat calls, invalid destinations, off-hours, \
                 neighbours) pass {}: {} now",
                p.levels.watch.enter,
                p.levels.at_risk.enter,
                p.levels.quarantine_above,
                score.evidence()
            )
        })
        .unwrap_or_default();
    println!(
        "{}: {} / 100, {}{limits}",
        score.profile,
        score.value,
        score.level.as_str()
    );
    let mut factors: Vec<_> = score.factors.iter().collect();
    // Most points first; among factors that gave none, the table's order.
    factors.sort_by(|a, b| b.points.total_cmp(&a.points));
    let mut t = table(&["factor", "points", "why"]);
    for f in factors {
        t.add_row(vec![
            f.name.to_string(),
            format!("{} / {}", f.points, f.weight),
            f.to_string(),
        ]);
    }
    println!("{t}");
}

fn describe_label(l: &CarrierLabel) -> String {
    let shown = match &l.label {
        Some(text) => format!("{text:?}"),
        None => "clean".to_owned(),
    };
    format!(
        "{} ({}): {shown} since {}, last seen {} via {}",
        l.carrier.as_str(),
        l.engine,
        crate::output::when(l.since),
        crate::output::when(l.observed_at),
        l.source
    )
}

pub fn labels(db: &Store, args: LabelsArgs) -> Result<ExitCode> {
    match args.action {
        LabelsAction::Add(add) => add_label(db, add),
        LabelsAction::List { number, at, format } => list_labels(db, number.as_deref(), at, format),
    }
}

fn add_label(db: &Store, add: AddLabel) -> Result<ExitCode> {
    let AddLabel {
        number,
        carrier,
        label,
        clean,
        at,
        source,
        allow_unregistered,
    } = add;
    let number = parse_number(&number)?;
    let carrier = carrier.as_str();
    let Some(carrier) = Carrier::from_name(carrier) else {
        bail!("--carrier {carrier:?} is not a carrier: use att, verizon or tmobile");
    };
    let label = match (label, clean) {
        (_, true) => None,
        (Some(text), false) if !text.trim().is_empty() => Some(text.trim().to_owned()),
        _ => bail!("--label needs the text the handset showed, e.g. --label \"Spam Likely\"; use --clean for no label"),
    };
    let source = source.trim().to_owned();
    if source.is_empty() {
        bail!("--source must say how the display was seen, e.g. manual or test_call");
    }
    let observed = LabelObserved {
        number,
        carrier,
        label,
        at: at.unwrap_or_else(crate::replay::now),
        source,
        source_id: None,
    };
    let mut log = if allow_unregistered {
        open_log(db)?
    } else {
        let log = open_existing(db)?;
        refuse_unregistered(db, &*log, number)?;
        log
    };
    log.append(&db.tenant, &[Event::Label(observed.clone())])?;
    let shown = observed
        .label
        .as_deref()
        .map_or_else(|| "clean".to_owned(), |l| format!("{l:?}"));
    println!(
        "recorded: {} on {} ({}) showed {shown} at {} ({})",
        observed.number,
        carrier.as_str(),
        carrier.engine(),
        observed.at,
        observed.source
    );
    if observed.label.is_some() {
        println!(
            "a label is a quarantine trigger: see `dialguard explain {}`",
            observed.number
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// An error naming the registered numbers `number` is likeliest a slip
/// for, unless it is registered.
fn refuse_unregistered(db: &Store, log: &dyn dialguard_store::EventLog, number: E164) -> Result<()> {
    let mut registered = Vec::new();
    replay(db, log, |event| {
        if let Event::NumberRegistered(r) = event {
            registered.push(r.number);
        }
    })?;
    if registered.contains(&number) {
        return Ok(());
    }
    let hint = dialguard_core::number::did_you_mean(number, registered);
    bail!(
        "{number} is not a registered number{hint}\n\
         register it with `dialguard numbers add {number} --pool POOL`, or record it anyway with --allow-unregistered"
    )
}

#[derive(Serialize)]
struct NumberLabels {
    number: E164,
    /// Each carrier's latest display.
    carriers: Vec<CarrierLabel>,
    /// Every observation, oldest first (only when one number is asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    history: Option<Vec<LabelObserved>>,
}

fn list_labels(db: &Store, number: Option<&str>, at: Option<Timestamp>, format: Format) -> Result<ExitCode> {
    let one = number.map(parse_number).transpose()?;
    let log = open_existing(db)?;
    let mut labels = Labels::new();
    replay_as_of(db, &*log, at, |event| labels.apply(event))?;
    let at = at.unwrap_or_else(crate::replay::now);
    let numbers = match one {
        Some(n) => vec![n],
        None => labels.numbers(),
    };
    let rows: Vec<NumberLabels> = numbers
        .into_iter()
        .map(|n| NumberLabels {
            number: n,
            carriers: labels.current(n, at),
            history: one.map(|_| labels.history(n).iter().filter(|o| o.at <= at).cloned().collect()),
        })
        .collect();
    match format {
        Format::Json => output::print_json(&serde_json::json!({ "at": at, "numbers": rows }))?,
        Format::Table => print_labels(&rows, at),
    }
    Ok(ExitCode::SUCCESS)
}

fn print_labels(rows: &[NumberLabels], at: Timestamp) {
    if rows.iter().all(|r| r.carriers.is_empty()) {
        println!(
            "no label observations as of {at}: record one with `dialguard labels add NUMBER --carrier att --label \"Spam Likely\"`"
        );
        return;
    }
    let mut t = table(&["number", "carrier", "engine", "shows", "since", "last seen", "source"]);
    for r in rows {
        for l in &r.carriers {
            t.add_row(vec![
                r.number.to_string(),
                l.carrier.as_str().to_owned(),
                l.engine.to_string(),
                l.label.clone().unwrap_or_else(|| "clean".into()),
                crate::output::when(l.since),
                crate::output::when(l.observed_at),
                l.source.clone(),
            ]);
        }
    }
    println!("labels as of {}", crate::output::when(at));
    println!("{t}");
    for r in rows {
        let Some(history) = &r.history else { continue };
        println!("history of {}:", r.number);
        let mut h = table(&["seen", "carrier", "shows", "source"]);
        for o in history {
            h.add_row(vec![
                crate::output::when(o.at),
                o.carrier.as_str().to_owned(),
                o.label.clone().unwrap_or_else(|| "clean".into()),
                o.source.clone(),
            ]);
        }
        println!("{h}");
    }
}
