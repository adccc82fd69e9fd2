#!/usr/bin/env bash
# Latency of transparency-log proofs from a release `vouch serve` (SQLite) holding a log of
# ENTRIES entries (1,000,000 by default), as wrk reads it (Debian's package: an independent client,
# not ours, not Swift), beside GET /healthz on the same server in the same run:
#   GET /v1/log/proof/inclusion?index=<random>&size=N
#   GET /v1/log/proof/consistency?from=<random>&to=N
# One connection, one request at a time (`wrk -t1 -c1`), so each figure is one round trip;
# p50 and p99 from wrk's latency distribution, and the server's CPU time per request (from /proc).
# Target: a proof's p99 within 1.5x the p99 of /healthz.
#
# The log is made the way a fast seeding path may: the server bootstraps an authority and stops,
# ENTRIES certificate-issuance events are written into its SQLite database in one transaction, and
# the restarted server's sequencer appends them all (hashes, nodes, a signed checkpoint) before
# the loads start.
#
# Usage: ./log-proof-latency.sh [--check]   ENTRIES=1000000 SECONDS_PER_LOAD=10 to change them.
# Needs: wrk, python3, curl.
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
[ "${1:-}" = "--check" ] && check=1
entries=${ENTRIES:-1000000}
duration=${SECONDS_PER_LOAD:-10}
for tool in wrk python3 curl; do
    command -v $tool >/dev/null || { echo "$tool is not installed (apt-get install $tool)" >&2; exit 2; }
done

source Benchmarks/serve.sh

# The authority, then the events written straight into its database while it is stopped.
start_server "$work/data" "$work/serve.log"
stop_server
python3 - "$work/data/vouch.sqlite" "$entries" <<'PY'
import sqlite3, sys
path, total = sys.argv[1], int(sys.argv[2])
db = sqlite3.connect(path)
first = db.execute("SELECT value FROM counters WHERE name = 'events'").fetchone()[0] + 1
if total < first:
    sys.exit(f"ENTRIES must be at least {first}: the authority's own events come first")
def rows():
    for seq in range(first, total + 1):
        serial = (format(seq, "x") * 40)[:40]
        yield (seq, 1_795_305_600 + seq, "certificate.issued", f"dev_bench{seq}", f"device:dev_bench{seq}",
               '{"notAfter":"2027-02-19T12:00:00Z","serial":"%s"}' % serial)
with db:
    db.executemany("INSERT INTO events (seq, at, kind, subject, actor, data) VALUES (?, ?, ?, ?, ?, ?)", rows())
    db.execute("UPDATE counters SET value = ? WHERE name = 'events'", (total,))
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
db.close()
PY
start_server "$work/data" "$work/serve.log"
# The sequencer appends the seeded events; the loads start once a checkpoint covers them all.
for _ in $(seq 1 1200); do
    size=$(curl -sf "$SERVER/v1/log/checkpoint" | sed -n 2p || true)
    [ "${size:-0}" -ge "$entries" ] 2>/dev/null && break
    sleep 0.25
done
[ "${size:-0}" -ge "$entries" ] || { echo "no checkpoint covered $entries entries within 5 minutes (last: ${size:-none})" >&2; exit 1; }
# Once the first checkpoint is out, the server reads the upper tree levels back into memory over
# the next sequencer passes: give it those before measuring.
sleep 3

cat > "$work/inclusion.lua" <<END
math.randomseed(7)
request = function()
    return wrk.format("GET", "/v1/log/proof/inclusion?index=" .. math.random(0, $entries - 1) .. "&size=$entries")
end
END
cat > "$work/consistency.lua" <<END
math.randomseed(11)
request = function()
    return wrk.format("GET", "/v1/log/proof/consistency?from=" .. math.random(1, $entries) .. "&to=$entries")
end
END
# Each proof answers 200 with what a verifier needs (checked once before its load).
curl -sf "$SERVER/v1/log/proof/inclusion?index=12345&size=$entries" | python3 -c \
    'import json, sys; p = json.load(sys.stdin); assert p["treeSize"] == int(sys.argv[1]) and len(p["inclusionProof"]) >= int(sys.argv[1]).bit_length() - 1, p' "$entries"
curl -sf "$SERVER/v1/log/proof/consistency?from=54321&to=$entries" | python3 -c \
    'import json, sys; p = json.load(sys.stdin); assert p["to"] == int(sys.argv[1]) and len(p["proof"]) >= 5, p' "$entries"

ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }
# load NAME PATH [SCRIPT]: "NAME p50-µs p99-µs requests/s cpu-µs-per-request"
load() {
    local name=$1 path=$2 script=${3:-}
    wrk -t1 -c1 -d2s ${script:+-s "$script"} "$SERVER$path" >/dev/null
    local before after out
    before=$(cpu)
    out=$(wrk -t1 -c1 -d"${duration}s" --latency ${script:+-s "$script"} "$SERVER$path")
    after=$(cpu)
    python3 - "$name" "$before" "$after" "$ticks" "$duration" <<PY
import re, sys
name, before, after, ticks, duration = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
out = """$out"""
def micros(text):
    value, unit = re.match(r"([0-9.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 1, "ms": 1000, "s": 1e6}[unit]
p50 = micros(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
p99 = micros(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
if errors:
    sys.exit(f"{name}: {errors.group(1)} answers were not 2xx")
print(name, p50, p99, rate, (after - before) / ticks * 1e6 / (rate * duration))
PY
}

{
    load healthz /healthz
    load inclusion /v1/log/proof/inclusion "$work/inclusion.lua"
    load consistency /v1/log/proof/consistency "$work/consistency.lua"
    load healthz-again /healthz
} > "$work/results"

python3 - "$work/results" "$check" "$entries" "$duration" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    name, p50, p99, rate, cpu = line.split()
    rows[name] = (float(p50), float(p99), float(rate), float(cpu))
check, entries, duration = sys.argv[2] == "1", int(sys.argv[3]), sys.argv[4]
base50 = (rows["healthz"][0] + rows["healthz-again"][0]) / 2
base99 = (rows["healthz"][1] + rows["healthz-again"][1]) / 2
print(f"\nlog of {entries:,} entries; wrk -t1 -c1 -d{duration}s --latency per load (one request at a time)\n")
print(f"{'load':<40} {'p50':>8} {'p99':>8} {'p99 / healthz p99':>18} {'req/s':>8} {'server CPU/req':>15}  target")
labels = {"healthz": "GET /healthz (baseline)", "inclusion": "inclusion proof, random index",
          "consistency": "consistency proof, random old size", "healthz-again": "GET /healthz (again)"}
missed = []
for name in ["healthz", "inclusion", "consistency", "healthz-again"]:
    p50, p99, rate, cpu = rows[name]
    verdict = ""
    if name in ("inclusion", "consistency"):
        ok = p99 / base99 <= 1.5
        verdict = f"p99 <= 1.5x healthz's {'met' if ok else 'MISSED'}"
        if not ok:
            missed.append(name)
    print(f"{labels[name]:<40} {p50:>6.0f}µs {p99:>6.0f}µs {p99 / base99:>17.2f}x {rate:>8,.0f} {cpu:>12.1f} µs  {verdict}")
if missed:
    print(f"\ntargets missed: {', '.join(missed)}")
sys.exit(1 if check and missed else 0)
PY
