//! Realistic call records made up on demand, for benchmarks and tests.
//!
//! Deterministic for a seed on every machine (a SplitMix64 generator, no
//! dependency), so a benchmark file can be rebuilt instead of stored.

use std::io::{self, Write};

use dialguard_core::E164;

/// SplitMix64 (Steele, Lea and Flood 2014): tiny, fast, well distributed.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// A value in `low..=high`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }

    fn percent(&mut self) -> u64 {
        self.next() % 100
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Busy area codes, for numbers that look like a US contact list.
const AREA_CODES: [u64; 20] = [
    212, 213, 206, 303, 305, 312, 404, 415, 469, 480, 503, 512, 602, 617, 619, 646, 702, 713, 818, 917,
];

/// A NANP number's ten digits; `valid: false` gives an exchange starting
/// with 1, which no NANP number has.
fn nanp_digits(random: u64, valid: bool) -> u64 {
    let npa = AREA_CODES[(random % AREA_CODES.len() as u64) as usize];
    let mut nxx = 200 + (random >> 8) % 700;
    if nxx % 100 == 11 {
        nxx += 1;
    }
    if !valid {
        nxx = 100 + nxx % 100;
    }
    let line = (random >> 24) % 10_000;
    npa * 10_000_000 + nxx * 10_000 + line
}

/// The business's caller ids: `count` distinct valid numbers.
fn caller_pool(count: usize, rng: &mut SplitMix64) -> Vec<u64> {
    let mut pool: Vec<u64> = Vec::with_capacity(count);
    while pool.len() < count {
        let digits = nanp_digits(rng.next(), true);
        let valid = E164::parse(&digits.to_string()).is_ok();
        if valid && !pool.contains(&digits) {
            pool.push(digits);
        }
    }
    pool
}

/// Writes `rows` lines of an Asterisk `Master.csv` (17 columns, with
/// `uniqueid`) as `cdr_csv` writes them: an outbound campaign from a pool of
/// `numbers` caller ids to a contact list a quarter as long as `rows` (each
/// contact is called about four times), starting 2026-03-02 08:00:00 (PBX
/// time) about one call a second.
///
/// The mix: 38% answered (a third of those hung up within 6 s), 42% no
/// answer (a few with billsec > 0, as Asterisk writes them), 8% busy, 7%
/// failed, 5% congestion; 3% of contacts are invalid numbers; 2% of rows
/// dial through the `s` extension (the number only in `lastdata`); some
/// caller names hold a comma.
pub fn asterisk_master_csv(rows: usize, numbers: usize, seed: u64, out: &mut impl Write) -> io::Result<()> {
    write_master_csv(rows, numbers, seed, None, out)
}

/// [`asterisk_master_csv`] spread over `days` days of a campaign's calling
/// hours, 08:00 to 20:00 PBX time, as a contact center's week looks: the
/// same mix, the gaps between calls as long as the rows need.
pub fn asterisk_campaign_csv(
    rows: usize,
    numbers: usize,
    seed: u64,
    days: u64,
    out: &mut impl Write,
) -> io::Result<()> {
    write_master_csv(rows, numbers, seed, Some(days.max(1)), out)
}

/// The calling day of [`asterisk_campaign_csv`], in seconds of the day.
const OPENS: u64 = 8 * 3600;
const CLOSES: u64 = 20 * 3600;

fn write_master_csv(rows: usize, numbers: usize, seed: u64, days: Option<u64>, out: &mut impl Write) -> io::Result<()> {
    let mut rng = SplitMix64(seed);
    // The largest gap between two calls: twice the mean.
    let max_gap_ms = match days {
        None => 2000,
        Some(days) => (2 * days * (CLOSES - OPENS) * 1000 / rows.max(1) as u64).max(2),
    };
    let pool = caller_pool(numbers.max(1), &mut rng);
    let contacts = (rows / 4).max(1) as u64;
    // 2026-03-02 08:00:00, read as UTC seconds for the wall clock.
    let mut clock_ms: u64 = 1_772_438_400 * 1000;
    let mut line = Vec::with_capacity(512);
    let mut chunk = Vec::with_capacity(1 << 16);
    for row in 0..rows as u64 {
        clock_ms += rng.between(0, max_gap_ms);
        if days.is_some() && (clock_ms / 1000) % 86_400 >= CLOSES {
            // After hours: the next morning, as late into it as the gap ran.
            let late = clock_ms - (clock_ms / 86_400_000 * 86_400_000 + CLOSES * 1000);
            clock_ms = (clock_ms / 86_400_000 + 1) * 86_400_000 + OPENS * 1000 + late;
        }
        let start = clock_ms / 1000;
        let caller = pool[(rng.next() % pool.len() as u64) as usize];
        let contact = rng.next() % contacts;
        let contact_hash = mix(seed ^ contact.wrapping_mul(0x2545_F491_4F6C_DD1D));
        let dialled = nanp_digits(contact_hash, contact_hash % 100 >= 3);

        let (disposition, ring, talk) = match rng.percent() {
            0..38 => {
                let talk = match rng.percent() {
                    0..33 => rng.between(1, 6),
                    33..85 => rng.between(7, 180),
                    _ => rng.between(181, 900),
                };
                ("ANSWERED", rng.between(3, 25), talk)
            }
            // Asterisk sometimes bills a few seconds on an unanswered call.
            38..40 => ("NO ANSWER", rng.between(15, 45), rng.between(1, 3)),
            40..80 => ("NO ANSWER", rng.between(15, 45), 0),
            80..88 => ("BUSY", rng.between(0, 3), 0),
            88..95 => ("FAILED", 0, 0),
            _ => ("CONGESTION", rng.between(0, 2), 0),
        };
        let sequence = row * 2;
        line.clear();
        let through_s = rng.percent() < 2;
        let dst = if through_s {
            "s".to_owned()
        } else if rng.percent() < 90 {
            format!("1{dialled}")
        } else {
            dialled.to_string()
        };
        let name = if row % 50 == 0 { "Sales, West" } else { "ACME Sales" };
        write!(
            line,
            "\"\",\"{caller}\",\"{dst}\",\"from-internal\",\"\"\"{name}\"\" <{caller}>\",\"PJSIP/1{ext:03}-{sequence:08x}\",",
            ext = caller % 1000,
        )?;
        if disposition == "FAILED" {
            line.extend_from_slice(b"\"\",");
        } else {
            write!(line, "\"PJSIP/trunk-{:08x}\",", sequence + 1)?;
        }
        write!(line, "\"Dial\",\"PJSIP/+1{dialled}@trunk,30,tT\",")?;
        let end = start + ring + talk;
        write_stamp(&mut line, start)?;
        if talk > 0 {
            write_stamp(&mut line, start + ring)?;
        } else {
            line.extend_from_slice(b"\"\",");
        }
        write_stamp(&mut line, end)?;
        writeln!(
            line,
            "{},{},\"{disposition}\",\"DOCUMENTATION\",\"{start}.{row}\"",
            ring + talk,
            talk
        )?;
        chunk.extend_from_slice(&line);
        if chunk.len() > (1 << 16) - 512 {
            out.write_all(&chunk)?;
            chunk.clear();
        }
    }
    out.write_all(&chunk)
}

/// `"YYYY-MM-DD HH:MM:SS",` for seconds since 1970 read as wall-clock time.
fn write_stamp(line: &mut Vec<u8>, seconds: u64) -> io::Result<()> {
    let (days, in_day) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    write!(
        line,
        "\"{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}\",",
        in_day / 3600,
        in_day / 60 % 60,
        in_day % 60
    )
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to a date.
fn civil_from_days(days: i64) -> (i64, u64, u64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097) as u64;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe as i64 + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_match_the_calendar() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(1_772_438_400 / 86_400), (2026, 3, 2));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn the_same_seed_writes_the_same_file() {
        let write = |seed| {
            let mut out = Vec::new();
            asterisk_master_csv(500, 5, seed, &mut out).unwrap();
            out
        };
        assert_eq!(write(7), write(7));
        assert_ne!(write(7), write(8));
        assert_eq!(write(7).iter().filter(|&&b| b == b'\n').count(), 500);
    }
}
