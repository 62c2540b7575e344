#!/usr/bin/env python3
"""Soak: a steady load of decisions and call records on one `dialguard serve`,
with the server's resident memory and the requests' p99 sampled each minute,
and the slope of each over the run reported.

Loopback only, bounded in time. The server runs on a fresh SQLite log with
the event clock and bench/http/roomy.toml (caps above the load, so nearly
every decision is an allow and is followed by its call record). Simulated
time moves SIM_MINUTES per real second through New York calling hours
(09:00-20:00), skipping nights, so a 30-minute soak lays down about two
weeks of a pool's history.

Usage: bench/soak.py [MINUTES] [DECIDES_PER_SECOND] [--json]
       (default 30 minutes at 200 decisions a second; build first with
       `cargo build --release -p dialguard`)

Each minute prints one line (calls so far, resident MB, decide and ingest
p50/p99 ms); at the end the slopes per minute over the run, by least
squares, and with --json the whole report as one JSON object.
"""
import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "dialguard")
SIM_MINUTES = 5
# 2026-03-02 (a Monday) 14:00Z, 09:00 in New York.
DAY0 = 1772460000
OPEN_SECS, CLOSE_SECS = 0, 11 * 3600

EXCHANGES = [e for e in range(220, 1000) if e % 100 >= 20]


def number(i):
    npa = [415, 510, 650, 408][i % 4]
    return f"+1{npa}{EXCHANGES[(i // 4) % len(EXCHANGES)]}{i:04d}"


def stamp(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def simulated(real_elapsed):
    """The simulated instant `real_elapsed` seconds into the soak."""
    open_secs = int(real_elapsed * SIM_MINUTES * 60)
    per_day = CLOSE_SECS - OPEN_SECS
    day, into = divmod(open_secs, per_day)
    return DAY0 + day * 86400 + OPEN_SECS + into


def quantile(values, q):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def slope(xs, ys):
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    var = sum((x - mx) ** 2 for x in xs)
    return 0.0 if var == 0 else sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Client:
    def __init__(self, addr):
        self.conn = http.client.HTTPConnection(addr, timeout=30)

    def send(self, method, path, body=None):
        started = time.perf_counter()
        self.conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
        response = self.conn.getresponse()
        data = response.read()
        took = (time.perf_counter() - started) * 1000
        if response.status != 200:
            sys.exit(f"{method} {path}: {response.status} {data[:300]!r}; the server's log is in the work directory")
        return json.loads(data), took


def main():
    args = [a for a in sys.argv[1:] if a != "--json"]
    as_json = "--json" in sys.argv[1:]
    minutes = float(args[0]) if args else 30.0
    rate = float(args[1]) if len(args) > 1 else 200.0
    if not os.access(BINARY, os.X_OK):
        sys.exit(f"{BINARY} is missing: run `cargo build --release -p dialguard` first")
    work = tempfile.mkdtemp(prefix="dialguard-soak-")
    out = open(os.path.join(work, "server.out"), "w+")
    err = open(os.path.join(work, "server.err"), "w")
    server = subprocess.Popen(
        [BINARY, "--db", os.path.join(work, "soak.db"), "serve", "--listen", "127.0.0.1:0",
         "--clock", "event", "--config", os.path.join(ROOT, "bench", "http", "roomy.toml")],
        stdout=out, stderr=err)
    try:
        addr = None
        for _ in range(200):
            out.seek(0)
            for line in out.read().splitlines():
                if line.startswith("dialguard listening on http://"):
                    addr = line.split("http://", 1)[1].strip()
            if addr or server.poll() is not None:
                break
            time.sleep(0.1)
        if not addr:
            sys.exit(f"the server did not start; see {work}/server.err")
        client = Client(addr)
        for i in range(1000):
            client.send("PUT", f"/v1/numbers/{number(i)}",
                        json.dumps({"pool": "bench", "acquired_at": "2025-06-02T00:00:00Z"}))

        rng = random.Random(1)
        samples = []
        decide_ms, ingest_ms, pending = [], [], []
        calls = decisions = allowed = 0
        started = time.perf_counter()
        next_minute = started + 60
        end = started + minutes * 60
        sent = 0
        tty = sys.stderr.isatty()
        while True:
            now = time.perf_counter()
            if now >= end:
                break
            # Keep to the rate: sleep when ahead of it.
            due = int((now - started) * rate)
            if sent >= due:
                time.sleep(min(0.002, end - now))
                continue
            at = simulated(now - started)
            to = f"+1212{rng.choice(EXCHANGES)}{rng.randrange(10000):04d}"
            answer, took = client.send("POST", "/v1/decide",
                                       json.dumps({"pool": "bench", "to": to, "at": stamp(at)}))
            decide_ms.append(took)
            sent += 1
            decisions += 1
            if answer.get("decision") == "allow":
                allowed += 1
                talk = rng.choice([0, 0, 0, 4, 45, 180])
                call = {"id": f"soak-{decisions}", "from": answer["caller_id"], "to": to,
                        "started_at": stamp(at), "ended_at": stamp(at + 25 + talk),
                        "outcome": "answered" if talk else "no_answer"}
                if talk:
                    call["answered_at"] = stamp(at + 25)
                pending.append(call)
            if len(pending) >= max(1, int(rate)):
                result, took = client.send("POST", "/v1/calls", json.dumps({"calls": pending}))
                ingest_ms.append(took)
                calls += result["accepted"]
                pending = []
            if now >= next_minute:
                next_minute += 60
                sample = {
                    "minute": len(samples) + 1,
                    "calls": calls,
                    "decisions": decisions,
                    "allowed": allowed,
                    "rss_mb": round(rss_mb(server.pid), 1),
                    "decide_p50_ms": round(quantile(decide_ms, 0.5), 3),
                    "decide_p99_ms": round(quantile(decide_ms, 0.99), 3),
                    "ingest_p50_ms": round(quantile(ingest_ms, 0.5), 3),
                    "ingest_p99_ms": round(quantile(ingest_ms, 0.99), 3),
                    "simulated": stamp(at),
                }
                samples.append(sample)
                decide_ms, ingest_ms = [], []
                line = (f"minute {sample['minute']:>3}/{minutes:.0f}  calls {calls:>9,}  rss {sample['rss_mb']:>7.1f} MB  "
                        f"decide p99 {sample['decide_p99_ms']:.2f} ms  ingest p99 {sample['ingest_p99_ms']:.1f} ms  "
                        f"at {sample['simulated']}")
                print(line, file=sys.stderr, flush=True)
            elif tty and sent % 200 == 0:
                done = (now - started) / (end - started)
                bar = "#" * int(done * 30)
                print(f"\r[{bar:<30}] {done:5.1%}", end="", file=sys.stderr, flush=True)
        if tty:
            print(file=sys.stderr)
        xs = [s["minute"] for s in samples]
        report = {
            "minutes": minutes,
            "decides_per_second": rate,
            "decisions": decisions,
            "allowed": allowed,
            "calls_ingested": calls,
            "rss_mb_first": samples[0]["rss_mb"] if samples else None,
            "rss_mb_last": samples[-1]["rss_mb"] if samples else None,
            "slope_rss_mb_per_minute": round(slope(xs, [s["rss_mb"] for s in samples]), 3),
            "slope_decide_p99_ms_per_minute": round(slope(xs, [s["decide_p99_ms"] for s in samples]), 4),
            "slope_ingest_p99_ms_per_minute": round(slope(xs, [s["ingest_p99_ms"] for s in samples]), 4),
            "samples": samples,
        }
        if as_json:
            print(json.dumps(report, indent=1))
        else:
            print(f"{decisions:,} decisions ({allowed:,} allowed), {calls:,} calls ingested over {minutes:g} minutes")
            print(f"resident memory {report['rss_mb_first']} MB after the first minute, {report['rss_mb_last']} MB "
                  f"after the last: slope {report['slope_rss_mb_per_minute']} MB/minute")
            print(f"decide p99 slope {report['slope_decide_p99_ms_per_minute']} ms/minute, "
                  f"ingest p99 slope {report['slope_ingest_p99_ms_per_minute']} ms/minute")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
