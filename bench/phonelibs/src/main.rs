//! Side-by-side comparison of `rlibphonenumber` and `phonenumber` on NANP
//! numbers as call records write them: agreement on validity (and which
//! library accepts area codes NANPA assigned recently) and parse+validate
//! speed, in one run on the same inputs.
//!
//! Run: cargo run --release --manifest-path bench/phonelibs/Cargo.toml

use std::hint::black_box;
use std::time::Instant;

use rlibphonenumber::PHONE_NUMBER_UTIL;
use rlibphonenumber::enums::Region;

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn r_valid(s: &str) -> bool {
    PHONE_NUMBER_UTIL.parse(s, Some(Region::US)).map(|p| PHONE_NUMBER_UTIL.is_valid_number(&p)).unwrap_or(false)
}

fn p_valid(s: &str) -> bool {
    phonenumber::parse(Some(phonenumber::country::Id::US), s).map(|p| phonenumber::is_valid(&p)).unwrap_or(false)
}

fn main() {
    let mut seed = 7;
    let inputs: Vec<String> = (0..200_000)
        .map(|i| {
            let npa = 200 + splitmix(&mut seed) % 800;
            let nxx = 200 + splitmix(&mut seed) % 800;
            let line = splitmix(&mut seed) % 10_000;
            match i % 3 {
                0 => format!("+1{npa}{nxx}{line:04}"),
                1 => format!("1{npa}{nxx}{line:04}"),
                _ => format!("({npa}) {nxx}-{line:04}"),
            }
        })
        .collect();

    // Agreement.
    let (mut both, mut only_r, mut only_p, mut neither) = (0, 0, 0, 0);
    let mut only_r_npas = std::collections::BTreeSet::new();
    let mut only_p_npas = std::collections::BTreeSet::new();
    for s in &inputs {
        match (r_valid(s), p_valid(s)) {
            (true, true) => both += 1,
            (true, false) => {
                only_r += 1;
                only_r_npas.insert(s.chars().filter(char::is_ascii_digit).skip(1).take(3).collect::<String>());
            }
            (false, true) => {
                only_p += 1;
                only_p_npas.insert(s.chars().filter(char::is_ascii_digit).skip(1).take(3).collect::<String>());
            }
            (false, false) => neither += 1,
        }
    }
    println!("validity on {} random NANP inputs:", inputs.len());
    println!("  both valid {both}, neither {neither}, only rlibphonenumber {only_r}, only phonenumber {only_p}");
    println!("  area codes only rlibphonenumber accepts: {only_r_npas:?}");
    println!("  area codes only phonenumber accepts: {only_p_npas:?}");

    // Speed, interleaved rounds so both see the same machine state.
    let mut r_best = f64::MAX;
    let mut p_best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        for s in &inputs {
            black_box(r_valid(black_box(s)));
        }
        r_best = r_best.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        for s in &inputs {
            black_box(p_valid(black_box(s)));
        }
        p_best = p_best.min(t.elapsed().as_secs_f64());
    }
    let n = inputs.len() as f64;
    println!("parse+validate, best of 5 rounds:");
    println!("  rlibphonenumber {:.0} ns/number", r_best / n * 1e9);
    println!("  phonenumber     {:.0} ns/number", p_best / n * 1e9);
    println!("  ratio phonenumber / rlibphonenumber = {:.2}", p_best / r_best);
}
