//! `dialguard numbers`: the numbers the business owns.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use dialguard_core::risk::Health;
use dialguard_core::{E164, Event, NumberRegistered, NumberState};
use dialguard_store::EventLog;
use jiff::Timestamp;
use serde::Serialize;

use crate::output::{self, table};
use crate::replay::{Store, open_existing, open_log};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Option<Action>,
    /// Output of the listing.
    #[arg(long, value_enum, default_value_t, global = true)]
    format: output::Format,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Register numbers in a pool (a campaign's caller-id group).
    Add {
        /// Numbers in any usual form (+14155550100, (415) 555-0100, …).
        #[arg(required = true)]
        numbers: Vec<String>,
        #[arg(long)]
        pool: String,
        /// `aging` for a new number that must ramp up, `active` otherwise
        /// (the default for a new number). A number already registered
        /// keeps its state unless this says otherwise.
        #[arg(long)]
        state: Option<String>,
        /// When the number was acquired (RFC 3339); default now.
        #[arg(long)]
        at: Option<Timestamp>,
        #[arg(long)]
        cnam: Option<String>,
    },
    /// List registered numbers with their state, health, top score and top factor (the default).
    List {
        /// The instant to judge at (RFC 3339); default now.
        #[arg(long)]
        at: Option<Timestamp>,
    },
    /// Move a number to another state by hand, with a reason.
    SetState(crate::cmd::lifecycle::SetStateArgs),
}

#[derive(Serialize)]
struct Row {
    number: E164,
    pool: String,
    state: NumberState,
    health: Health,
    /// The highest profile score, 0-100.
    risk: u8,
    calls_today: u32,
    cap_today: u32,
    registered_at: Timestamp,
    /// The factor that adds the most points on any profile, and why, in
    /// plain words with its profile.
    top_factor: Option<String>,
    top_factor_text: Option<String>,
}

pub fn run(db: &Store, args: Args) -> Result<ExitCode> {
    match args.action.unwrap_or(Action::List { at: None }) {
        Action::Add {
            numbers,
            pool,
            state,
            at,
            cnam,
        } => add(db, numbers, pool, state.as_deref(), at, cnam),
        Action::List { at } => list(db, at, args.format),
        Action::SetState(args) => crate::cmd::lifecycle::set_state(db, args),
    }
}

fn add(
    db: &Store,
    numbers: Vec<String>,
    pool: String,
    state: Option<&str>,
    at: Option<Timestamp>,
    cnam: Option<String>,
) -> Result<ExitCode> {
    let pool = pool.trim().to_owned();
    if pool.is_empty() {
        bail!("--pool must name a pool, e.g. --pool sales");
    }
    let requested = match state.map(|s| (s, NumberState::from_name(s))) {
        None => None,
        Some((_, Some(s @ (NumberState::Aging | NumberState::Active)))) => Some(s),
        Some((name, _)) => bail!(
            "--state must be `aging` or `active` when registering, not {name:?} \
             (other states are reached through the lifecycle, or `dialguard numbers set-state`)"
        ),
    };
    let numbers = numbers
        .iter()
        .map(|text| E164::parse_valid(text).with_context(|| format!("number {text:?}")))
        .collect::<Result<Vec<_>>>()?;
    let mut log = open_log(db)?;
    let engine = crate::replay::engine(db, &*log)?;
    let now = crate::replay::now();
    let mut events = Vec::with_capacity(numbers.len());
    for number in numbers {
        let event = match engine.lifecycle().record(number) {
            None => NumberRegistered {
                number,
                pool: pool.clone(),
                at: at.unwrap_or(now),
                state: requested.unwrap_or(NumberState::Active),
                cnam: cnam.clone(),
            },
            Some(record) => {
                // Registering again moves a number to another pool or names
                // it; its state is the lifecycle's, changed here only when
                // asked, and never out of a rest or a recovery plan.
                let state = requested.unwrap_or(record.state);
                if state != record.state
                    && !matches!(
                        record.state,
                        NumberState::Aging | NumberState::Active | NumberState::Watch
                    )
                {
                    bail!(
                        "{number} is {}: its remediation decides when it calls again, not a registration; \
                         to override, `dialguard numbers set-state {number} {} --reason \"…\"`",
                        record.state.as_str(),
                        state.as_str()
                    );
                }
                NumberRegistered {
                    number,
                    pool: pool.clone(),
                    at: at.unwrap_or(now).max(record.registered_at),
                    state,
                    cnam: cnam.clone(),
                }
            }
        };
        events.push(Event::NumberRegistered(event));
    }
    log.append(&db.tenant, &events)?;
    for event in &events {
        if let Event::NumberRegistered(n) = event {
            println!("{} added to pool {} ({})", n.number, n.pool, n.state.as_str());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn list(db: &Store, at: Option<Timestamp>, format: output::Format) -> Result<ExitCode> {
    let log = open_existing(db)?;
    // State and health as of now: the engine moves time without recording
    // what it decides (`set-state` and the server record).
    let now = at.unwrap_or_else(crate::replay::now);
    let mut engine = crate::replay::engine_as_of(db, &*log, at)?;
    engine.tick(now);
    let registered_at: std::collections::HashMap<E164, Timestamp> = engine
        .lifecycle()
        .records()
        .map(|r| (r.number, r.registered_at))
        .collect();
    let rows: Vec<Row> = engine
        .numbers(now)
        .into_iter()
        .map(|n| Row {
            registered_at: registered_at[&n.number],
            top_factor: n.top_factor.as_ref().map(|f| f.factor.as_str().to_owned()),
            top_factor_text: n.top_factor.as_ref().map(|f| format!("{}: {}", f.profile, f.text())),
            number: n.number,
            pool: n.pool,
            state: n.state,
            health: n.health,
            risk: n.risk,
            calls_today: n.calls_today,
            cap_today: n.cap_today,
        })
        .collect();
    match format {
        output::Format::Json => output::print_json(&serde_json::json!({ "numbers": rows }))?,
        output::Format::Csv => {
            let mut out = csv::Writer::from_writer(std::io::stdout());
            for row in &rows {
                out.serialize(row)?;
            }
            out.flush()?;
        }
        output::Format::Table => {
            if rows.is_empty() {
                println!("no numbers registered: add them with `dialguard numbers add +1... --pool NAME`");
            } else {
                let mut t = table(&[
                    "number",
                    "pool",
                    "state",
                    "health",
                    "risk",
                    "calls 24h / cap",
                    "registered",
                    "top factor",
                ]);
                for r in &rows {
                    t.add_row(vec![
                        r.number.to_string(),
                        r.pool.clone(),
                        r.state.as_str().to_owned(),
                        r.health.as_str().to_owned(),
                        r.risk.to_string(),
                        format!("{} / {}", r.calls_today, r.cap_today),
                        crate::output::when(r.registered_at),
                        r.top_factor_text.clone().unwrap_or_default(),
                    ]);
                }
                println!("{t}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
