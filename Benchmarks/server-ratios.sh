#!/usr/bin/env bash
# Runs the server benchmarks once and prints each figure beside its baseline from the same run:
#   enrollments per second through the HTTP API on SQLite, beside the in-process cost of CSR check +
#   certificate issue + credential issue (target: >= 2,000 enrollments/s on this 2-core machine).
# Revocation to visible is measured by scale-ratios.sh, on an empty and a seeded database.
#
# Usage: ./server-ratios.sh [--check] [--keep DIR] [other options for `swift package benchmark`]
#   --check     exit 1 when a target is missed
#   --keep DIR  keep the JMH export in DIR instead of a temporary folder
set -euo pipefail
cd "$(dirname "$0")"

source ./options.sh

swift package --disable-sandbox benchmark --target VouchServerBenchmarks --format histogramPercentiles --path "$out" --no-progress \
    ${passthrough[@]+"${passthrough[@]}"}

python3 - "$out" "$check" <<'PY'
import os, sys
from functools import partial

sys.path.insert(0, os.getcwd())
from percentiles import percentiles

folder, check = sys.argv[1], sys.argv[2] == "1"
percentiles = partial(percentiles, folder)

base = percentiles("enrollment_in_process")
http = percentiles("enrollment_over_HTTP")
missed = []
print()
if base and http:
    rate = 1e6 / http[50]
    ok = rate >= 2000
    if not ok:
        missed.append("enrollments/s")
    print(f"{'enrollment in process (baseline)':<44} {base[50]:>9.1f} µs/op  {1e6 / base[50]:>8,.0f} /s")
    print(f"{'enrollment over HTTP, SQLite, 16 connections':<44} {http[50]:>9.1f} µs/op  {rate:>8,.0f} /s   target >= 2,000/s {'met' if ok else 'MISSED'}")
    print(f"{'HTTP throughput / in-process throughput':<44} {base[50] / http[50]:>9.3f}")
if not (base and http):
    print(f"\nnot every benchmark ran; the export in {folder} has: {sorted(os.listdir(folder))}")
if missed:
    print(f"\ntargets missed: {', '.join(missed)}")
sys.exit(1 if check and missed else 0)
PY
