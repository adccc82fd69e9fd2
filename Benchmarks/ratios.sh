#!/usr/bin/env bash
# Runs the VouchKit benchmarks once and prints each one's throughput as a ratio to raw Ed25519
# verify ("Ed25519 raw verify (baseline)") measured in the same run, with the issue's targets:
#   vc+jwt full verification        >= 0.85
#   telemetry envelope verification >= 0.90
#
# Usage: ./ratios.sh [--check] [--keep DIR] [other options for `swift package benchmark`]
#   --check     exit 1 when a target is missed
#   --keep DIR  keep the JMH export in DIR instead of a temporary folder
# A --filter must still match the baseline.
set -euo pipefail
cd "$(dirname "$0")"

check=0
keep=""
passthrough=()
while [ $# -gt 0 ]; do
    case "$1" in
        --check) check=1 ;;
        --keep) keep="$2"; shift ;;
        *) passthrough+=("$1") ;;
    esac
    shift
done

if [ -n "$keep" ]; then
    mkdir -p "$keep"
    out="$(cd "$keep" && pwd)"
else
    out="$(mktemp -d)"
    trap 'rm -rf "$out"' EXIT
fi

swift package --disable-sandbox benchmark --format jmh --path "$out" --no-progress ${passthrough[@]+"${passthrough[@]}"}

python3 - "$out" "$check" <<'PY'
import glob, json, re, sys

folder, check = sys.argv[1], sys.argv[2] == "1"
files = glob.glob(f"{folder}/*.jmh.json")
if len(files) != 1:
    sys.exit(f"expected one JMH export in {folder}, found {files}")

BASELINE = "Ed25519 raw verify (baseline)"
TARGETS = {"vc+jwt full verification": 0.85, "telemetry envelope verification": 0.90}
PREFIX = re.compile(r"^package\.benchmark\.[^.]+\.")
OPS = re.compile(r" \(ops: (\d+)\)$")

rows = {}
for element in json.load(open(files[0])):
    # The exporter writes the name with spaces as underscores; no benchmark name has an underscore.
    name = PREFIX.sub("", element["benchmark"]).replace("_", " ")
    ops = 1
    match = OPS.search(name)
    if match:
        ops = int(match.group(1))
        name = name[: match.start()]
    secondary = element.get("secondaryMetrics") or {}
    wall = secondary.get("Time (wall clock)")
    if wall is None:
        sys.exit(f"{name}: no wall clock metric in the export")
    # Medians, in µs per iteration in the export; divided by the operations in an iteration.
    us_per_op = wall["scorePercentiles"]["50.0"] / ops
    malloc = secondary.get("Malloc (total)")
    mallocs_per_op = malloc["scorePercentiles"]["50.0"] / ops if malloc else float("nan")
    rows[name] = (us_per_op, mallocs_per_op, element["measurementIterations"] * ops)

if BASELINE not in rows:
    sys.exit(f"the run has no '{BASELINE}'; ratios need it")
base = rows[BASELINE][0]

def order(name):
    return (name != BASELINE, " parts: " in name, name.startswith("telemetry"), name)

width = max(len(name) for name in rows)
print()
print(f"Ratios to '{BASELINE}' in this run (median wall clock per operation; ratio = baseline time / time,")
print("the same as throughput / baseline throughput; higher is faster).")
print()
print(f"{'benchmark':<{width}}  {'µs/op':>10}  {'ops/s':>12}  {'ratio':>8}  {'mallocs/op':>10}  target")
missed = []
group = None
for name in sorted(rows, key=order):
    if order(name)[1] != group:
        group = order(name)[1]
        if group:
            print("-- where the time goes (parts of the paths above) --")
    us, mallocs, count = rows[name]
    ratio = base / us
    target = ""
    if name in TARGETS:
        goal = TARGETS[name]
        ok = ratio >= goal
        target = f">= {goal:.2f} {'met' if ok else 'MISSED'}"
        if not ok:
            missed.append(name)
    print(f"{name:<{width}}  {us:>10.3f}  {1e6 / us:>12,.0f}  {ratio:>8.3f}  {mallocs:>10.1f}  {target}")
missing = [name for name in TARGETS if name not in rows]
if missing:
    print(f"\nnot run: {', '.join(missing)}")
if missed:
    print(f"\ntargets missed: {', '.join(missed)}")
sys.exit(1 if check and missed else 0)
PY
