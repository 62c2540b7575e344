"""The closed-loop grid: dialguard against the best fixed cap in hindsight.

Each cell is one campaign (45 days, 20 numbers, the default list) run with
`dialguard simulate --frontier`: the fixed-cap family (5-200 calls a day per
number) beside the dialguard strategy, in process. The cell's figure is
dialguard's conversations over those of the best fixed cap with no more
label-days; a cell where no cap was as clean as dialguard has no ratio and
is counted apart. Cells: the shipped emulator at severities 0.5, 0.75, 1,
1.5 and 2, and engines drawn at random (`--engines random --engine-seed N`,
N = 1..DRAWS), each with seeds 1..SEEDS.

Prints every cell, then the worst and the median cell, the numbers the
campaign labeled (those clean when it began and labeled during it; the most
in any cell, as a share of the pool) and legal violations, for
each variant: the closed loop (the default), `--open-loop` (the profiles'
allowances), and `http`: the closed loop asked through the HTTP API. For
each cell of `http` a fresh `dialguard serve --clock event` starts on a new
database, and `simulate --frontier --server URL` drives the guard's side of
the campaign through it (every decision, call record, complaint, opt-out
and label check posted at its own instant); the fixed caps run in process.

Usage: python3 bench/closed_loop.py [DRAWS] [SEEDS] [VARIANT...]
       (defaults 10, 3, and the variants closed_loop open_loop)
       ONLY="severity 0.5/3,random 2/1" runs just those cells (name/seed).
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile

BIN = os.environ.get("DIALGUARD_BIN") or os.path.join(os.path.dirname(__file__), "..", "target", "release", "dialguard")
SEVERITIES = [0.5, 0.75, 1.0, 1.5, 2.0]
VARIANTS = {"closed_loop": [], "open_loop": ["--open-loop"], "http": []}


def serve(directory):
    """A fresh server on the event clock; returns the process and its URL."""
    db = os.path.join(directory, "served.db")
    for stale in (db, db + "-wal", db + "-shm"):
        if os.path.exists(stale):
            os.remove(stale)
    server = subprocess.Popen(
        [BIN, "--db", db, "serve", "--listen", "127.0.0.1:0", "--clock", "event"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    first = server.stdout.readline().strip()
    if "listening on " not in first:
        server.kill()
        sys.exit(f"dialguard serve did not start on {db} (it printed {first!r}): run it by hand to see why")
    return server, first.split("listening on ", 1)[1]


def cell(db, engine_args, seed, variant):
    args = [BIN, "simulate", "--db", db, "--frontier", "--format", "json", "--seed", str(seed)]
    server = None
    if variant == "http":
        server, url = serve(os.path.dirname(db))
        args += ["--server", url]
    try:
        out = subprocess.run(args + engine_args + VARIANTS[variant], check=True, capture_output=True, text=True)
    finally:
        if server:
            server.terminate()
            server.wait()
    return json.loads(out.stdout)


def main():
    draws = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    seeds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    variants = sys.argv[3:] or ["closed_loop", "open_loop"]
    only = {c.strip() for c in os.environ.get("ONLY", "").split(",") if c.strip()}
    engines = [(f"severity {s}", ["--severity", str(s)]) for s in SEVERITIES]
    engines += [(f"random {n}", ["--engines", "random", "--engine-seed", str(n)]) for n in range(1, draws + 1)]
    db = os.path.join(tempfile.mkdtemp(), "grid.db")
    summary = {}
    for variant in variants:
        ratios, none, labeled, violations = [], [], 0, 0
        print(f"== {variant}")
        for name, engine_args in engines:
            for seed in range(1, seeds + 1):
                if only and f"{name}/{seed}" not in only:
                    continue
                f = cell(db, engine_args, seed, variant)
                g = f["guard"]
                best = f["best"]
                pool = f["scenario"]["population"]["numbers"]
                # Numbers the campaign labeled: those its history had
                # labeled before it began are no strategy's doing.
                labeled = max(labeled, (g["numbers_ever_labeled"] - g["numbers_labeled_at_start"]) / pool)
                violations += g["violating_calls"]
                where = f"{name}, seed {seed}"
                if f["ratio"] is None:
                    none.append(where)
                    verdict = "no cap as clean"
                else:
                    ratios.append((f["ratio"], where))
                    verdict = f"cap {best['cap']}: {best['conversations']} / {best['label_days']:.1f} -> {f['ratio']:.2f}"
                print(
                    f"{where:22} dialguard {g['conversations']:5} / {g['label_days']:7.1f} label-days,"
                    f" {g['numbers_ever_labeled']:2} labeled ({g['numbers_labeled_at_start']} before); {verdict}",
                    flush=True,
                )
        ratios.sort()
        summary[variant] = {
            "cells": len(ratios) + len(none),
            "worst": ratios[0] if ratios else None,
            "median": statistics.median(r for r, _ in ratios) if ratios else None,
            "no_cap_as_clean": len(none),
            "most_numbers_labeled_in_campaign": labeled,
            "legal_violations": violations,
        }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
