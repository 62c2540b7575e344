//! Reading real-shaped files end to end: one module per format, each
//! checking its fixture row by row, plus the file-level failures and
//! fuzz-style properties every reader shares.

mod asterisk;
mod files;
mod freeswitch;
mod ftc;
mod fuzz;
mod generic;
mod twilio;

use std::path::PathBuf;

use dialguard_core::Event;
use dialguard_formats::{FileError, Format, Options, RowError, Summary, read};

pub fn fixture(path: &str) -> Vec<u8> {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("reading {}: {e}", full.display()))
}

pub fn options_in(zone: &str) -> Options {
    Options {
        timezone: jiff::tz::TimeZone::get(zone).unwrap(),
        ..Options::default()
    }
}

/// One line per record: the event in short, or the row error as a user
/// would read it.
pub fn render(result: &Result<Event, RowError>) -> String {
    match result {
        Err(error) => error.to_string(),
        Ok(Event::Call(c)) => {
            let answered = c.answered_at.map(|a| format!(" answered={a}")).unwrap_or_default();
            format!(
                "{} > {} {} {}/{} talk={} {}..{}{answered} id={}",
                c.from,
                c.to,
                if c.direction == dialguard_core::Direction::Inbound {
                    "inbound"
                } else {
                    "outbound"
                },
                c.outcome.as_str(),
                c.cause.as_str(),
                c.talk_seconds,
                c.started_at,
                c.ended_at,
                shown_id(&c.source_id),
            )
        }
        Ok(Event::Complaint(c)) => format!(
            "complaint {} at {} id={} area={} state={} robocall={}",
            c.number,
            c.at,
            c.source_id,
            c.consumer_area_code.map_or("-".to_owned(), |a| a.to_string()),
            c.consumer_state.as_deref().unwrap_or("-"),
            c.robocall.map_or("-".to_owned(), |r| r.to_string()),
        ),
        Ok(other) => format!("unexpected event {other:?}"),
    }
}

/// Content ids are checked for stability elsewhere; tables show their kind.
fn shown_id(id: &str) -> &str {
    let is_content_id = id.len() == 33 && id.starts_with('h') && id[1..].bytes().all(|b| b.is_ascii_hexdigit());
    if is_content_id { "<content>" } else { id }
}

/// Reads a file, returning every result in order and the summary.
pub fn read_file(
    format: Format,
    bytes: &[u8],
    options: &Options,
) -> Result<(Vec<Result<Event, RowError>>, Summary), FileError> {
    let mut results = Vec::new();
    let summary = read(format, bytes, options, &mut |r| results.push(r))?;
    Ok((results, summary))
}

/// Reads a fixture and renders each record.
pub fn rendered(format: Format, path: &str, options: &Options) -> Vec<String> {
    let (results, summary) = read_file(format, &fixture(path), options).unwrap();
    assert_eq!(summary.rows as usize, results.len());
    assert_eq!(summary.rows, summary.events + summary.errors);
    results.iter().map(render).collect()
}

/// Compares rendered records with the expected table, naming the first
/// difference.
pub fn check(got: &[String], want: &[&str]) {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g, w, "record {} differs", i + 1);
    }
    assert_eq!(got.len(), want.len(), "record count: got {got:#?}");
}
