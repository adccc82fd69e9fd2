#!/usr/bin/env bash
# Runs the fleet-scale benchmarks once and prints each figure on a seeded database beside the same
# figure on an empty one, from the same run:
#   revocation to visible in CRL, OCSP and status list (target: p99 < 50 ms on the seeded database);
#   GET /healthz latency while another connection enrolls, revokes and reads CRL, OCSP and status
#   list (target: p99 on the seeded database within 2x of the empty one);
#   start-up: from starting the server on the data directory to its first /healthz answer.
# The seeded database holds 1,000,000 devices with certificates, 1% of them revoked
# (VOUCH_SCALE_DEVICES=N for another size), written straight into SQLite before the first
# benchmark that needs it (a minute or two) and removed at the end.
#
# Usage: ./scale-ratios.sh [--check] [--keep DIR] [other options for `swift package benchmark`]
#   --check     exit 1 when a target is missed
#   --keep DIR  keep the JMH export in DIR instead of a temporary folder
set -euo pipefail
cd "$(dirname "$0")"

source ./options.sh

devices=${VOUCH_SCALE_DEVICES:-1000000}
template="${TMPDIR:-/tmp}/vouch-scale-template-$devices"
rm -rf "$template"
trap 'rm -rf "$template"; [ -z "$keep" ] && rm -rf "$out"' EXIT

swift package --disable-sandbox benchmark --target VouchScaleBenchmarks --format histogramPercentiles --path "$out" --no-progress \
    ${passthrough[@]+"${passthrough[@]}"}

python3 - "$out" "$check" "$devices" <<'PY'
import os, sys
from functools import partial

sys.path.insert(0, os.getcwd())
from percentiles import percentiles

folder, check, devices = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3])
percentiles = partial(percentiles, folder)
missed = []

def pair(kind):
    return percentiles(kind, "empty_database"), percentiles(kind, f"_{devices:,}_devices")

print()
print(f"{'figure':<46} {'empty p50':>10} {'p99':>9}   {f'{devices:,} p50':>14} {'p99':>9}   ratio p99")
for kind, label, unit in [("revocation_to_visible", "revocation to visible (CRL, OCSP, status)", 1000),
                          ("healthz_while_revoking", "/healthz while revoking", 1000),
                          ("start-up_to_first_healthz", "start-up to first /healthz", 1e6)]:
    empty, full = pair(kind)
    if not (empty and full):
        print(f"{label:<46} not measured (export: {sorted(os.listdir(folder))})")
        missed.append(label)
        continue
    suffix = "ms" if unit == 1000 else "s"
    ratio = full[99] / empty[99]
    verdict = ""
    if kind == "revocation_to_visible":
        ok = full[99] / 1000 < 50
        verdict = f"target p99 < 50 ms {'met' if ok else 'MISSED'}"
        if not ok: missed.append(label)
    elif kind == "healthz_while_revoking":
        ok = ratio <= 2
        verdict = f"target <= 2x {'met' if ok else 'MISSED'}"
        if not ok: missed.append(label)
    print(f"{label:<46} {empty[50] / unit:>8.2f}{suffix:<2} {empty[99] / unit:>7.2f}{suffix:<2}   "
          f"{full[50] / unit:>12.2f}{suffix:<2} {full[99] / unit:>7.2f}{suffix:<2}   {ratio:>6.2f}x  {verdict}")
if missed:
    print(f"\ntargets missed: {', '.join(missed)}")
sys.exit(1 if check and missed else 0)
PY
