#!/usr/bin/env bash
# Runs the authorization and telemetry benchmarks once and prints each figure beside its baseline
# from the same run:
#   authorization decisions in process (Authorizer over 10,000 devices' subjects; target >= 50,000/s);
#   POST /v1/authorize over HTTP from a pipelining client, beside GET /healthz the same way
#   (target >= 20,000/s on this 2-core machine);
#   POST /v1/telemetry in batches of 100 pre-signed envelopes, beside raw Ed25519 verifies on every
#   core (target: ingest >= 0.8 of the verify throughput);
#   the monitoring update per accepted message (FleetMonitor.record over 10,000 devices; target
#   < 5 µs), beside a per-device counter under a lock.
#
# Usage: ./policy-ratios.sh [--check] [--keep DIR] [other options for `swift package benchmark`]
#   --check     exit 1 when a target is missed
#   --keep DIR  keep the JMH export in DIR instead of a temporary folder
set -euo pipefail
cd "$(dirname "$0")"

source ./options.sh

swift package --disable-sandbox benchmark --target VouchServerBenchmarks --filter "(authorization|telemetry|monitoring).*" \
    --format histogramPercentiles --path "$out" --no-progress ${passthrough[@]+"${passthrough[@]}"}

python3 - "$out" "$check" <<'PY'
import os, sys
from functools import partial

sys.path.insert(0, os.getcwd())
from percentiles import percentiles

folder, check = sys.argv[1], sys.argv[2] == "1"
percentiles = partial(percentiles, folder)

BATCH = 20_000
decide = percentiles("authorization_in_process")
healthz = percentiles("authorization_baseline")
authorize = percentiles("authorization_over_HTTP")
verify = percentiles("telemetry_baseline")
ingest = percentiles("telemetry_over_HTTP")
counter = percentiles("monitoring_baseline")
monitoring = percentiles("monitoring_update")
missed = []
print()
if decide:
    rate = 1e6 / decide[50]
    ok = rate >= 50_000
    missed += [] if ok else ["decisions in process"]
    print(f"{'authorization in process':<44} {decide[50]:>9.2f} µs/op  {rate:>10,.0f} /s   target >= 50,000/s {'met' if ok else 'MISSED'}")
if healthz and authorize:
    base = BATCH / (healthz[50] / 1e6)
    rate = BATCH / (authorize[50] / 1e6)
    ok = rate >= 20_000
    missed += [] if ok else ["decisions over HTTP"]
    print(f"{'GET /healthz, pipelined (baseline)':<44} {healthz[50] / BATCH:>9.2f} µs/op  {base:>10,.0f} /s")
    print(f"{'POST /v1/authorize, pipelined':<44} {authorize[50] / BATCH:>9.2f} µs/op  {rate:>10,.0f} /s   target >= 20,000/s {'met' if ok else 'MISSED'}")
    print(f"{'authorize / healthz throughput':<44} {rate / base:>9.3f}")
if verify and ingest:
    base = BATCH / (verify[50] / 1e6)
    rate = BATCH / (ingest[50] / 1e6)
    ok = rate / base >= 0.8
    missed += [] if ok else ["telemetry ingest ratio"]
    print(f"{'raw Ed25519 verify, every core (baseline)':<44} {verify[50] / BATCH:>9.2f} µs/op  {base:>10,.0f} /s")
    print(f"{'POST /v1/telemetry, batches of 100':<44} {ingest[50] / BATCH:>9.2f} µs/op  {rate:>10,.0f} /s")
    print(f"{'ingest / verify throughput':<44} {rate / base:>9.3f}   target >= 0.8 {'met' if ok else 'MISSED'}")
if counter and monitoring:
    ok = monitoring[50] < 5
    missed += [] if ok else ["monitoring update"]
    print(f"{'per-device counter under a lock (baseline)':<44} {counter[50]:>9.2f} µs/op")
    print(f"{'monitoring update per accepted message':<44} {monitoring[50]:>9.2f} µs/op   target < 5 µs {'met' if ok else 'MISSED'}")
    print(f"{'monitoring update / counter':<44} {monitoring[50] / counter[50]:>9.2f}")
if not (decide and healthz and authorize and verify and ingest and counter and monitoring):
    print(f"\nnot every benchmark ran; the export in {folder} has: {sorted(os.listdir(folder))}")
if missed:
    print(f"\ntargets missed: {', '.join(missed)}")
sys.exit(1 if check and missed else 0)
PY
