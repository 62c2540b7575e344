//! Asterisk `cdr_csv` `Master.csv` (rules in the crate docs).
//!
//! This is the importer large users feed millions of rows through, so a row
//! is read into one reused [`Row`] and only the fields a call needs
//! are decoded.

use std::io::Read;

use dialguard_core::{Classified, Direction, E164, Event, Source, classify};

use crate::columns::{RecordText, trimmed};
use crate::content_id::content_id;
use crate::dial::{Destination, Numbers};
use crate::draft::{Draft, seconds};
use crate::split::{Row, Splitter};
use crate::stamp::{self, Stamp, WallClock};
use crate::{Emitter, FileError, Options, parallel};

const ACCOUNTCODE: usize = 0;
const SRC: usize = 1;
const DST: usize = 2;
const DCONTEXT: usize = 3;
const CLID: usize = 4;
const CHANNEL: usize = 5;
const DSTCHANNEL: usize = 6;
const LASTDATA: usize = 8;
const START: usize = 9;
const ANSWER: usize = 10;
const END: usize = 11;
const DURATION: usize = 12;
const BILLSEC: usize = 13;
const DISPOSITION: usize = 14;

/// Where the optional columns are, told apart by the row's width.
struct Layout {
    uniqueid: Option<usize>,
    sequence: Option<usize>,
}

fn layout(columns: usize) -> Option<Layout> {
    let (uniqueid, sequence) = match columns {
        16 => (None, None),
        17 | 18 => (Some(16), None),
        19 => (None, Some(18)),
        20 => (Some(16), Some(19)),
        21 => (Some(16), Some(20)),
        _ => return None,
    };
    Some(Layout { uniqueid, sequence })
}

/// Contexts where calls from outside land: FreePBX's and the common names.
const INBOUND_CONTEXTS: [&str; 8] = [
    "from-trunk",
    "from-pstn",
    "from-did",
    "ext-did",
    "from-external",
    "from-sip-external",
    "inbound",
    "incoming",
];

pub(crate) fn read(input: impl Read, options: &Options, out: &mut Emitter) -> Result<(), FileError> {
    parallel::read_in_one(input, true, 1, Calls::new(options), &is_header, out)
}

/// [`read`] with rows converted on `threads` workers.
pub(crate) fn read_parallel(
    input: impl Read,
    options: &Options,
    threads: usize,
    out: &mut Emitter,
) -> Result<(), FileError> {
    parallel::convert_rows(input, threads, || Calls::new(options), is_header, out)
}

fn is_header(record: &Row) -> bool {
    let is = |i: usize, name: &str| {
        record
            .get(i)
            .is_some_and(|f| f.trim_ascii().eq_ignore_ascii_case(name.as_bytes()))
    };
    is(ACCOUNTCODE, "accountcode") && is(SRC, "src") && is(DST, "dst")
}

struct Calls<'o> {
    numbers: Numbers,
    options: &'o Options,
    /// A file's rows share a handful of contexts and dispositions: the last
    /// context's direction and each disposition's outcome are kept.
    last_context: (Vec<u8>, Direction),
    dispositions: Vec<(Box<str>, Option<Classified>)>,
    wall: WallClock,
}

impl parallel::Convert for Calls<'_> {
    fn convert(&mut self, record: &Row) -> Result<Event, String> {
        self.call(record)
    }

    /// A field may hold line breaks (cdr_csv writes a userfield as it is),
    /// but a record running over lines must still have a layout's columns.
    fn splitter(&self) -> Splitter {
        Splitter::spans_checked(|columns| layout(columns).is_some())
    }
}

impl<'o> Calls<'o> {
    fn new(options: &'o Options) -> Calls<'o> {
        Calls {
            numbers: Numbers::default(),
            options,
            last_context: (Vec::new(), Direction::Outbound),
            dispositions: Vec::new(),
            wall: WallClock::new(&options.timezone),
        }
    }

    fn call(&mut self, record: &Row) -> Result<Event, String> {
        let layout = layout(record.len()).ok_or_else(|| {
            format!(
                "the row has {} columns; an Asterisk Master.csv row has 16 to 21 \
                 (accountcode … amaflags, then uniqueid, userfield, peeraccount, linkedid, sequence): \
                 is this file in another format?",
                record.len()
            )
        })?;
        let row = RecordText::new(record);
        let field = |i: usize, name: &str| row.field(i, name);
        let src = field(SRC, "src")?;
        let dst = field(DST, "dst")?;
        if is_extension(src) && is_extension(dst) {
            return Err(format!(
                "an internal call from extension {src} to {dst}: it never reached a carrier"
            ));
        }
        let direction = self.direction(record.get(DCONTEXT).unwrap_or_default());
        // clid, lastdata and dstchannel are read only when src or dst falls
        // short: a caller name in Latin-1 must not cost a good row.
        let from = self.caller(src, || field(CLID, "clid"))?;
        let to = match direction {
            Direction::Outbound => self.dialled(dst, || {
                Ok((field(LASTDATA, "lastdata")?, field(DSTCHANNEL, "dstchannel")?))
            })?,
            Direction::Inbound => Destination::Valid(self.numbers.caller(dst, "dst")?),
        };

        let disposition = field(DISPOSITION, "disposition")?;
        let classified = self.classify(disposition).ok_or_else(|| {
            format!(
                "disposition {disposition:?} is not an Asterisk disposition \
                 (ANSWERED, NO ANSWER, BUSY, FAILED, CONGESTION)"
            )
        })?;
        let duration = seconds(field(DURATION, "duration")?, "duration")?;
        let billsec = seconds(field(BILLSEC, "billsec")?, "billsec")?;
        let start_text = field(START, "start")?;
        let start = self.local(start_text, "start")?;
        let end = self.local(field(END, "end")?, "end")?;
        let answer = match field(ANSWER, "answer")? {
            "" => None,
            text => Some(self.local(text, "answer")?),
        };
        let span = stamp::resolve(&self.options.timezone, start, answer, end, Some(duration))
            .map_err(|e| e.describe("start", "answer", "end"))?;

        let source_id = source_id(&row, &layout, src, dst, start_text)?;
        Ok(Draft {
            from,
            to,
            direction,
            span,
            talk_seconds: billsec,
            classified,
            source: Source::Asterisk,
            source_id,
        }
        .into_event())
    }

    fn local(&mut self, text: &str, field: &str) -> Result<Stamp, String> {
        self.wall.read(text).map_err(|why| format!("{field} {why}"))
    }

    fn direction(&mut self, dcontext: &[u8]) -> Direction {
        if self.last_context.0 != dcontext {
            self.last_context = (dcontext.to_vec(), direction(dcontext));
        }
        self.last_context.1
    }

    fn classify(&mut self, disposition: &str) -> Option<Classified> {
        if let Some((_, known)) = self.dispositions.iter().find(|(d, _)| **d == *disposition) {
            return *known;
        }
        let classified = classify::asterisk(disposition);
        if self.dispositions.len() < 16 {
            self.dispositions.push((disposition.into(), classified));
        }
        classified
    }

    /// `src`, else the number in `clid` (`"ACME Sales" <4155550100>`).
    fn caller<'r>(&mut self, src: &str, clid: impl FnOnce() -> Result<&'r str, String>) -> Result<E164, String> {
        self.numbers.caller(src, "src").or_else(|why| {
            let clid = clid()?;
            clid_number(clid)
                .and_then(|n| self.numbers.valid(n))
                .ok_or_else(|| format!("{why}, and clid {clid:?} holds none either"))
        })
    }

    /// `dst`, else the target of the Dial in `lastdata` or a `Local/`
    /// `dstchannel`, else `dst` as an invalid but dialled number.
    fn dialled<'r>(
        &mut self,
        dst: &str,
        dial: impl FnOnce() -> Result<(&'r str, &'r str), String>,
    ) -> Result<Destination, String> {
        if let Some(n) = self.numbers.valid(dst) {
            return Ok(Destination::Valid(n));
        }
        let (lastdata, dstchannel) = dial()?;
        let targets = [dial_target(lastdata), channel_target(dstchannel)];
        for target in targets.iter().flatten() {
            if let Some(n) = self.numbers.valid(target) {
                return Ok(Destination::Valid(n));
            }
        }
        match self.numbers.destination(dst, "dst") {
            Ok(d) => Ok(d),
            Err(why) => {
                for target in targets.iter().flatten() {
                    if let Ok(d) = self.numbers.destination(target, "lastdata") {
                        return Ok(d);
                    }
                }
                Err(format!(
                    "{why}, and neither lastdata {lastdata:?} nor dstchannel {dstchannel:?} names the number dialled"
                ))
            }
        }
    }
}

fn direction(dcontext: &[u8]) -> Direction {
    let inbound = INBOUND_CONTEXTS.iter().any(|marker| {
        dcontext
            .windows(marker.len())
            .any(|w| w.eq_ignore_ascii_case(marker.as_bytes()))
    });
    if inbound {
        Direction::Inbound
    } else {
        Direction::Outbound
    }
}

/// A phone's extension: a few digits that never leave the PBX.
fn is_extension(text: &str) -> bool {
    let text = trimmed(text);
    (1..=6).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
}

fn clid_number(clid: &str) -> Option<&str> {
    let open = clid.rfind('<')?;
    let close = open + clid[open..].find('>')?;
    Some(&clid[open + 1..close])
}

/// The number a Dial's first target names: `PJSIP/+14155550100@trunk,30`,
/// `SIP/trunk/14155550100,60,tT`, `PJSIP/trunk/sip:+14155550100@carrier`.
fn dial_target(lastdata: &str) -> Option<&str> {
    let first = lastdata.split([',', '&']).next()?;
    let (_tech, resource) = first.split_once('/')?;
    let last = resource.rsplit('/').next()?;
    let user = strip_scheme(last);
    let number = user.split(['@', ';']).next()?;
    Some(number).filter(|n| !n.is_empty())
}

/// `Local/14155550100@from-internal-00000001;1` names the number;
/// `PJSIP/trunk-0000002a` does not (and yields text that is no number).
fn channel_target(dstchannel: &str) -> Option<&str> {
    let (_tech, resource) = dstchannel.split_once('/')?;
    let user = strip_scheme(resource.rsplit('/').next()?);
    let number = user.split(['@', ';']).next()?;
    Some(number).filter(|n| !n.is_empty())
}

fn strip_scheme(text: &str) -> &str {
    ["sip:", "sips:", "tel:"]
        .iter()
        .find_map(|s| text.strip_prefix(s))
        .unwrap_or(text)
}

fn source_id(row: &RecordText, layout: &Layout, src: &str, dst: &str, start: &str) -> Result<String, String> {
    let uniqueid = match layout.uniqueid {
        Some(i) => trimmed(row.field(i, "uniqueid")?),
        None => "",
    };
    if uniqueid.is_empty() {
        let channel = row.record().get(CHANNEL).unwrap_or_default();
        return Ok(content_id(&[src.as_bytes(), dst.as_bytes(), start.as_bytes(), channel]));
    }
    let sequence = match layout.sequence {
        Some(i) => trimmed(row.field(i, "sequence")?),
        None => "",
    };
    Ok(if sequence.is_empty() {
        uniqueid.to_owned()
    } else {
        format!("{uniqueid}:{sequence}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::RowError;

    type Results = Vec<Result<Event, RowError>>;

    fn sequential(bytes: &[u8]) -> Results {
        let mut results = Vec::new();
        let mut sink = |r| results.push(r);
        let mut out = Emitter {
            sink: &mut sink,
            summary: crate::Summary::default(),
        };
        read(bytes, &Options::default(), &mut out).unwrap();
        results
    }

    fn in_blocks(block: usize, threads: usize, bytes: &[u8]) -> Results {
        let mut results = Vec::new();
        let mut sink = |r| results.push(r);
        let mut out = Emitter {
            sink: &mut sink,
            summary: crate::Summary::default(),
        };
        let options = Options::default();
        parallel::convert_rows_in(block, bytes, threads, || Calls::new(&options), is_header, &mut out).unwrap();
        results
    }

    const ROW: &str = "\"\",\"4155550100\",\"14155550123\",\"from-internal\",\"\"\"Sales\"\" <4155550100>\",\
        \"PJSIP/100-00000001\",\"PJSIP/trunk-00000002\",\"Dial\",\"PJSIP/14155550123@trunk,30\",\
        \"2026-03-02 09:15:01\",\"2026-03-02 09:15:07\",\"2026-03-02 09:17:11\",\"130\",\"124\",\
        \"ANSWERED\",\"DOCUMENTATION\",\"1772442901.1\",\"\"";

    /// Row `i`: a call with an id of its own, or one of the awkward kinds.
    fn row(i: usize, kind: u8) -> String {
        let call = ROW.replace("1772442901.1", &format!("1772442901.{i}"));
        match kind {
            // A userfield holding a comma.
            0 => format!("{}\"campaign 7, list B\"", &call[..call.len() - 2]),
            // An accountcode holding line breaks.
            1 => call.replacen("\"\",", "\"note: line one\nline two, still\nthe field\",", 1),
            2 => String::new(),
            3 => call.replace("ANSWERED", "RINGING"),
            4 => "\"x\",\"y\"".to_owned(),
            5 => call + "\r",
            _ => call,
        }
    }

    #[test]
    fn blocks_read_as_the_whole_file_does_wherever_they_are_cut() {
        let mut file = String::from(
            "accountcode,src,dst,dcontext,clid,channel,dstchannel,lastapp,lastdata,start,answer,end,duration,billsec,disposition,amaflags,uniqueid,userfield\n",
        );
        for i in 0..60 {
            file += &row(i, (i % 7) as u8);
            file.push('\n');
        }
        // A record longer than every block, and no line break at the end.
        file += &ROW.replace("DOCUMENTATION", &"D".repeat(5_000));
        let expected = sequential(file.as_bytes());
        assert!(expected.iter().filter(|r| r.is_ok()).count() > 30);
        assert!(expected.iter().any(Result::is_err));
        for block in [1, 7, 64, 333, 4096, 1 << 20] {
            for threads in [1, 3] {
                assert!(
                    in_blocks(block, threads, file.as_bytes()) == expected,
                    "blocks of {block} bytes on {threads} threads"
                );
            }
        }
        // Without line breaks in fields, no block needs reading again.
        let plain: String = (0..60).map(|i| row(i, 6) + "\n").collect();
        assert_eq!(in_blocks(256, 2, plain.as_bytes()), sequential(plain.as_bytes()));
    }

    #[test]
    fn a_line_cut_short_is_rejected_alone_and_the_next_record_lands() {
        // A PBX that died mid-write: an open quote with no close.
        let mut file = String::new();
        for i in 0..3 {
            file += &row(i, 6);
            file.push('\n');
        }
        file += "\"acct\",\"4155550100\",\"1415555\n";
        for i in 3..6 {
            file += &row(i, 6);
            file.push('\n');
        }
        // A field that holds line breaks in a record of a layout's columns
        // is still read whole.
        file += &row(6, 1);
        file.push('\n');
        let results = sequential(file.as_bytes());
        let lines: Vec<u64> = results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .map(|e| e.line)
            .collect();
        assert_eq!(lines, [4], "{results:?}");
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 7, "{results:?}");
        for block in [16, 300, 1 << 20] {
            assert!(
                in_blocks(block, 2, file.as_bytes()) == results,
                "blocks of {block} bytes"
            );
        }
        // Cut short on the last line: the same, with nothing after it.
        let last = format!("{}\n\"acct\",\"41555", row(0, 6));
        let results = sequential(last.as_bytes());
        assert_eq!(
            (results.len(), results[0].is_ok(), results[1].is_err()),
            (2, true, true)
        );
    }

    #[test]
    fn dial_targets_name_the_number() {
        let cases = [
            ("PJSIP/+14155550100@trunk,30", Some("+14155550100")),
            ("SIP/trunk/14155550100,60,tT", Some("14155550100")),
            ("PJSIP/trunk/sip:+14155550100@carrier.example,30", Some("+14155550100")),
            ("DAHDI/g0/14155550100&SIP/backup/14155550100", Some("14155550100")),
            ("IAX2/user@host/14155550100", Some("14155550100")),
            ("tt-monkeys", None),
            ("", None),
        ];
        for (lastdata, want) in cases {
            assert_eq!(dial_target(lastdata), want, "lastdata {lastdata:?}");
        }
        assert_eq!(
            channel_target("Local/14155550100@from-internal-00000001;1"),
            Some("14155550100")
        );
        assert_eq!(channel_target("PJSIP/trunk-0000002a"), Some("trunk-0000002a"));
    }

    #[test]
    fn the_clid_number_sits_in_angle_brackets() {
        assert_eq!(clid_number("\"ACME Sales\" <4155550100>"), Some("4155550100"));
        assert_eq!(clid_number("\"<odd> name\" <4155550100>"), Some("4155550100"));
        assert_eq!(clid_number("4155550100"), None);
    }

    #[test]
    fn inbound_contexts_are_named_ones() {
        let cases = [
            ("from-trunk", Direction::Inbound),
            ("from-pstn-e164-us", Direction::Inbound),
            ("ext-did-0001", Direction::Inbound),
            ("Inbound-Sales", Direction::Inbound),
            ("from-internal", Direction::Outbound),
            ("outbound-allroutes", Direction::Outbound),
            ("", Direction::Outbound),
        ];
        for (context, want) in cases {
            assert_eq!(direction(context.as_bytes()), want, "dcontext {context:?}");
        }
    }
}
