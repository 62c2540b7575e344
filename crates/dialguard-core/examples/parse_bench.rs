//! How fast call-record numbers become `E164`s: dialguard's parse (fast NANP
//! path + libphonenumber validation) next to the library's own string parse
//! on the same inputs, in one run.
//!
//! Run: cargo run --release -p dialguard-core --example parse_bench

// A benchmark reads the clock; the library it measures does not.
#![allow(clippy::disallowed_methods)]

use std::hint::black_box;
use std::time::Instant;

use dialguard_core::E164;
use rlibphonenumber::PHONE_NUMBER_UTIL;
use rlibphonenumber::enums::Region;

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn main() {
    let mut seed = 7;
    let inputs: Vec<String> = (0..200_000)
        .map(|i| {
            let npa = [212, 312, 415, 646, 713, 818, 917, 305][(splitmix(&mut seed) % 8) as usize];
            let nxx = 200 + splitmix(&mut seed) % 800;
            let line = splitmix(&mut seed) % 10_000;
            if i % 2 == 0 {
                format!("+1{npa}{nxx}{line:04}")
            } else {
                format!("{npa}{nxx}{line:04}")
            }
        })
        .collect();
    let library = |s: &str| {
        PHONE_NUMBER_UTIL
            .parse(s, Some(Region::US))
            .map(|p| PHONE_NUMBER_UTIL.is_valid_number(&p))
            .unwrap_or(false)
    };
    for (a, b) in inputs
        .iter()
        .map(|s| (E164::parse(s).is_ok(), library(s)))
        .take(50_000)
        .zip(0..)
    {
        assert!(a.0 == a.1, "dialguard and the library disagree on {}", inputs[b]);
    }
    let (mut ours, mut theirs) = (f64::MAX, f64::MAX);
    for _ in 0..5 {
        let t = Instant::now();
        for s in &inputs {
            black_box(E164::parse(black_box(s)).is_ok());
        }
        ours = ours.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        for s in &inputs {
            black_box(library(black_box(s)));
        }
        theirs = theirs.min(t.elapsed().as_secs_f64());
    }
    let n = inputs.len() as f64;
    println!("E164::parse                  {:>6.0} ns/number", ours / n * 1e9);
    println!("rlibphonenumber parse+valid  {:>6.0} ns/number", theirs / n * 1e9);
    println!("ratio library / dialguard = {:.2}", theirs / ours);
}
