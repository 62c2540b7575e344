//! How reports leave the program: a table for people, JSON or CSV for scripts.

use clap::ValueEnum;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Json,
    Csv,
}

/// The zone instants are shown in to people (`--tz`); UTC when unset.
static SHOWN_IN: std::sync::OnceLock<jiff::tz::TimeZone> = std::sync::OnceLock::new();

/// Shows instants in `zone` from now on (`--tz`).
pub fn show_in(zone: &str) -> anyhow::Result<()> {
    let tz = jiff::tz::TimeZone::get(zone).map_err(|_| {
        anyhow::anyhow!("--tz {zone:?} is not an IANA time zone: use a name such as America/Chicago or UTC")
    })?;
    let _ = SHOWN_IN.set(tz);
    Ok(())
}

/// An instant as a person reads it: to the second, `T` and `Z`
/// (`2026-03-02T15:04:05Z`), or with `--tz` in that zone with its offset
/// (`2026-03-02T09:04:05-06:00`). Either form is accepted back by `--at`.
pub fn when(at: jiff::Timestamp) -> String {
    let at = at.round(jiff::Unit::Second).unwrap_or(at);
    match SHOWN_IN.get() {
        Some(zone) if zone != &jiff::tz::TimeZone::UTC => at
            .to_zoned_datetime(zone.clone())
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string(),
        _ => at.to_string(),
    }
}

/// A table with a header row, ready to print.
pub fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_header(header.iter().copied());
    table
}

/// `0.314` as `31.4%`, `None` as `-`.
pub fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

/// A number with one decimal, `None` as `-`.
pub fn decimal(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"))
}

/// Pretty JSON on stdout. A reader that went away (`| head`) is not an error.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    use std::io::Write;
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
