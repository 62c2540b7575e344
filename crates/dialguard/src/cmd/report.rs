//! `dialguard report`: each owned number's calling pattern.
//!
//! The figures are as of `--at`, by default now, as every command answers
//! (see [`crate::replay::as_of`]: a log that ends days earlier gets a note
//! saying how to look as of then).

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use dialguard_core::E164;
use dialguard_core::metrics::{Ledger, NumberMetrics, Window, WindowMetrics};
use jiff::Timestamp;
use serde::Serialize;

use crate::output::{self, decimal, percent, table};
use crate::replay::{Store, ledger, open_existing};

#[derive(clap::Args)]
pub struct Args {
    /// One number to report on in full (every window); default every owned number.
    number: Option<String>,
    /// The instant the windows end at (RFC 3339); default now.
    #[arg(long)]
    at: Option<Timestamp>,
    /// The window the all-numbers table shows: 1h, 24h, 7d or 30d.
    #[arg(long, default_value = "24h", value_parser = parse_window)]
    window: Window,
    #[arg(long, value_enum, default_value_t)]
    format: output::Format,
}

fn parse_window(text: &str) -> Result<Window, String> {
    Window::ALL
        .into_iter()
        .find(|w| w.label() == text)
        .ok_or_else(|| format!("{text:?} is not a window: use 1h, 24h, 7d or 30d"))
}

#[derive(Serialize)]
struct Report {
    at: Timestamp,
    numbers: Vec<NumberMetrics>,
}

pub fn run(db: &Store, args: Args) -> Result<ExitCode> {
    let log = open_existing(db)?;
    let ledger = ledger(db, &*log, args.at)?;
    let at = crate::replay::as_of(args.at, ledger.latest());
    let numbers = match &args.number {
        Some(text) => {
            let number = E164::parse_valid(text).with_context(|| format!("number {text:?}"))?;
            if !ledger.is_owned(number) {
                bail!(
                    "{number} is not an owned number: register it with `dialguard numbers add {number} --pool NAME`, or import its calls"
                );
            }
            vec![number]
        }
        None => ledger.owned_numbers(),
    };
    let report = Report {
        at,
        numbers: numbers.iter().map(|n| ledger.metrics(*n, at)).collect(),
    };
    match args.format {
        output::Format::Json => output::print_json(&report)?,
        output::Format::Csv => print_csv(&report)?,
        output::Format::Table if args.number.is_some() => print_one(&report),
        output::Format::Table => print_all(&ledger, &report, args.window),
    }
    Ok(ExitCode::SUCCESS)
}

fn print_all(ledger: &Ledger, report: &Report, window: Window) {
    if report.numbers.is_empty() {
        println!(
            "no owned numbers yet: import call records with `dialguard import`, or add numbers with `dialguard numbers add`"
        );
        return;
    }
    println!(
        "as of {} — last {}; {} calls in the log",
        crate::output::when(report.at),
        window.label(),
        ledger.call_count()
    );
    let mut t = table(&[
        "number",
        "attempts",
        "answer",
        "short",
        "avg talk",
        "≥2 min",
        "invalid",
        "blocked",
        "complaints",
        "distinct",
        "repeat",
        "peak/h",
        "min gap",
        "inbound",
    ]);
    for n in &report.numbers {
        let m = n.window(window);
        t.add_row(row(n.number, m));
    }
    println!("{t}");
}

fn row(number: E164, m: &WindowMetrics) -> Vec<String> {
    vec![
        number.to_string(),
        m.attempts.to_string(),
        percent(m.answer_rate),
        percent(m.short_call_ratio),
        decimal(m.avg_talk_seconds),
        percent(m.long_call_share),
        percent(m.invalid_ratio),
        m.blocked.to_string(),
        m.complaints.to_string(),
        m.distinct_destinations.to_string(),
        percent(m.repeat_call_share),
        m.peak_calls_per_hour.to_string(),
        m.min_gap_seconds.map_or_else(|| "-".into(), |g| format!("{g}s")),
        m.inbound_calls.to_string(),
    ]
}

fn print_one(report: &Report) {
    let Some(n) = report.numbers.first() else { return };
    println!("{} as of {}", n.number, crate::output::when(report.at));
    let mut t = table(&["", "1h", "24h", "7d", "30d"]);
    let line = |name: &str, f: &dyn Fn(&WindowMetrics) -> String| {
        let mut cells = vec![name.to_owned()];
        cells.extend(Window::ALL.iter().map(|w| f(n.window(*w))));
        cells
    };
    t.add_row(line("attempts", &|m| m.attempts.to_string()));
    t.add_row(line("answer rate", &|m| percent(m.answer_rate)));
    t.add_row(line("short-call ratio", &|m| percent(m.short_call_ratio)));
    t.add_row(line("avg talk (s)", &|m| decimal(m.avg_talk_seconds)));
    t.add_row(line("median talk (s)", &|m| decimal(m.median_talk_seconds)));
    t.add_row(line("calls ≥ 2 min", &|m| percent(m.long_call_share)));
    t.add_row(line("invalid destinations", &|m| percent(m.invalid_ratio)));
    t.add_row(line("blocked as unwanted", &|m| m.blocked.to_string()));
    t.add_row(line("voicemail", &|m| m.voicemail.to_string()));
    t.add_row(line("complaints", &|m| m.complaints.to_string()));
    t.add_row(line("distinct destinations", &|m| m.distinct_destinations.to_string()));
    t.add_row(line("repeat-call share", &|m| percent(m.repeat_call_share)));
    t.add_row(line("peak calls / hour", &|m| m.peak_calls_per_hour.to_string()));
    t.add_row(line("smallest gap (s)", &|m| {
        m.min_gap_seconds.map_or("-".into(), |g| g.to_string())
    }));
    t.add_row(line("median gap (s)", &|m| decimal(m.median_gap_seconds)));
    t.add_row(line("area codes called", &|m| m.distinct_area_codes.to_string()));
    t.add_row(line("states called", &|m| m.distinct_states.to_string()));
    t.add_row(line("inbound calls", &|m| m.inbound_calls.to_string()));
    println!("{t}");
}

/// One CSV row per number and window: the shape spreadsheets want.
fn print_csv(report: &Report) -> Result<()> {
    let opt = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v:.4}"));
    let mut out = csv::Writer::from_writer(std::io::stdout());
    out.write_record([
        "number",
        "at",
        "window",
        "attempts",
        "answered",
        "answer_rate",
        "short_calls",
        "short_call_ratio",
        "avg_talk_seconds",
        "median_talk_seconds",
        "long_call_share",
        "invalid_destinations",
        "invalid_ratio",
        "blocked",
        "voicemail",
        "complaints",
        "distinct_destinations",
        "repeat_call_share",
        "peak_calls_per_hour",
        "min_gap_seconds",
        "median_gap_seconds",
        "distinct_area_codes",
        "distinct_states",
        "inbound_calls",
    ])?;
    for n in &report.numbers {
        for m in &n.windows {
            out.write_record([
                n.number.to_string(),
                report.at.to_string(),
                m.window.clone(),
                m.attempts.to_string(),
                m.answered.to_string(),
                opt(m.answer_rate),
                m.short_calls.to_string(),
                opt(m.short_call_ratio),
                opt(m.avg_talk_seconds),
                opt(m.median_talk_seconds),
                opt(m.long_call_share),
                m.invalid_destinations.to_string(),
                opt(m.invalid_ratio),
                m.blocked.to_string(),
                m.voicemail.to_string(),
                m.complaints.to_string(),
                m.distinct_destinations.to_string(),
                opt(m.repeat_call_share),
                m.peak_calls_per_hour.to_string(),
                m.min_gap_seconds.map_or_else(String::new, |g| g.to_string()),
                opt(m.median_gap_seconds),
                m.distinct_area_codes.to_string(),
                m.distinct_states.to_string(),
                m.inbound_calls.to_string(),
            ])?;
        }
    }
    out.flush()?;
    Ok(())
}
