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
