#!/usr/bin/env python3
"""SIP calls through Kamailio with dialguard's check against the same
Kamailio configuration without it, side by side in one run.

Each round runs both variants of integrations/kamailio/kamailio.cfg, in
alternating order:
  without  `#!define WITHOUT_DIALGUARD`: the same routing, dialog tracking
           and caller-id handling, no HTTP call at all;
  with     POST /v1/decide before every INVITE (a fresh dialguard, a pool of
           1,000 numbers with roomy caps, so the calls are allowed) and
           POST /v1/acc/kamailio when each call ends.
SIPp (bench/kamailio/uac.xml) offers CALLS calls at each RATE a second (a
rate both keep up with, for the post-dial delay; one beyond what this machine
can carry, for the calls completed per second); the carrier (uas.xml) rings
and answers at once and the dialer hangs up at once; a call that waits over
4 s for an answer fails.
Measured per run: calls carried per second (calls that reached the carrier
while the dialer was still placing calls, over that window), and the post-dial
delay (INVITE sent to 180 received, from the microsecond stamps of the
dialer's message log) median and p99. All processes run at the integration test's fixed instant under
libfaketime, so calling hours never depend on the hour of the run.

Needs kamailio (+ utils, json modules), sip-tester and faketime.

Usage: bench/kamailio.py [ROUNDS] [CALLS] [RATES]   (default 3, 6000, 300,600)
Prints a JSON summary last.
"""

import csv
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AT = datetime(2027, 3, 2, 16, 0, 0, tzinfo=timezone.utc)
POOL = 1000


def free_port(kind):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def faketime():
    offset = int(AT.timestamp() - time.time())
    return ["faketime", "-f", f"{offset:+d}s"]


def env():
    e = dict(os.environ)
    e["FAKETIME_DONT_FAKE_MONOTONIC"] = "1"
    return e


def start_dialguard(work, port):
    with open(os.path.join(work, "dialguard.toml"), "w") as f:
        f.write("[guard]\npacing_seconds = 0\nhourly_cap = 100000\ndaily_cap = 100000\n")
    log = open(os.path.join(work, "dialguard.log"), "w")
    proc = subprocess.Popen(
        faketime()
        + [
            os.path.join(ROOT, "target/release/dialguard"),
            "serve",
            "--db",
            os.path.join(work, "dialguard.db"),
            "--config",
            os.path.join(work, "dialguard.toml"),
            "--listen",
            f"127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=log,
        env=env(),
        start_new_session=True,
    )
    for _ in range(100):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                break
        except OSError:
            time.sleep(0.1)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    body = json.dumps({"pool": "bench", "state": "active", "acquired_at": "2025-01-06T00:00:00Z"})
    for i in range(POOL):
        c.request("PUT", f"/v1/numbers/+1415555{i:04d}", body, {"content-type": "application/json"})
        r = c.getresponse()
        r.read()
        assert r.status in (200, 201), r.status
    return proc


def run_once(variant, calls, rate):
    work = tempfile.mkdtemp(prefix=f"dialguard-sipbench-{variant}-")
    procs = []
    try:
        dg_port, sip_port, uas_port, uac_port = (
            free_port(socket.SOCK_STREAM),
            free_port(socket.SOCK_DGRAM),
            free_port(socket.SOCK_DGRAM),
            free_port(socket.SOCK_DGRAM),
        )
        with open(os.path.join(work, "dialguard-site.cfg"), "w") as f:
            f.write(f'#!substdef "!LISTEN_ADDR!udp:127.0.0.1:{sip_port}!g"\n')
            f.write(f'#!substdef "!DIALGUARD_URL!http://127.0.0.1:{dg_port}!g"\n')
            f.write(f'#!substdef "!TRUNK_URI!sip:127.0.0.1:{uas_port}!g"\n')
            f.write('#!substdef "!DEFAULT_POOL!bench!g"\n')
            if variant == "without":
                f.write("#!define WITHOUT_DIALGUARD\n")
        shutil.copy(os.path.join(ROOT, "integrations/kamailio/kamailio.cfg"), work)
        if variant == "with":
            procs.append(start_dialguard(work, dg_port))
        with open(os.path.join(work, "campaign.csv"), "w") as f:
            f.write("SEQUENTIAL\n")
            for i in range(calls):
                f.write(f"+1212{2000000 + i:07d}\n")
        uas = subprocess.Popen(
            faketime()
            + ["sipp", "-sf", os.path.join(ROOT, "bench/kamailio/uas.xml"), "-i", "127.0.0.1",
               "-p", str(uas_port), "-nostdin"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env(),
            cwd=work,
            start_new_session=True,
        )
        procs.append(uas)
        kam = subprocess.Popen(
            faketime()
            + ["kamailio", "-f", os.path.join(work, "kamailio.cfg"), "-DD", "-E", "-m", "256",
               "-M", "16", "-Y", work, "-w", work],
            stdout=open(os.path.join(work, "kamailio.log"), "w"),
            stderr=subprocess.STDOUT,
            env=env(),
            start_new_session=True,
        )
        procs.append(kam)
        time.sleep(1.0)
        started = time.monotonic()
        subprocess.run(
            faketime()
            + ["sipp", f"127.0.0.1:{sip_port}", "-sf", os.path.join(ROOT, "bench/kamailio/uac.xml"),
               "-inf", os.path.join(work, "campaign.csv"), "-i", "127.0.0.1", "-p", str(uac_port),
               "-m", str(calls), "-r", str(rate), "-l", "2000", "-nostdin", "-timeout", "300s",
               "-recv_timeout", "4000",
               "-trace_msg", "-message_file", os.path.join(work, "messages.log"),
               "-trace_err", "-error_file", os.path.join(work, "errors.log"),
               "-trace_stat", "-stf", os.path.join(work, "stat.csv")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env(),
            cwd=work,
        )
        elapsed = time.monotonic() - started
        with open(os.path.join(work, "stat.csv")) as f:
            rows = list(csv.DictReader(f, delimiter=";"))
        last = rows[-1]
        ok = int(last["SuccessfulCall(C)"])
        failed = int(last["FailedCall(C)"])
        rtts, carried, window = post_dial_delays(os.path.join(work, "messages.log"))
        rtts.sort()
        result = {
            "variant": variant,
            "calls": calls,
            "completed": ok,
            "failed": failed,
            "reached_carrier": len(rtts),
            "seconds": round(elapsed, 2),
            # Calls that reached the carrier while the dialer was still
            # placing them, per second of that window: what the proxy carried
            # at the offered rate (a failed call's 4 s wait is not in it).
            "calls_per_second": round(carried / window, 1) if window else None,
            "pdd_median_ms": round(statistics.median(rtts), 3) if rtts else None,
            "pdd_p99_ms": round(rtts[int(0.99 * (len(rtts) - 1))], 3) if rtts else None,
        }
        return result
    finally:
        # Each runs in its own session under faketime's wrapper: signal the
        # whole group, so the program itself stops too.
        for p in reversed(procs):
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in reversed(procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        if os.environ.get("KEEP"):
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


def post_dial_delays(log):
    """Milliseconds from each call's first INVITE sent to its first 180 (or
    200, when the two crossed on the way) received, from the timestamps of
    SIPp's message log (microseconds)."""
    sent, rang = {}, {}
    stamp, first, outgoing = None, None, False
    with open(log, errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if line.startswith("-----------------------------------------------"):
                parts = line.split()
                if len(parts) >= 3:
                    stamp = datetime.strptime(parts[1] + " " + parts[2], "%Y-%m-%d %H:%M:%S.%f").timestamp()
                first, outgoing = None, False
            elif line.startswith("UDP message"):
                outgoing = "sent" in line
            elif first is None and line:
                first = line
            elif line.startswith("Call-ID:") and first is not None:
                call = line.split(":", 1)[1].strip()
                if outgoing and first.startswith("INVITE "):
                    sent.setdefault(call, stamp)
                elif not outgoing and (first.startswith("SIP/2.0 180") or first.startswith("SIP/2.0 200")):
                    rang.setdefault(call, stamp)
    first_sent, last_sent = min(sent.values()), max(sent.values())
    carried = sum(1 for c, t in rang.items() if c in sent and t <= last_sent)
    delays = [(rang[c] - sent[c]) * 1000 for c in rang if c in sent]
    return delays, carried, last_sent - first_sent

def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    calls = int(sys.argv[2]) if len(sys.argv) > 2 else 6000
    rates = [int(r) for r in (sys.argv[3] if len(sys.argv) > 3 else "300,600").split(",")]
    for tool in ("kamailio", "sipp", "faketime"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing: apt-get install -y kamailio kamailio-utils-modules "
                     "kamailio-json-modules sip-tester faketime")
    subprocess.run(["cargo", "build", "--quiet", "--release", "-p", "dialguard"], cwd=ROOT, check=True)
    runs = []
    for r in range(rounds):
        order = ("without", "with") if r % 2 == 0 else ("with", "without")
        for rate in rates:
            for variant in order:
                result = run_once(variant, calls, rate)
                result["offered_rate"] = rate
                print(json.dumps(result), flush=True)
                runs.append(result)

    def med(variant, rate, key):
        values = [x[key] for x in runs if x["variant"] == variant and x["offered_rate"] == rate and x[key] is not None]
        return statistics.median(values) if values else None

    summary = []
    for rate in rates:
        keys = ("calls_per_second", "failed", "pdd_median_ms", "pdd_p99_ms")
        w = {k: med("without", rate, k) for k in keys}
        d = {k: med("with", rate, k) for k in keys}
        summary.append({
            "offered_rate": rate,
            "calls": calls,
            "rounds": rounds,
            "without": w,
            "with": d,
            "rate_ratio": round(d["calls_per_second"] / w["calls_per_second"], 3),
            "added_pdd_median_ms": round(d["pdd_median_ms"] - w["pdd_median_ms"], 3),
            "added_pdd_p99_ms": round(d["pdd_p99_ms"] - w["pdd_p99_ms"], 3),
        })
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
