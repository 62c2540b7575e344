//! `dialguard import`: call records and complaint feeds into the log.
//!
//! Rows stream from the file through the parser (an Asterisk file's rows
//! converted on `--workers` threads, still in file order) into batches of
//! [`BATCH`] events, each appended in one transaction on a writer thread. The log drops what it
//! already holds, so importing a file twice, or again after an import was
//! killed halfway, ends in the same state as one clean run.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;

use anyhow::{Context, Result};
use dialguard_core::Event;
use dialguard_formats::{ColumnMap, Format, LabelMap, Options, RowError, RowUnit};
use dialguard_store::EventLog;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::output::{self, table};
use crate::replay::{Store, open_log};

/// Events per transaction: large enough that the commit cost vanishes,
/// small enough that a killed import loses little work.
const BATCH: usize = 10_000;

/// How many rejected rows the summary prints (all of them go to `--rejects`).
const SHOWN_REJECTS: usize = 10;

#[derive(clap::Args)]
pub struct Args {
    /// The format the files are in.
    #[arg(long, short)]
    format: Format,
    /// Time zone of stamps written without an offset (Asterisk and
    /// FreeSWITCH write the PBX's local time), e.g. America/Chicago.
    /// Default UTC, with a note for those formats.
    #[arg(long)]
    timezone: Option<String>,
    /// Column mapping. For `--format generic`:
    /// `from=Caller,to=Dialed,started_at=Start,duration=Secs,...`. For `--format labels` whose
    /// headers are not recognised: `number=Phone,carrier=Network,label=Shown[,at=Checked]`, or a
    /// column per carrier: `number=Phone,att=AT&T,verizon=VZW,tmobile=TMO[,at=Checked]`.
    #[arg(long)]
    map: Option<String>,
    /// The day of an FTC JSON file, or of a label scan without a date column (otherwise read from a
    /// YYYY-MM-DD in the file's name).
    #[arg(long)]
    date: Option<jiff::civil::Date>,
    /// Write every rejected row here as CSV (file,unit,line,reason; unit is `line`, or `record` for JSON).
    #[arg(long)]
    rejects: Option<PathBuf>,
    /// Threads splitting and converting blocks of rows beside the one reading the file (Asterisk
    /// files; other formats read on one). Default: the cores beyond the
    /// reader and the writer (none on 2 cores, where a converter only
    /// competes with the writer).
    #[arg(long)]
    workers: Option<usize>,
    /// Output of the summary.
    #[arg(long, value_enum, default_value_t)]
    output: output::Format,
    /// The files to import.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Default, Serialize)]
struct FileSummary {
    file: String,
    rows: u64,
    accepted: u64,
    duplicates: u64,
    rejected: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize)]
struct Reject {
    file: String,
    /// `line` of a CSV file, or `record` of a JSON array.
    unit: &'static str,
    line: u64,
    reason: String,
}

#[derive(Default, Serialize)]
struct Summary {
    files: Vec<FileSummary>,
    accepted: u64,
    duplicates: u64,
    rejected: u64,
    first_rejects: Vec<Reject>,
}

/// Says what is wrong with the command line; its exit code.
fn usage(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

pub fn run(db: &Store, args: Args) -> Result<ExitCode> {
    let zone_name = args.timezone.as_deref().unwrap_or("UTC");
    let timezone = jiff::tz::TimeZone::get(zone_name)
        .with_context(|| format!("--timezone {zone_name:?} is not an IANA time zone (try America/New_York)"))?;
    if args.timezone.is_none() && matches!(args.format, Format::Asterisk | Format::Freeswitch) {
        // Read as UTC, a PBX on local time puts every call hours off: the
        // calling-hours figures and the guard's windows with it. Said
        // before the import, since a re-import cannot correct stamps
        // (its rows are the same calls, counted once).
        eprintln!(
            "note: {} writes the PBX's local time without an offset; reading it as UTC. \
             If the PBX is not on UTC, stop and import with --timezone and its zone (e.g. America/Chicago)",
            if args.format == Format::Asterisk {
                "Asterisk"
            } else {
                "FreeSWITCH"
            }
        );
    }
    // A map that cannot be read is bad usage (exit 2), as clap's own are.
    let (map, label_map) = match (&args.map, args.format) {
        (None, _) => (None, None),
        (Some(text), Format::Labels) => match text.parse::<LabelMap>() {
            Ok(map) => (None, Some(map)),
            Err(e) => return Ok(usage(&format!("--map: {e}"))),
        },
        (Some(text), _) => match text.parse::<ColumnMap>() {
            Ok(map) => (Some(map), None),
            Err(e) => return Ok(usage(&format!("--map: {e}"))),
        },
    };
    let mut log = open_log(db)?;
    let mut rejects_out = args
        .rejects
        .as_ref()
        .map(|path| {
            let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
            let mut writer = csv::Writer::from_writer(file);
            writer.write_record(["file", "unit", "line", "reason"])?;
            anyhow::Ok(writer)
        })
        .transpose()?;

    let workers = args
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(0, |n| n.get().saturating_sub(2)));
    let mut summary = Summary::default();
    let mut file_failed = false;
    for path in &args.files {
        let options = Options {
            timezone: timezone.clone(),
            map: map.clone(),
            label_map: label_map.clone(),
            file_name: path.file_name().map(|n| n.to_string_lossy().into_owned()),
            date: args.date,
        };
        let mut on_reject = |reject: Reject| -> Result<()> {
            if let Some(out) = rejects_out.as_mut() {
                out.write_record([
                    reject.file.as_str(),
                    reject.unit,
                    &reject.line.to_string(),
                    reject.reason.as_str(),
                ])?;
            }
            if summary.first_rejects.len() < SHOWN_REJECTS {
                summary.first_rejects.push(reject);
            }
            Ok(())
        };
        let file_summary = import_file(
            &mut log,
            &db.tenant,
            path,
            args.format,
            &options,
            workers,
            &mut on_reject,
        )?;
        file_failed |= file_summary.error.is_some();
        summary.accepted += file_summary.accepted;
        summary.duplicates += file_summary.duplicates;
        summary.rejected += file_summary.rejected;
        summary.files.push(file_summary);
    }
    if let Some(mut out) = rejects_out {
        out.flush()?;
    }
    print_summary(&summary, args.output)?;
    Ok(if file_failed {
        ExitCode::FAILURE
    } else if summary.rejected > 0 {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

fn import_file(
    log: &mut (dyn EventLog + Send),
    tenant: &str,
    path: &Path,
    format: Format,
    options: &Options,
    workers: usize,
    on_reject: &mut dyn FnMut(Reject) -> Result<()>,
) -> Result<FileSummary> {
    let name = path.display().to_string();
    let mut summary = FileSummary {
        file: name.clone(),
        ..FileSummary::default()
    };
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) => {
            summary.error = Some(format!("cannot open: {e}"));
            return Ok(summary);
        }
    };
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let progress = progress_bar(size, &name);
    let reader = progress.wrap_read(BufReader::with_capacity(1 << 20, file));

    // The one writer: batches go to the log on their own thread while the
    // parser reads on, so parsing and the disk overlap. Two batches in
    // flight bound the memory.
    let (accepted, duplicates, parsed, reject_failure) = std::thread::scope(|scope| {
        let (to_writer, batches) = mpsc::sync_channel::<Vec<Event>>(2);
        let writer = scope.spawn(move || -> Result<(u64, u64)> {
            let (mut accepted, mut duplicates) = (0, 0);
            for batch in batches {
                let appended = log.append(tenant, &batch).context("writing to the event log")?;
                accepted += appended.accepted as u64;
                duplicates += appended.duplicates as u64;
            }
            Ok((accepted, duplicates))
        });
        let mut batch: Vec<Event> = Vec::with_capacity(BATCH);
        let mut writer_gone = false;
        let mut reject_failure: Option<anyhow::Error> = None;
        let mut sink = |item: Result<Event, RowError>| match item {
            Ok(event) if !writer_gone => {
                batch.push(event);
                if batch.len() >= BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    writer_gone = to_writer.send(full).is_err();
                }
            }
            Ok(_) => {}
            Err(row) => {
                summary.rejected += 1;
                let unit = match row.unit {
                    RowUnit::Line => "line",
                    RowUnit::Record => "record",
                };
                let reject = Reject {
                    file: name.clone(),
                    unit,
                    line: row.line,
                    reason: row.reason,
                };
                if let Err(e) = on_reject(reject) {
                    reject_failure.get_or_insert(e);
                }
            }
        };
        // Whatever was parsed before a file goes bad still lands.
        let parsed = dialguard_formats::read_parallel(format, reader, options, workers, &mut sink);
        if !batch.is_empty() && !writer_gone {
            let _ = to_writer.send(batch);
        }
        drop(to_writer);
        let written = writer.join().expect("the writer thread does not panic");
        written.map(|(a, d)| (a, d, parsed, reject_failure))
    })?;
    progress.finish_and_clear();
    if let Some(e) = reject_failure {
        return Err(e);
    }
    summary.accepted = accepted;
    summary.duplicates = duplicates;
    match parsed {
        Ok(counts) => summary.rows = counts.rows,
        Err(e) => summary.error = Some(e.to_string()),
    }
    Ok(summary)
}

/// A byte-based bar on stderr; invisible when stderr is not a terminal.
fn progress_bar(size: u64, name: &str) -> ProgressBar {
    let bar = ProgressBar::new(size);
    bar.set_style(
        ProgressStyle::with_template("{msg} {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .expect("the template is valid"),
    );
    bar.set_message(name.to_owned());
    bar
}

fn print_summary(summary: &Summary, format: output::Format) -> Result<()> {
    if format == output::Format::Json {
        return output::print_json(summary);
    }
    let mut t = table(&["file", "rows", "accepted", "duplicates", "rejected", "error"]);
    for f in &summary.files {
        t.add_row(vec![
            f.file.clone(),
            f.rows.to_string(),
            f.accepted.to_string(),
            f.duplicates.to_string(),
            f.rejected.to_string(),
            f.error.clone().unwrap_or_default(),
        ]);
    }
    println!("{t}");
    println!(
        "accepted {}, duplicates {}, rejected {}",
        summary.accepted, summary.duplicates, summary.rejected
    );
    let mut stderr = std::io::stderr().lock();
    for f in summary.files.iter().filter(|f| f.error.is_some()) {
        writeln!(stderr, "error: {}: {}", f.file, f.error.as_deref().unwrap_or_default())?;
    }
    if !summary.first_rejects.is_empty() {
        writeln!(stderr, "first rejected rows (all of them with --rejects FILE):")?;
        for r in &summary.first_rejects {
            writeln!(stderr, "  {}:{} {}: {}", r.file, r.unit, r.line, r.reason)?;
        }
    }
    Ok(())
}
