//! Writes a generated Asterisk `Master.csv` to stdout (see
//! `dialguard_formats::generate::asterisk_master_csv`).
//!
//! Usage: gen_asterisk ROWS [NUMBERS] [SEED]

use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<u64>().expect("arguments are whole numbers"));
    let rows = args.next().expect("usage: gen_asterisk ROWS [NUMBERS] [SEED]");
    let numbers = args.next().unwrap_or(200);
    let seed = args.next().unwrap_or(42);
    let mut out = BufWriter::new(std::io::stdout().lock());
    dialguard_formats::generate::asterisk_master_csv(rows as usize, numbers as usize, seed, &mut out)?;
    out.flush()
}
