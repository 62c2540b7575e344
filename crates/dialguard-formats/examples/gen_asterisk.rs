//! Writes a generated Asterisk `Master.csv` to stdout (see
//! `dialguard_formats::generate::asterisk_master_csv`; with DAYS, the rows
//! spread over that many days' calling hours by `asterisk_campaign_csv`).
//!
//! Usage: gen_asterisk ROWS [NUMBERS] [SEED] [DAYS]

use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<u64>().expect("arguments are whole numbers"));
    let rows = args.next().expect("usage: gen_asterisk ROWS [NUMBERS] [SEED] [DAYS]");
    let numbers = args.next().unwrap_or(200);
    let seed = args.next().unwrap_or(42);
    let days = args.next();
    let mut out = BufWriter::new(std::io::stdout().lock());
    match days {
        None => dialguard_formats::generate::asterisk_master_csv(rows as usize, numbers as usize, seed, &mut out)?,
        Some(days) => {
            dialguard_formats::generate::asterisk_campaign_csv(rows as usize, numbers as usize, seed, days, &mut out)?
        }
    }
    out.flush()
}
