#!/usr/bin/env bash
# Rebuilds the example documentation package beside this script from a made-up
# but realistic history, with the real commands:
#
#   Jan-Mar 2025  ~45 reminder calls a weekday from +13125550147
#   2025-04-01    T-Mobile shows "Spam Likely": quarantine, rest, disputes
#   2025-04-17    the label is gone; disputes settled
#   May           rehab_limited: 8-10 calls a weekday to known patients
#   June          rehab_moderate: 15-20 calls a weekday
#   2025-06-30    review passed: back to active; July at the usual volume
#
# Usage: examples/package/generate.sh   (from anywhere; needs cargo and python3)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cargo build --quiet --manifest-path "$root/Cargo.toml" -p dialguard
dg() { "$root/target/debug/dialguard" --db "$work/log.db" "$@"; }
N=+13125550147

# Twilio call logs, one file per stretch, deterministic.
calls() { # FILE FIRST_DAY LAST_DAY WEEKDAY_MIN WEEKDAY_MAX SATURDAY SEED
  python3 - "$@" <<'PY'
import csv, datetime as dt, random, sys
path, first, last, lo, hi, sat, seed = sys.argv[1:]
rng = random.Random(int(seed))
day = dt.date.fromisoformat(first)
end = dt.date.fromisoformat(last)
with open(path, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["sid", "from", "to", "direction", "status", "start_time", "end_time", "duration", "answered_by"])
    n = 0
    while day <= end:
        wd = day.weekday()
        count = rng.randint(int(lo), int(hi)) if wd < 5 else (int(sat) if wd == 5 else 0)
        # 9:00 to 16:00 in Chicago (14:00-21:00 UTC in summer, 15:00-22:00 in winter).
        offset = 5 if dt.date(2025, 3, 9) <= day else 6
        t = dt.datetime.combine(day, dt.time(9 + offset, 0))
        for _ in range(count):
            t += dt.timedelta(seconds=rng.randint(240, 420))
            n += 1
            to = "+1%s555%04d" % (rng.choice(["312", "773", "872", "847", "630"]), rng.randint(200, 9999))
            r = rng.random()
            if r < 0.52:
                status, talk, by = "completed", rng.choice([rng.randint(40, 110), rng.randint(120, 420), rng.randint(130, 300)]), "human"
                if rng.random() < 0.05:
                    talk = rng.randint(2, 6)
            elif r < 0.70:
                status, talk, by = "completed", rng.randint(20, 45), "machine_end_beep"
            elif r < 0.93:
                status, talk, by = "no-answer", 0, ""
            else:
                status, talk, by = "busy", 0, ""
            end_t = t + dt.timedelta(seconds=talk + 8)
            fmt = "%Y-%m-%dT%H:%M:%SZ"
            w.writerow([f"CA{seed}{n:06d}", "+13125550147", to, "outbound-api", status,
                        t.strftime(fmt), end_t.strftime(fmt), talk, by])
        day += dt.timedelta(days=1)
PY
}

dg numbers add "$N" +13125550148 --pool reminders --at 2025-01-06T12:00:00Z
calls "$work/q1.csv" 2025-01-06 2025-03-31 38 52 0 1
dg import --format twilio "$work/q1.csv"

# The label, seen on a test call; the other carriers show the number clean.
dg labels add "$N" --carrier tmobile --label "Spam Likely" --source test_call --at 2025-04-01T14:10:00Z
dg labels add "$N" --carrier att --clean --source test_call --at 2025-04-01T14:12:00Z
dg labels add "$N" --carrier verizon --clean --source test_call --at 2025-04-01T14:14:00Z
# Each update moves time first, so the quarantine the label called for is
# recorded at the first one.
dg disputes update "$N" first_orion submitted --at 2025-04-01T16:00:00Z \
  --note "First Orion dispute form, case FO-250401-0118"
dg disputes update "$N" hiya submitted --at 2025-04-02T15:30:00Z --note "Hiya Connect registration and dispute, ticket H-88412"
dg disputes update "$N" tns submitted --at 2025-04-02T15:45:00Z --note "TNS Call Guardian reputation review request"
dg disputes update "$N" fcr submitted --at 2025-04-04T14:00:00Z --note "Free Caller Registry: both numbers registered"
dg disputes update "$N" first_orion answered --at 2025-04-09T18:20:00Z --note "asked for proof of consent and business documents"
dg disputes update "$N" first_orion submitted --at 2025-04-10T13:00:00Z --note "sent the documentation package"
dg disputes update "$N" hiya resolved --at 2025-04-14T16:00:00Z --note "no negative reputation on record"
dg disputes update "$N" tns resolved --at 2025-04-15T15:00:00Z --note "number registered; no label applied"
dg labels add "$N" --carrier tmobile --clean --source test_call --at 2025-04-17T14:00:00Z
dg disputes update "$N" first_orion resolved --at 2025-04-17T15:00:00Z --note "label removed, confirmed by test call"
dg disputes update "$N" fcr resolved --at 2025-04-17T15:05:00Z --note "registration confirmed"
for carrier in att verizon tmobile fcc; do
  dg disputes update "$N" "$carrier" resolved --at 2025-04-17T15:10:00Z --note "not filed: the label is gone"
done

# Rehabilitation: known patients only in May, more in June, then as usual.
calls "$work/may.csv" 2025-05-02 2025-05-31 8 10 4 2
calls "$work/june.csv" 2025-06-01 2025-06-30 15 20 8 3
calls "$work/july.csv" 2025-07-01 2025-07-18 38 50 0 4
for f in may june july; do dg import --format twilio "$work/$f.csv"; done

dg package "$N" --business "$here/business.toml" --out "$here" --at 2025-07-20T12:00:00Z
dg export fcr --business "$here/business.toml" --out "$here/fcr.csv" --at 2025-07-20T12:00:00Z
dg history "$N" --at 2025-07-20T12:00:00Z
