#!/usr/bin/env bash
# Runs the console's page benchmarks once on a fleet of 100,000 devices in SQLite
# (VOUCH_CONSOLE_DEVICES=N for another size; seeded straight into SQLite before the first page, and
# removed at the end) and prints each page's p50 and p99 as a signed-in operator fetches it over one
# keep-alive connection, beside /healthz on the same server in the same run (target: every page's
# p99 < 50 ms).
#
# Usage: ./console-ratios.sh [--check] [--keep DIR] [other options for `swift package benchmark`]
#   --check     exit 1 when a target is missed
#   --keep DIR  keep the JMH export in DIR instead of a temporary folder
set -euo pipefail
cd "$(dirname "$0")"

source ./options.sh

devices=${VOUCH_CONSOLE_DEVICES:-100000}
template="${TMPDIR:-/tmp}/vouch-scale-template-$devices"
rm -rf "$template"
trap 'rm -rf "$template"; [ -z "$keep" ] && rm -rf "$out"' EXIT

VOUCH_CONSOLE_ONLY=1 VOUCH_CONSOLE_DEVICES=$devices swift package --disable-sandbox benchmark --target VouchScaleBenchmarks \
    --format histogramPercentiles --path "$out" --no-progress ${passthrough[@]+"${passthrough[@]}"}

python3 - "$out" "$check" "$devices" <<'PY'
import glob, os, sys
sys.path.insert(0, os.getcwd())
from percentiles import percentiles

folder, check, devices = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3])
seeded = f"_{devices:,}_devices"
pages = ["healthz_(baseline)", "overview", "devices,_first_page", "devices,_revoked", "devices,_zone_and_state", "devices,_by_last_change",
         "devices,_id_prefix", "devices,_attribute_no_device_has", "device_page", "groups", "policy", "transparency_log,_entry_with_proof", "events"]
base = percentiles(folder, "console:_healthz", seeded)
missed = []
print()
print(f"{'console page, ' + f'{devices:,} devices':<58} {'p50':>9} {'p99':>9}   {'p99 / healthz p99':>17}")
for page in pages:
    found = percentiles(folder, "console:_" + page, seeded)
    if not found:
        print(f"{page.replace('_', ' '):<58} not measured")
        missed.append(page)
        continue
    ratio = found[99] / base[99] if base else float("nan")
    note = ""
    if page != "healthz_(baseline)":
        ok = found[99] / 1000 < 50
        note = "p99 < 50 ms " + ("met" if ok else "MISSED")
        if not ok: missed.append(page)
    print(f"{page.replace('_', ' '):<58} {found[50] / 1000:>7.2f}ms {found[99] / 1000:>7.2f}ms   {ratio:>16.1f}x  {note}")
if missed:
    print(f"\ntargets missed: {', '.join(missed)}")
sys.exit(1 if check and missed else 0)
PY
