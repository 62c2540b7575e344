"""Decide latency on a shared log: asked of the leader, and asked of a
follower that redirects (307) to the leader, side by side in one run.

Starts two `dialguard serve` processes (release build) on a fresh schema of
the PostgreSQL at DIALGUARD_TEST_PG (default postgres://postgres@127.0.0.1:5432/test),
registers 50 numbers, then alternates: a decision sent to the leader, and one
sent to the follower and followed to the leader, each over its own kept-alive
connection. Prints median and p99 of both and their ratio.

Usage: python3 bench/cluster_decide.py [DECISIONS]   (default 4000 of each)
"""

import http.client
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse

BASE = os.environ.get("DIALGUARD_TEST_PG", "postgres://postgres@127.0.0.1:5432/test")
BIN = os.path.join(os.path.dirname(__file__), "..", "target", "release", "dialguard")


def psql(sql):
    subprocess.run(["psql", BASE, "-qAtc", sql], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start(url):
    proc = subprocess.Popen(
        [BIN, "--database-url", url, "serve", "--listen", "127.0.0.1:0", "--clock", "event"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines = [proc.stdout.readline().strip() for _ in range(3)]
    addr = lines[0].removeprefix("dialguard listening on http://")
    return proc, addr, lines[2]


def post(conn, path, body):
    payload = json.dumps(body)
    conn.request("POST", path, payload, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = resp.read()
    return resp.status, resp.getheader("Location"), data


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    schema = f"dialguard_bench_cluster_{os.getpid()}"
    psql(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
    joiner = "&" if "?" in BASE else "?"
    url = f"{BASE}{joiner}options=-csearch_path%3D{schema}"
    leader, leader_addr, line = start(url)
    assert "leads default" in line, line
    follower, follower_addr, line = start(url)
    assert "follows default" in line, line
    try:
        to_leader = http.client.HTTPConnection(leader_addr)
        to_follower = http.client.HTTPConnection(follower_addr)
        redirected = {}
        for i in range(50):
            to_leader.request("PUT", f"/v1/numbers/+1415555{1000 + i}",
                              json.dumps({"pool": "sales", "acquired_at": "2026-01-05T00:00:00Z"}),
                              {"Content-Type": "application/json"})
            resp = to_leader.getresponse()
            resp.read()
            assert resp.status == 200
        local, forwarded = [], []
        for i in range(n):
            # A Monday morning in New York, a new destination each time.
            at = f"2026-03-02T15:{(i // 60) % 60:02d}:{i % 60:02d}Z"
            q = {"pool": "sales", "to": f"+1212{555 + i // 10000:03d}{i % 10000:04d}", "at": at}
            t = time.perf_counter()
            status, _, _ = post(to_leader, "/v1/decide", q)
            local.append(time.perf_counter() - t)
            assert status == 200, status
            q["to"] = f"+1646{555 + i // 10000:03d}{i % 10000:04d}"
            t = time.perf_counter()
            status, location, _ = post(to_follower, "/v1/decide", q)
            assert status == 307, status
            target = urllib.parse.urlsplit(location).netloc
            conn = redirected.get(target) or redirected.setdefault(target, http.client.HTTPConnection(target))
            status, _, _ = post(conn, "/v1/decide", q)
            forwarded.append(time.perf_counter() - t)
            assert status == 200, status

        def show(name, xs):
            xs = sorted(xs)
            med, p99 = statistics.median(xs), xs[int(len(xs) * 0.99)]
            print(f"{name:<32} median {med * 1e6:7.0f} µs   p99 {p99 * 1e6:7.0f} µs")
            return med, p99

        print(f"== {os.cpu_count()} cores, {n} decisions each, client: Python http.client, keep-alive")
        lm, lp = show("leader (local pool)", local)
        fm, fp = show("follower → 307 → leader", forwarded)
        print(f"redirected / local: median {fm / lm:.2f}×, p99 {fp / lp:.2f}×")
    finally:
        for p in (leader, follower):
            p.kill()
            p.wait()
        psql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


if __name__ == "__main__":
    main()
