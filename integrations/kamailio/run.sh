#!/usr/bin/env bash
# Put dialguard in front of your trunks: a short campaign on loopback.
#
# Starts dialguard, Kamailio (kamailio.cfg beside this script) and two SIPp
# sides, a dialer and a carrier; runs a campaign through the proxy; prints
# what happened; stops everything it started.
#
#   integrations/kamailio/run.sh
#
# Needs: kamailio with its utils, json and secsipid modules, sip-tester
# (SIPp), curl and openssl:
#   apt-get install -y kamailio kamailio-utils-modules kamailio-json-modules \
#       kamailio-secsipid-modules sip-tester curl openssl
#
# Settings (environment):
#   DIALGUARD_BIN   the dialguard binary (default: dialguard on PATH, else
#                   target/release/dialguard, built when missing)
#   WORK            where the database, configs and SIP logs go (default: a
#                   new temporary folder, kept and printed at the end)
#   CALLS           campaign lines (default 200); RATE calls a second (20)
#   WITH_STIR       1 (default) signs every allowed call with a test
#                   certificate made here; 0 does not
#   GUARD           on (default); off leaves dialguard unstarted, to see the
#                   proxy's failure policy: fail closed (503, no call
#                   placed), or with FAIL_OPEN=1 place the call unchecked;
#                   late starts it only after the campaign, to see the
#                   proxy offer the call records it kept meanwhile
#   DIALGUARD_PORT, SIP_PORT, DIALER_PORT, CARRIER_PORT
#                   loopback ports (18080, 5060, 5070, 5080)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

CALLS="${CALLS:-200}"
RATE="${RATE:-20}"
WITH_STIR="${WITH_STIR:-1}"
GUARD="${GUARD:-on}"
FAIL_OPEN="${FAIL_OPEN:-0}"
DIALGUARD_PORT="${DIALGUARD_PORT:-18080}"
SIP_PORT="${SIP_PORT:-5060}"
DIALER_PORT="${DIALER_PORT:-5070}"
CARRIER_PORT="${CARRIER_PORT:-5080}"
WORK="${WORK:-$(mktemp -d -t dialguard-kamailio.XXXXXX)}"
mkdir -p "$WORK"

say() { printf '%s\n' "$*" >&2; }
need() {
    command -v "$1" >/dev/null 2>&1 || {
        say "run.sh: $1 is not installed. Install: apt-get install -y $2"
        exit 2
    }
}
need kamailio "kamailio kamailio-utils-modules kamailio-json-modules kamailio-secsipid-modules"
need sipp sip-tester
need curl curl
need openssl openssl

if [[ -z "${DIALGUARD_BIN:-}" ]]; then
    if command -v dialguard >/dev/null 2>&1; then
        DIALGUARD_BIN="$(command -v dialguard)"
    else
        DIALGUARD_BIN="$repo/target/release/dialguard"
        [[ -x "$DIALGUARD_BIN" ]] || (cd "$repo" && cargo build --release -p dialguard)
    fi
fi

pids=()
stop_all() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    if [[ -f "$WORK/kamailio.pid" ]]; then
        kill "$(cat "$WORK/kamailio.pid")" 2>/dev/null || true
    fi
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
}
trap stop_all EXIT

api="http://127.0.0.1:$DIALGUARD_PORT"

# dialguard: a guard sized for a short, fast campaign (the defaults pace a
# number's calls 20 s apart and allow 30 an hour).
cat >"$WORK/dialguard.toml" <<EOF
[guard]
pacing_seconds = 0
hourly_cap = 1000
daily_cap = 1000
EOF
opted_out=+12122000999
start_dialguard() {
    "$DIALGUARD_BIN" serve --db "$WORK/dialguard.db" --config "$WORK/dialguard.toml" \
        --listen "127.0.0.1:$DIALGUARD_PORT" >>"$WORK/dialguard.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do
        curl -fsS "$api/healthz" >/dev/null 2>&1 && break
        sleep 0.1
    done
    curl -fsS "$api/healthz" >/dev/null || {
        say "run.sh: dialguard did not start; its log:"
        cat "$WORK/dialguard.log" >&2
        exit 1
    }

    # The pool. The carrier labels ...0666: every call it presents is refused.
    local pool=(+14155550100 +14155550101 +14155550666)
    for number in "${pool[@]}"; do
        curl -fsS -X PUT "$api/v1/numbers/$number" -H 'content-type: application/json' \
            -d '{"pool": "outbound", "state": "active", "acquired_at": "2025-01-06T00:00:00Z"}' >/dev/null
    done
    local now
    now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    curl -fsS -X POST "$api/v1/optouts" -H 'content-type: application/json' \
        -d "{\"to\": \"$opted_out\", \"at\": \"$now\"}" >/dev/null
}
if [[ "$GUARD" == on ]]; then
    start_dialguard
fi

# The campaign: New York numbers, with a dead one called twice, a busy one,
# one that rings out, one that opted out, and one in Honolulu (asked for at
# whatever hour it is there).
dead=+12122000404
{
    echo SEQUENTIAL
    echo "$dead;outbound;false"
    echo "+12122000486;outbound;false"
    echo "+12122000480;outbound;false"
    echo "$opted_out;outbound;false"
    echo "+18082001234;outbound;false"
    for i in $(seq 1000 $((1000 + CALLS - 7))); do
        echo "+1212201$i;outbound;false"
    done
    echo "$dead;outbound;false"
} >"$WORK/campaign.csv"
lines=$(($(wc -l <"$WORK/campaign.csv") - 1))

# STIR/SHAKEN: a test key and certificate (a real deployment uses the
# certificate its STI-CA issued, published at the x5u URL).
site="$WORK/dialguard-site.cfg"
{
    echo "#!substdef \"!LISTEN_ADDR!udp:127.0.0.1:$SIP_PORT!g\""
    echo "#!substdef \"!DIALGUARD_URL!$api!g\""
    echo "#!substdef \"!TRUNK_URI!sip:127.0.0.1:$CARRIER_PORT!g\""
} >"$site"
if [[ "$FAIL_OPEN" == 1 ]]; then
    echo "#!define FAIL_OPEN" >>"$site"
fi
if [[ "$GUARD" == late ]]; then
    echo "#!substdef \"!RESEND_SECS!1!g\"" >>"$site"
fi
if [[ "$WITH_STIR" == 1 ]]; then
    openssl ecparam -name prime256v1 -genkey -noout -out "$WORK/stir-key.pem" 2>/dev/null
    openssl req -new -x509 -key "$WORK/stir-key.pem" -out "$WORK/stir-cert.pem" -days 30 \
        -subj "/CN=dialguard test SHAKEN" 2>/dev/null
    openssl x509 -in "$WORK/stir-cert.pem" -pubkey -noout >"$WORK/stir-pub.pem"
    {
        echo "#!define WITH_STIR"
        echo "#!substdef \"!STIR_KEY!$WORK/stir-key.pem!g\""
        echo "#!substdef \"!STIR_X5U!https://certs.example.com/dialguard-test.pem!g\""
    } >>"$site"
fi
cp "$here/kamailio.cfg" "$WORK/kamailio.cfg"

# The carrier, then the proxy.
sipp -sf "$here/sipp/carrier.xml" -i 127.0.0.1 -p "$CARRIER_PORT" -nostdin \
    -trace_msg -message_file "$WORK/carrier-messages.log" \
    -trace_err -error_file "$WORK/carrier-errors.log" >"$WORK/carrier.out" 2>&1 &
pids+=($!)
kamailio -f "$WORK/kamailio.cfg" -DD -E -m 64 -M 8 -P "$WORK/kamailio.pid" \
    -Y "$WORK" -w "$WORK" >"$WORK/kamailio.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
    grep -q "INFO: <core>.*udp_init\|using the following\|INFO:.*main.c" "$WORK/kamailio.log" 2>/dev/null && break
    sleep 0.1
done
sleep 0.5
kill -0 "${pids[-1]}" 2>/dev/null || {
    say "run.sh: kamailio did not start; its log:"
    cat "$WORK/kamailio.log" >&2
    exit 1
}

# The dialer places the campaign and waits for every call to end.
say "dialing $lines calls at $RATE a second through Kamailio ..."
sipp "127.0.0.1:$SIP_PORT" -sf "$here/sipp/dialer.xml" -inf "$WORK/campaign.csv" \
    -i 127.0.0.1 -p "$DIALER_PORT" -m "$lines" -r "$RATE" -l 500 -nostdin -timeout 180s \
    -trace_msg -message_file "$WORK/dialer-messages.log" \
    -trace_err -error_file "$WORK/dialer-errors.log" \
    -trace_stat -stf "$WORK/dialer-stats.csv" >"$WORK/dialer.out" 2>&1 || true
sleep 1
if [[ "$GUARD" == late ]]; then
    say "starting dialguard now; the proxy offers the records it kept ..."
    start_dialguard
    sleep 3
fi

# What happened, one line per call (SIPp's logs also hold retransmissions):
# dialer-calls.tsv has the Call-ID, the final answer, dialguard's reason and
# the Retry-After.
per_call() {
    awk '
        { sub(/\r$/, "") }
        /^----------/ { first = ""; id = ""; next }
        /^(UDP|TCP) message/ { next }
        first == "" && NF { first = $0; next }
        /^Call-ID:/ { id = $2 }
        /^CSeq: [0-9]+ INVITE/ && first ~ /^SIP\/2.0 [2-6][0-9][0-9]/ { final[id] = first }
        /^Reason: dialguard;text=/ { match($0, /text="[a-z_]*"/); why[id] = substr($0, RSTART + 6, RLENGTH - 7) }
        /^Retry-After:/ { after[id] = $2 }
        END { for (id in final) print id "\t" final[id] "\t" why[id] "\t" after[id] }
    ' "$1"
}
per_call "$WORK/dialer-messages.log" >"$WORK/dialer-calls.tsv"
{
    echo "== what the dialer was told (one line per call) =="
    cut -f2 "$WORK/dialer-calls.tsv" | sort | uniq -c | sort -rn
    echo "refused by dialguard before reaching the carrier:"
    awk -F'\t' '$3 != "" { print $3 }' "$WORK/dialer-calls.tsv" | sort | uniq -c | sort -rn
    echo
    echo "== what the carrier saw =="
    echo "calls: $(grep -A8 '^INVITE ' "$WORK/carrier-messages.log" | grep '^Call-ID:' | sort -u | wc -l)"
    echo "signed with an Identity header: $(grep -B20 '^Identity: ' "$WORK/carrier-messages.log" | grep '^Call-ID:' | sort -u | wc -l)"
    echo
    echo "== what dialguard recorded =="
    if [[ "$GUARD" != off ]]; then
        "$DIALGUARD_BIN" numbers list --db "$WORK/dialguard.db" --config "$WORK/dialguard.toml" 2>&1 || true
    else
        echo "(not started: GUARD=off)"
    fi
} | tee "$WORK/summary.txt"
say "everything is in $WORK"
