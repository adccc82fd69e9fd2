#!/usr/bin/env bash
# Runs the fleet-scale benchmarks once and prints each figure on a seeded database beside the same
# figure on an empty one, from the same run:
#   revocation to visible in CRL, OCSP and status list (target: p99 < 50 ms on the seeded database);
#   GET /healthz latency while another connection enrolls, revokes and reads CRL, OCSP and status
#   list (target: p99 on the seeded database within 2x of the empty one);
#   start-up: from starting the server on the data directory to its first /healthz answer (< 5 s);
#   enrollments/s over HTTP (target: >= 0.8 of empty), authorization decisions/s and telemetry
#   envelopes/s over HTTP (>= 0.9 of empty);
#   GET /v1/admin/devices pages with filters (target: p99 < 20 ms on the seeded database);
#   the process's resident memory after start-up (all, and the part no file backs), and the bytes
#   monitoring holds per device.
# The seeded database holds 1,000,000 devices with certificates and identity credentials, over 4
# groups and 16 zones, 1% revoked and 0.5% suspended (VOUCH_SCALE_DEVICES=N for another size),
# written straight into SQLite before the first benchmark that needs it (a minute or two) and
# removed at the end.
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
import glob, os, sys
from functools import partial

sys.path.insert(0, os.getcwd())
from percentiles import percentiles

folder, check, devices = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3])
percentiles = partial(percentiles, folder)
missed = []
seeded = f"_{devices:,}_devices"

def pair(kind):
    return percentiles(kind, "empty_database"), percentiles(kind, seeded)

def custom(kind, fleet, metric):
    """The p50 of a custom metric (one value per run), or None."""
    files = [f for f in glob.glob(f"{folder}/*.tsv") if kind in f and fleet in f and f".{metric}" in os.path.basename(f)]
    if len(files) != 1:
        return None
    lines = open(files[0]).read().splitlines()[1:]
    return dict((int(p), float(v)) for p, v in (line.split("\t") for line in lines)).get(50)

def verdict(label, ok, target):
    if not ok: missed.append(label)
    return f"target {target} {'met' if ok else 'MISSED'}"

print()
print(f"{'latency':<46} {'empty p50':>10} {'p99':>9}   {f'{devices:,} p50':>14} {'p99':>9}   ratio p99")
for kind, label, unit in [("revocation_to_visible", "revocation to visible (CRL, OCSP, status)", 1000),
                          ("healthz_while_revoking", "/healthz while revoking", 1000),
                          ("admin_device_pages", "device pages with filters (100 a page)", 1000),
                          ("start-up_to_first_healthz", "start-up to first /healthz", 1e6)]:
    empty, full = pair(kind)
    if not (empty and full):
        print(f"{label:<46} not measured")
        missed.append(label)
        continue
    suffix = "ms" if unit == 1000 else "s"
    ratio = full[99] / empty[99]
    note = ""
    if kind == "revocation_to_visible":
        note = verdict(label, full[99] / 1000 < 50, "p99 < 50 ms")
    elif kind == "healthz_while_revoking":
        note = verdict(label, ratio <= 2, "<= 2x")
    elif kind == "admin_device_pages":
        note = verdict(label, full[99] / 1000 < 20, "p99 < 20 ms")
    elif kind == "start-up_to_first_healthz":
        note = verdict(label, full[99] / 1e6 < 5, "p99 < 5 s")
    print(f"{label:<46} {empty[50] / unit:>8.2f}{suffix:<2} {empty[99] / unit:>7.2f}{suffix:<2}   "
          f"{full[50] / unit:>12.2f}{suffix:<2} {full[99] / unit:>7.2f}{suffix:<2}   {ratio:>6.2f}x  {note}")

print()
print(f"{'throughput (p50 of the batches)':<46} {'empty /s':>10}   {f'{devices:,} /s':>14}   ratio")
for kind, label, batch, target in [("enrollments_over_HTTP", "enrollments over HTTP, 16 connections", 500, 0.8),
                                   ("authorization_over_HTTP", "authorization decisions over HTTP", 20000, 0.9),
                                   ("telemetry_over_HTTP", "telemetry envelopes over HTTP", 20000, 0.9)]:
    empty, full = pair(kind)
    if not (empty and full):
        print(f"{label:<46} not measured")
        missed.append(label)
        continue
    rate_empty, rate_full = batch / (empty[50] / 1e6), batch / (full[50] / 1e6)
    ratio = rate_full / rate_empty
    print(f"{label:<46} {rate_empty:>10,.0f}   {rate_full:>14,.0f}   {ratio:>5.2f}  {verdict(label, ratio >= target, f'>= {target}')}")

print()
print(f"{'memory':<46} {'empty':>10}   {f'{devices:,}':>14}")
for metric, label in [("resident_memory", "resident after start-up (MiB)"), ("anonymous_memory", "  of which no file backs (MiB)")]:
    empty, full = custom("resident_memory_after", "empty_database", metric), custom("resident_memory_after", seeded, metric)
    print(f"{label:<46} {empty if empty is not None else float('nan'):>10.0f}   {full if full is not None else float('nan'):>14.0f}")
for fleet, label in [("seen_once", "monitoring per device seen once (bytes)"),
                     ("seen_every_minute", "monitoring per device seen 90 minutes (bytes)")]:
    value = custom("monitoring_memory_per_device", fleet, "bytes_per_device")
    print(f"{label:<46} {value if value is not None else float('nan'):>10.0f}")

if missed:
    print(f"\ntargets missed: {', '.join(missed)}")
sys.exit(1 if check and missed else 0)
PY
