"""Registers the benchmark pool, then measures durable batch ingest.

Usage: setup.py HOST:PORT register NUMBERS
       setup.py HOST:PORT ingest BATCHES ROWS_PER_BATCH
Each POST /v1/calls answers only once its batch is committed to the log, so
rows/s here is durable rows/s.
"""
import http.client
import json
import sys
import time

addr, what = sys.argv[1], sys.argv[2]
conn = http.client.HTTPConnection(addr)


def send(method, path, body):
    conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        sys.exit(f"{method} {path}: {response.status} {data[:300]!r}")
    return json.loads(data)


# NANP exchanges a carrier assigns: 2-9 first digit, no N11 service codes.
EXCHANGES = [e for e in range(220, 1000) if e % 100 >= 20]


def number(i):
    # Our numbers: four California area codes.
    npa = [415, 510, 650, 408][i % 4]
    return f"+1{npa}{EXCHANGES[(i // 4) % len(EXCHANGES)]}{i:04d}"


def destination(r):
    return f"+1212{EXCHANGES[r % len(EXCHANGES)]}{r % 10000:04d}"


if what == "register":
    for i in range(int(sys.argv[3])):
        send("PUT", f"/v1/numbers/{number(i)}", json.dumps({"pool": "bench", "acquired_at": "2025-06-02T00:00:00Z"}))
    print(f"registered {sys.argv[3]} numbers")
elif what == "ingest":
    batches, rows = int(sys.argv[3]), int(sys.argv[4])
    bodies = []
    for b in range(batches):
        calls = []
        for r in range(rows):
            start = 1772463600 + 86400 * 2 + (b * rows + r)  # from Wednesday on
            calls.append({
                "id": f"bench-{b}-{r}",
                "from": number(r % 1000),
                "to": destination(r),
                "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start)),
                "answered_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + 7)),
                "ended_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + 67)),
                "outcome": "answered",
            })
        bodies.append(json.dumps({"calls": calls}).encode())
    started = time.perf_counter()
    accepted = 0
    for body in bodies:
        accepted += send("POST", "/v1/calls", body)["accepted"]
    took = time.perf_counter() - started
    print(f"ingest: {accepted} calls in {batches} batches of {rows} in {took:.2f} s: {accepted / took:,.0f} rows/s durable")
    if accepted != batches * rows:
        sys.exit(f"expected {batches * rows} accepted, got {accepted}")
