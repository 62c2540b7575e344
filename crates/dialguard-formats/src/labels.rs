//! Label scan exports: what each carrier's handsets showed for each number,
//! as reputation-monitoring services and dialers export them, read as
//! [`Event::Label`]s with source `scan` (rules in the crate docs).

use std::io::Read;

use dialguard_core::{Carrier, E164, Event, LabelObserved};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::columns::{Header, optional, text};
use crate::content_id::content_id;
use crate::dial::Numbers;
use crate::split::{CsvRows, Row};
use crate::stamp::{self, Stamp};
use crate::{Emitter, FileError, Format, Options, RowError};

const SOURCE: &str = "scan";
const HINT: &str = "A label scan has a number column (Number, Phone, Caller ID, TN) and either a carrier \
     column (Carrier) with a label column (Label, Status, Display), or one column per carrier \
     (AT&T, Verizon, T-Mobile); see `dialguard import --help`";

const NUMBER: [&str; 8] = [
    "number",
    "phone_number",
    "phone",
    "caller_id",
    "telephone_number",
    "tn",
    "ani",
    "did",
];
const CARRIER: [&str; 3] = ["carrier", "network", "engine"];
const LABEL: [&str; 8] = [
    "label",
    "status",
    "display",
    "result",
    "reputation",
    "flag",
    "cnam",
    "caller_id_display",
];
const WHEN: [&str; 10] = [
    "checked_at",
    "scanned_at",
    "scan_date",
    "check_date",
    "last_checked",
    "date",
    "timestamp",
    "time",
    "at",
    "observed_at",
];

/// The columns of a label scan named by the user (`--map`), for exports
/// whose headers the reader does not recognise:
/// `number=Phone,carrier=Network,label=Shown,at=Checked` (one row per number
/// and carrier) or `number=Phone,att=AT&T Result,verizon=VZ,tmobile=TMO`
/// (a column per carrier); `at=` is optional, as without a map.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelMap {
    pub number: String,
    pub carrier: Option<String>,
    pub label: Option<String>,
    pub at: Option<String>,
    pub columns: Vec<(Carrier, String)>,
}

impl std::str::FromStr for LabelMap {
    type Err = String;

    fn from_str(s: &str) -> Result<LabelMap, String> {
        let mut map = LabelMap::default();
        let mut number = None;
        for entry in s.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (key, column) = entry
                .split_once('=')
                .map(|(k, c)| (k.trim().to_ascii_lowercase(), c.trim().to_owned()))
                .ok_or_else(|| format!("label map entry {entry:?} is not KEY=COLUMN (e.g. number=Phone)"))?;
            if column.is_empty() {
                return Err(format!("label map key {key} names no column (write {key}=ColumnName)"));
            }
            let slot = match key.as_str() {
                "number" => &mut number,
                "carrier" => &mut map.carrier,
                "label" => &mut map.label,
                "at" => &mut map.at,
                other => match Carrier::from_name(other) {
                    Some(carrier) => {
                        if map.columns.iter().any(|(c, _)| *c == carrier) {
                            return Err(format!("label map key {key} is given twice"));
                        }
                        map.columns.push((carrier, column));
                        continue;
                    }
                    None => {
                        return Err(format!(
                            "unknown label map key {other:?}: the keys are number, carrier, label, at, att, verizon, tmobile"
                        ));
                    }
                },
            };
            if slot.replace(column).is_some() {
                return Err(format!("label map key {key} is given twice"));
            }
        }
        map.number = number.ok_or("the label map has no number= entry, which is required (e.g. number=Phone)")?;
        match (&map.carrier, &map.label, map.columns.is_empty()) {
            (Some(_), Some(_), true) | (None, None, false) => Ok(map),
            (Some(_), Some(_), false) => Err(
                "the label map names carrier= and label= and a column per carrier: a scan is one or the other"
                    .to_owned(),
            ),
            (Some(_), None, _) | (None, Some(_), _) => {
                Err("the label map needs carrier= and label= together (or att=, verizon=, tmobile= instead)".to_owned())
            }
            (None, None, true) => Err(
                "the label map needs carrier= and label=, or a column per carrier (att=, verizon=, tmobile=)"
                    .to_owned(),
            ),
        }
    }
}

/// Where each carrier's display is.
enum Shape {
    /// One row per number and carrier.
    Long { carrier: usize, label: usize },
    /// One row per number, a column per carrier.
    Wide(Vec<(Carrier, usize)>),
}

/// The carrier a wide export's column is about: `AT&T`, `Verizon Status`,
/// `T-Mobile Label`, `Hiya`, …
fn carrier_column(name: &str) -> Option<Carrier> {
    let words: Vec<&str> = name
        .split(|c: char| c.is_whitespace() || c == '_' || c == '(' || c == ')')
        .filter(|w| !w.is_empty())
        .filter(|w| {
            !matches!(
                w.to_ascii_lowercase().as_str(),
                "status" | "label" | "display" | "result" | "flag" | "reputation"
            )
        })
        .collect();
    Carrier::from_name(&words.concat())
}

/// The columns the user's map names, each found or an error naming it.
fn mapped(
    header: &Header,
    map: &LabelMap,
    missing: &dyn Fn(&str) -> FileError,
) -> Result<(usize, Shape, Option<usize>), FileError> {
    let find = |name: &str, key: &str| {
        header
            .find_named(name)
            .ok_or_else(|| missing(&format!("{name} (the map's {key}=)")))
    };
    let number = find(&map.number, "number")?;
    let shape = match (&map.carrier, &map.label) {
        (Some(carrier), Some(label)) => Shape::Long {
            carrier: find(carrier, "carrier")?,
            label: find(label, "label")?,
        },
        _ => Shape::Wide(
            map.columns
                .iter()
                .map(|(carrier, name)| Ok((*carrier, find(name, carrier.as_str())?)))
                .collect::<Result<_, FileError>>()?,
        ),
    };
    let when = map.at.as_deref().map(|name| find(name, "at")).transpose()?;
    Ok((number, shape, when))
}

/// The columns found by their usual names.
fn found(
    header: &Header,
    record: &Row,
    missing: &dyn Fn(&str) -> FileError,
) -> Result<(usize, Shape, Option<usize>), FileError> {
    let number = header
        .find(&NUMBER)
        .ok_or_else(|| missing("Number (or Phone, Caller ID, TN)"))?;
    let shape = match (header.find(&CARRIER), header.find(&LABEL)) {
        (Some(carrier), Some(label)) => Shape::Long { carrier, label },
        (Some(_), None) => return Err(missing("Label (or Status, Display) beside Carrier")),
        _ => {
            let names: Vec<String> = (0..record.len())
                .map(|i| String::from_utf8_lossy(record.get(i).unwrap_or_default()).into_owned())
                .collect();
            let columns: Vec<(Carrier, usize)> = names
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != number)
                .filter_map(|(i, name)| carrier_column(name).map(|c| (c, i)))
                .collect();
            if columns.is_empty() {
                return Err(missing("Carrier, or one column per carrier (AT&T, Verizon, T-Mobile)"));
            }
            Shape::Wide(columns)
        }
    };
    Ok((number, shape, header.find(&WHEN)))
}

pub(crate) fn read(input: impl Read, options: &Options, out: &mut Emitter) -> Result<(), FileError> {
    let mut rows = CsvRows::new(input);
    let mut record = Row::default();
    rows.next(&mut record)?;
    let header = Header::new(&record);
    let missing = |what: &str| FileError::MissingColumn {
        format: Format::Labels,
        missing: what.to_owned(),
        found: header.listing(),
        hint: HINT,
    };
    let (number, shape, when) = match &options.label_map {
        Some(map) => mapped(&header, map, &missing)?,
        None => found(&header, &record, &missing)?,
    };
    // Without a date column the whole file is one day's scan.
    let day = options
        .date
        .or_else(|| options.file_name.as_deref().and_then(crate::ftc::day_in_name));
    if when.is_none() && day.is_none() {
        return Err(missing(
            "Date (or Checked At, Scanned At); a file without one needs its day: \
             --date 2026-12-05, or the day in its name (scan-2026-12-05.csv)",
        ));
    }
    let mut numbers = Numbers::default();
    while let Some(line) = rows.next(&mut record)? {
        let at = match instant(&record, when, day, &options.timezone) {
            Ok(at) => at,
            Err(why) => {
                out.emit(Err(RowError::at_line(line, why)));
                continue;
            }
        };
        let written = text(&record, number, "number").unwrap_or("");
        if written.is_empty() {
            out.emit(Err(RowError::at_line(line, "number is empty: the row names no number")));
            continue;
        }
        let number = match numbers.caller(written, "number") {
            Ok(number) => number,
            Err(why) => {
                out.emit(Err(RowError::at_line(line, why)));
                continue;
            }
        };
        match &shape {
            Shape::Long { carrier, label } => {
                let result = long(&record, number, *carrier, *label, at).map_err(|why| RowError::at_line(line, why));
                out.emit(result);
            }
            Shape::Wide(columns) => {
                let seen: Vec<Event> = columns
                    .iter()
                    .filter_map(|(carrier, column)| {
                        let shown = optional(&record, Some(*column), carrier.as_str()).ok().flatten()?;
                        Some(observed(number, *carrier, display(shown), at))
                    })
                    .collect();
                if seen.is_empty() {
                    out.emit(Err(RowError::at_line(
                        line,
                        "every carrier's column is empty: the row says nothing was checked".to_owned(),
                    )));
                } else {
                    out.emit_row(seen);
                }
            }
        }
    }
    Ok(())
}

fn long(record: &Row, number: E164, carrier: usize, label: usize, at: Timestamp) -> Result<Event, String> {
    let name = text(record, carrier, "carrier")?;
    let carrier = Carrier::from_name(name).ok_or_else(|| {
        format!("carrier {name:?} is not AT&T, Verizon or T-Mobile (nor their engines Hiya, TNS, First Orion)")
    })?;
    let shown = optional(record, Some(label), "label")?
        .ok_or("label is empty: write the label shown, or `clean` for a number that showed none")?;
    Ok(observed(number, carrier, display(shown), at))
}

/// What a cell says the handset showed: `None` for clean.
fn display(shown: &str) -> Option<String> {
    let squashed: String = shown
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    match squashed.as_str() {
        "clean" | "clear" | "none" | "nolabel" | "notlabeled" | "notlabelled" | "unlabeled" | "unlabelled" | "ok"
        | "good" | "no" | "false" | "0" | "notflagged" | "unflagged" => None,
        "yes" | "true" | "1" | "flagged" | "labeled" | "labelled" => Some("flagged".to_owned()),
        _ => Some(shown.trim().to_owned()),
    }
}

fn observed(number: E164, carrier: Carrier, label: Option<String>, at: Timestamp) -> Event {
    let source_id = content_id(&[
        &number.digits().to_le_bytes(),
        carrier.as_str().as_bytes(),
        &at.as_second().to_le_bytes(),
    ]);
    Event::Label(LabelObserved {
        number,
        carrier,
        label,
        at,
        source: SOURCE.to_owned(),
        source_id: Some(source_id),
    })
}

/// The row's instant: its date column, else the file's day, at 00:00 in
/// `zone` (as is a date written without a time).
fn instant(record: &Row, when: Option<usize>, day: Option<Date>, zone: &TimeZone) -> Result<Timestamp, String> {
    let written = match when {
        Some(column) => optional(record, Some(column), "date")?,
        None => None,
    };
    let stamp = match (written, day) {
        (Some(text), _) => match us_date(text) {
            Some(local) => Stamp::Local(local),
            None => stamp::parse_any(text).map_err(|why| format!("date {why}"))?,
        },
        (None, Some(day)) => Stamp::Local(day.to_datetime(jiff::civil::Time::midnight())),
        (None, None) => return Err("date is empty: the row does not say when the scan was".to_owned()),
    };
    stamp::instant(zone, stamp).map_err(|_| "date is out of range".to_owned())
}

/// `12/05/2026` or `12/05/2026 14:30` (US exports): month first.
fn us_date(text: &str) -> Option<jiff::civil::DateTime> {
    let text = text.trim();
    let (date, time) = text.split_once(' ').unwrap_or((text, ""));
    let mut parts = date.split('/');
    let (m, d, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 {
        return None;
    }
    let date = Date::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?).ok()?;
    let time = match time.trim() {
        "" => jiff::civil::Time::midnight(),
        t => {
            let mut hm = t.split(':');
            let h: i8 = hm.next()?.parse().ok()?;
            let m: i8 = hm.next()?.parse().ok()?;
            let s: i8 = hm.next().map_or(Some(0), |s| s.parse().ok())?;
            jiff::civil::Time::new(h, m, s, 0).ok()?
        }
    };
    Some(date.to_datetime(time))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read_all;

    fn read(text: &str, options: &Options) -> (Vec<LabelObserved>, Vec<RowError>) {
        let (events, errors) = read_all(Format::Labels, text.as_bytes(), options).expect("the file reads");
        let labels = events
            .into_iter()
            .map(|e| match e {
                Event::Label(l) => l,
                other => panic!("not a label: {other:?}"),
            })
            .collect();
        (labels, errors)
    }

    #[test]
    fn a_row_per_number_and_carrier_reads_as_label_observations() {
        let (labels, errors) = read(
            "Phone Number,Carrier,Status,Checked At\n\
             (415) 555-0100,AT&T,Spam Likely,2026-12-05 14:30:00\n\
             +1 415 555 0100,Verizon,Clean,2026-12-05T14:31:00Z\n\
             4155550101,First Orion,Scam Likely,12/05/2026 09:00\n",
            &Options::default(),
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(labels.len(), 3);
        assert_eq!(labels[0].number.to_string(), "+14155550100");
        assert_eq!(labels[0].carrier, Carrier::Att);
        assert_eq!(labels[0].label.as_deref(), Some("Spam Likely"));
        assert_eq!(labels[0].at.to_string(), "2026-12-05T14:30:00Z");
        assert_eq!(labels[1].label, None, "clean is no label");
        assert_eq!(labels[2].carrier, Carrier::Tmobile);
        assert_eq!(labels[2].at.to_string(), "2026-12-05T09:00:00Z", "US month-first dates");
        assert!(labels.iter().all(|l| l.source == "scan" && l.source_id.is_some()));
        assert_ne!(labels[0].source_id, labels[1].source_id);
    }

    #[test]
    fn a_map_reads_an_export_whose_headers_are_not_recognised() {
        let long = "Subscriber,Net,Shown As,Seen\n\
                    4155550100,verizon,Spam Likely,2026-12-05 14:30:00\n\
                    4155550101,att,clean,2026-12-05 14:31:00\n";
        let (none, _) = read_all(Format::Labels, long.as_bytes(), &Options::default())
            .map(|(e, r)| (e.len(), r.len()))
            .unwrap_or((0, 0));
        assert_eq!(none, 0, "unrecognised without a map");
        let options = Options {
            label_map: Some("number=Subscriber,carrier=Net,label=Shown As,at=Seen".parse().unwrap()),
            ..Options::default()
        };
        let (labels, errors) = read(long, &options);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(labels.len(), 2);
        assert_eq!(labels[0].carrier, Carrier::Verizon);
        assert_eq!(labels[0].label.as_deref(), Some("Spam Likely"));
        assert_eq!(labels[1].label, None);

        let wide = "TN,Ma Bell,Big Red,Magenta\n4155550100,Spam Likely,,Clean\n";
        let options = Options {
            label_map: Some("number=TN,att=Ma Bell,verizon=Big Red,tmobile=Magenta".parse().unwrap()),
            date: Some(jiff::civil::date(2026, 12, 5)),
            ..Options::default()
        };
        let (labels, errors) = read(wide, &options);
        assert!(errors.is_empty(), "{errors:?}");
        let seen: Vec<(Carrier, Option<&str>)> = labels.iter().map(|l| (l.carrier, l.label.as_deref())).collect();
        assert_eq!(seen, [(Carrier::Att, Some("Spam Likely")), (Carrier::Tmobile, None)]);

        let options = Options {
            label_map: Some("number=Phone,carrier=Net,label=Shown As".parse().unwrap()),
            ..Options::default()
        };
        let err = read_all(Format::Labels, long.as_bytes(), &options)
            .unwrap_err()
            .to_string();
        assert!(err.contains("Phone (the map's number=)"), "{err}");
    }

    #[test]
    fn a_label_map_that_cannot_be_used_says_why() {
        for (map, says) in [
            ("carrier=Net,label=Shown", "no number="),
            ("number=TN", "needs carrier= and label=, or a column per carrier"),
            ("number=TN,carrier=Net", "carrier= and label= together"),
            ("number=TN,carrier=Net,label=L,att=A", "one or the other"),
            ("number=TN,att=A,att=B", "given twice"),
            ("number=TN,sprint=S", "unknown label map key \"sprint\""),
            ("number=TN,att", "not KEY=COLUMN"),
            ("number=,att=A", "names no column"),
        ] {
            let err = map.parse::<LabelMap>().unwrap_err();
            assert!(err.contains(says), "{map}: {err}");
        }
    }

    #[test]
    fn a_column_per_carrier_gives_one_observation_per_filled_cell() {
        let zone = TimeZone::get("America/Chicago").unwrap();
        let options = Options {
            timezone: zone,
            ..Options::default()
        };
        let (labels, errors) = read(
            "TN,AT&T Status,Verizon Status,T-Mobile Status,Last Checked\n\
             4155550100,Spam Risk,,No,2026-12-05\n\
             4155550101,,,,2026-12-05\n",
            &options,
        );
        assert_eq!(labels.len(), 2, "{labels:?}");
        assert_eq!(
            (labels[0].carrier, labels[0].label.as_deref()),
            (Carrier::Att, Some("Spam Risk"))
        );
        assert_eq!(
            (labels[1].carrier, labels[1].label.as_deref()),
            (Carrier::Tmobile, None)
        );
        assert_eq!(
            labels[0].at.to_string(),
            "2026-12-05T06:00:00Z",
            "midnight in the file's zone"
        );
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 3);
        assert!(
            errors[0].reason.contains("every carrier's column is empty"),
            "{}",
            errors[0].reason
        );
    }

    #[test]
    fn a_file_without_dates_takes_its_day_from_its_name_or_the_option() {
        let text = "Number,Carrier,Label\n4155550100,tmobile,Scam Likely\n";
        let named = Options {
            file_name: Some("scan-2026-12-04.csv".into()),
            ..Options::default()
        };
        let (labels, _) = read(text, &named);
        assert_eq!(labels[0].at.to_string(), "2026-12-04T00:00:00Z");
        let err = read_all(Format::Labels, text.as_bytes(), &Options::default()).unwrap_err();
        assert!(err.to_string().contains("--date"), "{err}");
    }

    #[test]
    fn bad_rows_are_rejected_naming_the_field_and_the_good_ones_kept() {
        let (labels, errors) = read(
            "Number,Carrier,Label,Date\n\
             4155550100,Sprint,Spam,2026-12-05\n\
             not a number,AT&T,Spam,2026-12-05\n\
             4155550100,AT&T,,2026-12-05\n\
             4155550100,AT&T,Spam,yesterday\n\
             4155550100,AT&T,Spam,13/45/2026\n\
             4155550100,AT&T,Spam,2026-12-05\n",
            &Options::default(),
        );
        assert_eq!(labels.len(), 1);
        let reasons: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.reason.as_str())).collect();
        assert_eq!(reasons.len(), 5, "{reasons:?}");
        assert!(reasons[0].1.contains("carrier \"Sprint\""), "{reasons:?}");
        assert!(reasons[1].1.contains("number \"not a number\""), "{reasons:?}");
        assert!(reasons[2].1.contains("label is empty"), "{reasons:?}");
        assert!(reasons[3].1.starts_with("date "), "{reasons:?}");
        assert!(reasons[4].1.starts_with("date "), "{reasons:?}");
        assert_eq!(reasons.iter().map(|r| r.0).collect::<Vec<_>>(), [2, 3, 4, 5, 6]);
    }

    #[test]
    fn a_header_without_the_needed_columns_says_which_and_what_it_found() {
        for (text, mentions) in [
            ("Carrier,Label,Date\nAT&T,Spam,2026-12-05\n", "Number"),
            ("Number,Carrier,Date\n4155550100,AT&T,2026-12-05\n", "Label"),
            ("Number,Date,Notes\n4155550100,2026-12-05,x\n", "one column per carrier"),
        ] {
            let err = read_all(Format::Labels, text.as_bytes(), &Options::default()).unwrap_err();
            let message = err.to_string();
            assert!(message.contains(mentions), "{message}");
            assert!(message.contains("it has: "), "{message}");
        }
    }
}
