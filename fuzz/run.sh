#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 600: the developer's run),
# each on a fresh corpus seeded from the test fixtures and fuzz/seeds/.
# A crash stops the run, prints the input's path under fuzz/artifacts/ and
# exits non-zero; `cargo fuzz run --sanitizer none TARGET THAT_PATH`
# reproduces it.
#
#   fuzz/run.sh            # 10 minutes a target
#   fuzz/run.sh 20         # CI: 20 seconds a target
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`). Builds on the
# stable toolchain without a sanitizer (`--sanitizer none`): libFuzzer's
# coverage guidance, Rust's own checks (overflow, bounds, panics) and
# debug assertions.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-600}"
command -v cargo-fuzz >/dev/null 2>&1 || {
    echo "fuzz/run.sh: cargo-fuzz is missing: cargo install cargo-fuzz --locked" >&2
    exit 2
}
fixtures=../crates/dialguard-formats/tests/fixtures
seeds_for() {
    case "$1" in
        import_asterisk) echo "$fixtures/asterisk" ;;
        import_freeswitch) echo "$fixtures/freeswitch" ;;
        import_twilio) echo "$fixtures/twilio" ;;
        import_generic) echo "$fixtures/generic" ;;
        import_ftc) echo "$fixtures/ftc" ;;
        import_labels) echo "$fixtures/labels" ;;
        *) echo "seeds/$1" ;;
    esac
}
cargo fuzz build --sanitizer none
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for target in $(cargo fuzz list); do
    mkdir -p "$work/$target"
    echo "== $target: ${seconds} s"
    cargo fuzz run --sanitizer none "$target" "$work/$target" "$(seeds_for "$target")" -- \
        -max_total_time="$seconds" -max_len=8192 -print_final_stats=1 2>&1 \
        | grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)|panicked|SUMMARY|crash-|Test unit written'
done
