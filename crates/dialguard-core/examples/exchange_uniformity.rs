//! Checks, against the bundled libphonenumber metadata, that a NANP number's
//! validity depends only on its area code and exchange (NPA-NXX): every
//! exchange, 40 line numbers each. Run:
//! cargo run --release -p dialguard-core --example exchange_uniformity
use rlibphonenumber::{PHONE_NUMBER_UTIL, PhoneNumber};

fn valid(n: u64) -> bool {
    let p = PhoneNumber {
        country_code: 1,
        national_number: n,
        ..Default::default()
    };
    PHONE_NUMBER_UTIL.is_valid_number(&p)
}

fn main() {
    let mut mixed = 0;
    let mut valid_exchanges = 0;
    for npa in 200u64..1000 {
        for nxx in 200u64..1000 {
            let base = npa * 10_000_000 + nxx * 10_000;
            let first = valid(base);
            let lines = (0..10_000u64).step_by(251).chain([9_999, 1, 10, 100, 1000, 5000]);
            if lines.into_iter().any(|l| valid(base + l) != first) {
                mixed += 1;
                if mixed < 20 {
                    println!("mixed exchange {npa}-{nxx}");
                }
            }
            valid_exchanges += usize::from(first);
        }
    }
    println!("{valid_exchanges} valid exchanges, {mixed} with mixed validity");
}
