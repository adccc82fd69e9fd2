#!/usr/bin/env bash
# Runs the transparency-log benchmarks once and prints each figure beside its baseline from the same run:
#   appends per second by the server's sequencer on SQLite (100,000 committed events hashed, their
#   nodes stored, a checkpoint signed and published), beside hashing the same entries in memory
#   (target: >= 20,000 entries/s on this 2-core machine);
#   inclusion and consistency proofs over HTTP from a log of 1,000,000 entries, beside a /healthz
#   round trip on the same connection (target: a proof's p99 within 1.5x the round trip's p99);
#   the auditor re-hashing 1,000,000 entries fetched as C2SP tiles, beside hashing them in memory
#   (target: < 60 s).
# Building the 1,000,000-entry log is part of the run (a minute or two).
#
# Usage: ./log-ratios.sh [--check] [--keep DIR] [other options for `swift package benchmark`]
#   --check     exit 1 when a target is missed
#   --keep DIR  keep the JMH export in DIR instead of a temporary folder
set -euo pipefail
cd "$(dirname "$0")"

source ./options.sh

swift package --disable-sandbox benchmark --target VouchLogBenchmarks --format histogramPercentiles --path "$out" --no-progress \
    ${passthrough[@]+"${passthrough[@]}"}

python3 - "$out" "$check" <<'PY'
import os, sys
from functools import partial

sys.path.insert(0, os.getcwd())
from percentiles import percentiles

folder, check = sys.argv[1], sys.argv[2] == "1"
percentiles = partial(percentiles, folder)

APPEND = 100_000
LARGE = 1_000_000
memory = percentiles("append_in_memory")
sqlite = percentiles("append_on_SQLite")
trip = percentiles("round_trip")
inclusion = percentiles("inclusion_proof")
consistency = percentiles("consistency_proof")
audit_memory = percentiles("auditor_in_memory")
audit = percentiles("auditor_over_HTTP")
missed = []
print()
if memory and sqlite:
    rate = APPEND / (sqlite[50] / 1e6)
    ok = rate >= 20_000
    if not ok:
        missed.append("appends/s")
    print(f"{'append in memory (baseline)':<46} {APPEND / (memory[50] / 1e6):>10,.0f} entries/s")
    print(f"{'append on SQLite: sequenced, stored, signed':<46} {rate:>10,.0f} entries/s   target >= 20,000/s {'met' if ok else 'MISSED'}")
    print(f"{'SQLite time / in-memory time':<46} {sqlite[50] / memory[50]:>10.2f}")
if trip:
    print(f"{'GET /healthz round trip (baseline)':<46} p50 {trip[50]:>7.0f} µs  p99 {trip[99]:>7.0f} µs")
for name, values in (("inclusion proof at 1M entries", inclusion), ("consistency proof at 1M entries", consistency)):
    if values:
        # Target: the proof's p99 within 1.5x the round trip's p99, measured in the same run.
        ratio = values[99] / trip[99] if trip else float("inf")
        ok = ratio <= 1.5
        if not ok:
            missed.append(name)
        print(f"{name:<46} p50 {values[50]:>7.0f} µs  p99 {values[99]:>7.0f} µs   "
              f"p99 {ratio:.2f}x the round trip's (p50 {values[50] / trip[50]:.2f}x), target <= 1.5x {'met' if ok else 'MISSED'}")
if audit_memory and audit:
    seconds = audit[50] / 1e6
    ok = seconds < 60
    if not ok:
        missed.append("auditor")
    print(f"{'auditor in memory (baseline): 1M entries':<46} {audit_memory[50] / 1e6:>8.1f} s")
    print(f"{'auditor over HTTP: 1M entries':<46} {seconds:>8.1f} s   target < 60 s {'met' if ok else 'MISSED'}   {audit[50] / audit_memory[50]:.1f}x in memory")
if not all((memory, sqlite, trip, inclusion, consistency, audit_memory, audit)):
    print(f"\nnot every benchmark ran; the export in {folder} has: {sorted(os.listdir(folder))}")
if missed:
    print(f"\ntargets missed: {', '.join(missed)}")
sys.exit(1 if check and missed else 0)
PY
