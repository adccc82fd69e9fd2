#!/usr/bin/env bash
# One revocation, every channel: revokes devices one at a time (200 per channel) and prints, for
# each channel, p50 and p99 from the start of the revoke request until the revocation is visible
# there (CRL, OCSP, status list, event stream, revocation stream, a local webhook receiver that
# verifies the signature), beside one /healthz round trip measured in the same run.
# Target: p99 < 50 ms on every channel on this 2-core machine.
#
# Usage: ./revocation-channels.sh [--check] [--keep DIR] [other options for `swift package benchmark`]
set -euo pipefail
cd "$(dirname "$0")"

source ./options.sh

swift package --disable-sandbox benchmark --target VouchServerBenchmarks --filter "revocation visible.*" \
    --format histogramPercentiles --path "$out" --no-progress ${passthrough[@]+"${passthrough[@]}"}

python3 - "$out" "$check" <<'PY'
import os, sys
from functools import partial

sys.path.insert(0, os.getcwd())
from percentiles import percentiles

folder, check = sys.argv[1], sys.argv[2] == "1"
percentiles = partial(percentiles, folder)
base = percentiles("revocation_visible", "baseline")
channels = ["CRL", "OCSP", "status_list", "event_stream", "revocation_stream", "webhook"]
missed, absent = [], []
print()
print(f"{'channel':<34} {'p50 ms':>8} {'p99 ms':>8}  {'p50 / healthz':>13}")
if base:
    print(f"{'baseline: one /healthz round trip':<34} {base[50] / 1000:>8.2f} {base[99] / 1000:>8.2f}  {1:>13.1f}")
for channel in channels:
    values = percentiles("revocation_visible", channel)
    if not values:
        absent.append(channel)
        continue
    ok = values[99] < 50_000
    if not ok:
        missed.append(channel)
    ratio = f"{values[50] / base[50]:>13.1f}" if base else f"{'':>13}"
    print(f"{channel.replace('_', ' '):<34} {values[50] / 1000:>8.2f} {values[99] / 1000:>8.2f}  {ratio}  p99 < 50 ms {'met' if ok else 'MISSED'}")
if absent or not base:
    print(f"\nnot every benchmark ran ({', '.join(absent) or 'baseline'}); the export in {folder} has: {sorted(os.listdir(folder))}")
if missed:
    print(f"\ntargets missed: {', '.join(missed)}")
sys.exit(1 if check and (missed or absent) else 0)
PY
