//! The Do-Not-Call list at registry scale: memory and lookup time of
//! `DncList` for 250 million generated NANP numbers, next to a
//! `HashSet<u64>` in the same run.
//!
//! The numbers spread over every NPA-NXX (800 × 800 exchanges) with a varying
//! count per exchange (0 to 780 lines, mean 390), so both the sorted-array
//! and the bitmap forms are exercised. The hash set holds `--baseline`
//! numbers (default 50 million: 250 million take ~5 GB and a minute to
//! insert); its memory is measured at that size and extrapolated to 250
//! million from hashbrown's layout (power-of-two buckets at 7/8 load, 8 bytes
//! and 1 control byte each), and the `DncList` is also measured at the
//! baseline size for a like-for-like lookup comparison.
//!
//! Lookups: 10 million queries, half listed numbers and half random NANP
//! numbers, in random order; the figure is total time / queries, best of 5
//! passes (the machine may be shared; interference only adds time).
//!
//! Run: cargo run --release -p dialguard-core --example dnc_bench -- \
//!        [--numbers 250000000] [--baseline 50000000] [--queries 10000000] [--small-pages]
#![allow(clippy::disallowed_methods)] // a benchmark reads the clock: that is what it measures

use std::collections::HashSet;
use std::hint::black_box;
use std::time::Instant;

use dialguard_core::E164;
use dialguard_core::guard::DncList;

/// As the binaries run: large tables on 2 MB pages, unless `--small-pages`.
#[global_allocator]
static ALLOCATOR: dialguard_core::huge_pages::HugePages<mimalloc::MiMalloc> =
    dialguard_core::huge_pages::HugePages::new(mimalloc::MiMalloc);

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.replace('_', "").parse().expect("a whole number"))
        .unwrap_or(default)
}

/// Resident memory of this process, in bytes (Linux).
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn gb(bytes: u64) -> f64 {
    bytes as f64 / 1e9
}

/// Sorted numbers, about `target` of them over all 640,000 exchanges.
fn generate(target: usize, seed: u64) -> impl Iterator<Item = E164> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mean = target as f64 / 640_000.0;
    let exchanges = (200u64..1000).flat_map(|npa| (200u64..1000).map(move |nxx| npa * 1000 + nxx));
    exchanges.flat_map(move |exchange| {
        let k = ((rng.f64() * 2.0 * mean).round() as usize).min(10_000);
        let mut lines: Vec<u64> = Vec::with_capacity(k);
        while lines.len() < k {
            lines.extend((lines.len()..k).map(|_| rng.u64(..10_000)));
            lines.sort_unstable();
            lines.dedup();
        }
        lines
            .into_iter()
            .map(move |line| E164::from_digits_unchecked(10_000_000_000 + exchange * 10_000 + line))
    })
}

/// Builds a list from [`generate`], keeping every `every`-th number as a
/// query known to be listed.
fn build(target: usize, seed: u64, every: usize) -> (DncList, Vec<E164>) {
    let mut listed = Vec::new();
    let mut seen = 0usize;
    let numbers = generate(target, seed).inspect(|n| {
        seen += 1;
        if seen.is_multiple_of(every) {
            listed.push(*n);
        }
    });
    let list = DncList::from_sorted(numbers).expect("generated in order");
    (list, listed)
}

/// Half listed, half random NANP numbers, shuffled.
fn queries(listed: &[E164], count: usize, rng: &mut fastrand::Rng) -> Vec<E164> {
    let mut q: Vec<E164> = (0..count)
        .map(|i| {
            if i % 2 == 0 {
                listed[rng.usize(..listed.len())]
            } else {
                let exchange = rng.u64(200..1000) * 1000 + rng.u64(200..1000);
                E164::from_digits_unchecked(10_000_000_000 + exchange * 10_000 + rng.u64(..10_000))
            }
        })
        .collect();
    rng.shuffle(&mut q);
    q
}

/// Nanoseconds per query: the best of [`ROUNDS`] passes, since other work on
/// the machine can only slow a pass down.
fn time_lookups(queries: &[E164], contains: impl Fn(E164) -> bool) -> (f64, usize) {
    let mut best = f64::MAX;
    let mut hits = 0;
    for _ in 0..ROUNDS {
        let t = Instant::now();
        hits = queries.iter().filter(|q| contains(black_box(**q))).count();
        best = best.min(t.elapsed().as_nanos() as f64 / queries.len() as f64);
    }
    (best, hits)
}

const ROUNDS: usize = 5;

fn main() {
    let small_pages = std::env::args().any(|a| a == "--small-pages");
    dialguard_core::huge_pages::set_enabled(!small_pages);
    let target = arg("--numbers", 250_000_000);
    let baseline = arg("--baseline", 50_000_000);
    let query_count = arg("--queries", 10_000_000);
    let mut rng = fastrand::Rng::with_seed(99);

    // The full list.
    let before = rss();
    let t = Instant::now();
    let (list, listed) = build(target, 1, (target / 10_000_000).max(1));
    let built = t.elapsed().as_secs_f64();
    let list_rss = rss().saturating_sub(before);
    println!(
        "DncList, {} numbers: heap {:.3} GB (RSS +{:.3} GB), {:.2} bytes/number, built in {:.1} s",
        list.len(),
        gb(list.heap_bytes() as u64),
        gb(list_rss),
        list.heap_bytes() as f64 / list.len() as f64,
        built
    );
    let q = queries(&listed, query_count, &mut rng);
    let (ns, hits) = time_lookups(&q, |n| list.contains(n));
    println!("  lookup: {ns:.1} ns/query over {} queries ({hits} hits)", q.len());
    drop(q);
    drop(listed);
    drop(list);

    // Like for like at the baseline size.
    let (small, listed) = build(baseline, 2, (baseline / 10_000_000).max(1));
    let q = queries(&listed, query_count, &mut rng);
    let (list_ns, _) = time_lookups(&q, |n| small.contains(n));
    println!(
        "DncList, {} numbers: heap {:.3} GB, lookup {list_ns:.1} ns/query",
        small.len(),
        gb(small.heap_bytes() as u64)
    );
    drop(small);

    let before = rss();
    let t = Instant::now();
    let mut set: HashSet<u64> = HashSet::new();
    for number in generate(baseline, 2) {
        set.insert(number.digits());
    }
    let built = t.elapsed().as_secs_f64();
    let set_rss = rss().saturating_sub(before);
    let buckets = (set.capacity() * 8 / 7).next_power_of_two() as u64;
    let set_bytes = buckets * 9;
    let (set_ns, _) = time_lookups(&q, |n| set.contains(&n.digits()));
    let full_buckets = ((target as u64) * 8 / 7).next_power_of_two();
    println!(
        "HashSet<u64>, {} numbers: table {:.3} GB (RSS +{:.3} GB), built in {built:.1} s, lookup {set_ns:.1} ns/query",
        set.len(),
        gb(set_bytes),
        gb(set_rss)
    );
    println!(
        "  extrapolated to {} numbers: {} buckets x 9 bytes = {:.2} GB",
        target,
        full_buckets,
        gb(full_buckets * 9)
    );
}
