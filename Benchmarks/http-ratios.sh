#!/usr/bin/env bash
# HTTP throughput of a release `vouch serve` as wrk (Debian's package: an independent load client,
# not ours, not Swift) reads it, each figure as a ratio to GET /healthz on the same server in the
# same run, with the server's CPU time per request (from /proc, user + system):
#   GET /v1/pki/ocsp/{request}   OCSP by GET for an enrolled device's certificate (target >= 0.9 of /healthz)
#   POST /v1/authorize           an allowed decision for an enrolled device, with an API key
#   GET /v1/pki/crl              the CRL
# Each load is `wrk -t1 -c16 -d${SECONDS_PER_LOAD:-10}s`, after a 2 s warm-up; the server and wrk share
# this machine's cores.
#
# Usage: ./http-ratios.sh [--check]     (--check: exit 1 when a target is missed)
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
[ "${1:-}" = "--check" ] && check=1
duration=${SECONDS_PER_LOAD:-10}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
command -v openssl >/dev/null || { echo "openssl is not installed" >&2; exit 2; }

source Benchmarks/serve.sh

start_server "$work/data" "$work/serve.log"
export VOUCH_API_KEY=$(cat "$work/data/admin-api-key")

cat > "$work/policy.yaml" <<'END'
roles:
  sensor:
    allow: ["publish:telemetry/${device.id}/#"]
END
"$VOUCH" policy upload "$work/policy.yaml" --server "$SERVER" >/dev/null
TOKEN=$("$VOUCH" admin group create --server "$SERVER" --name bench --role sensor --token-uses 10 | tail -1)
DEV=$("$VOUCH" device enroll --server "$SERVER" --group bench --token "$TOKEN" --dir "$work/dev" | tail -1)
curl -sf "$SERVER/v1/pki/intermediate.pem" > "$work/issuing.pem"
openssl ocsp -issuer "$work/issuing.pem" -cert "$work/dev/cert.pem" -no_nonce -reqout "$work/ocsp.der" >/dev/null 2>&1
OCSP_PATH="/v1/pki/ocsp/$(base64 -w0 < "$work/ocsp.der" | python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.stdin.read(), safe=""))')"
curl -sf "$SERVER$OCSP_PATH" | openssl ocsp -respin /dev/stdin -issuer "$work/issuing.pem" -cert "$work/dev/cert.pem" -noverify 2>/dev/null \
    | grep -q ": good" || { echo "OCSP by GET does not answer good for the enrolled certificate" >&2; exit 1; }

cat > "$work/authorize.lua" <<END
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $VOUCH_API_KEY"
wrk.body = '{"subject":"$DEV","action":"publish","resource":"telemetry/$DEV/temp"}'
END
answer=$(curl -sf -X POST -H "Content-Type: application/json" -H "Authorization: Bearer $VOUCH_API_KEY" \
    -d "{\"subject\":\"$DEV\",\"action\":\"publish\",\"resource\":\"telemetry/$DEV/temp\"}" "$SERVER/v1/authorize")
echo "$answer" | grep -q '"decision":"allow"' || { echo "the authorization is not allowed: $answer" >&2; exit 1; }

ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }

# load NAME PATH [wrk options...]: prints "NAME requests/s cpu-µs-per-request non-2xx"
load() {
    local name=$1 path=$2
    shift 2
    wrk -t1 -c16 -d2s "$@" "$SERVER$path" >/dev/null
    local before after
    before=$(cpu)
    wrk -t1 -c16 -d"${duration}s" "$@" "$SERVER$path" > "$work/wrk.out"
    after=$(cpu)
    python3 - "$name" "$work/wrk.out" "$before" "$after" "$ticks" <<'PY'
import re, sys
name, path, before, after, ticks = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
text = open(path).read()
rate = float(re.search(r"Requests/sec:\s*([\d.]+)", text).group(1))
total = int(re.search(r"(\d+) requests in", text).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
errors = re.search(r"Socket errors: (.*)", text)
cpu_us = (after - before) / ticks * 1e6 / max(total, 1)
print(name, rate, cpu_us, bad.group(1) if bad else 0, (errors.group(1).strip() if errors else "-").replace(" ", "_"))
PY
}

results="$work/results"
{
    load healthz /healthz
    load ocsp "$OCSP_PATH"
    load authorize /v1/authorize -s "$work/authorize.lua"
    load crl /v1/pki/crl
    load healthz-again /healthz
} > "$results"

python3 - "$results" "$check" "$duration" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    name, rate, cpu, bad, errors = line.split()
    rows[name] = (float(rate), float(cpu), int(bad), errors)
check, duration = sys.argv[2] == "1", sys.argv[3]
base = (rows["healthz"][0] + rows["healthz-again"][0]) / 2
print(f"\nwrk -t1 -c16 -d{duration}s against a release server (both on this machine); /healthz before and after: "
      f"{rows['healthz'][0]:,.0f} and {rows['healthz-again'][0]:,.0f}/s\n")
print(f"{'load':<34} {'requests/s':>11} {'/ healthz':>10} {'server CPU/request':>19}  target")
targets = {"ocsp": 0.9}
labels = {"healthz": "GET /healthz (baseline)", "ocsp": "GET /v1/pki/ocsp/{request}", "authorize": "POST /v1/authorize (allow)",
          "crl": "GET /v1/pki/crl", "healthz-again": "GET /healthz (again)"}
missed = []
for name in ["healthz", "ocsp", "authorize", "crl", "healthz-again"]:
    rate, cpu, bad, errors = rows[name]
    ratio = rate / base
    target = targets.get(name)
    verdict = ""
    if target is not None:
        ok = ratio >= target and bad == 0
        verdict = f">= {target} {'met' if ok else 'MISSED'}"
        if not ok:
            missed.append(name)
    note = f"  ({bad} non-2xx)" if bad else ""
    print(f"{labels[name]:<34} {rate:>11,.0f} {ratio:>10.2f} {cpu:>16.1f} µs  {verdict}{note}")
if missed:
    print(f"\ntargets missed: {', '.join(missed)}")
sys.exit(1 if check and missed else 0)
PY
