#!/usr/bin/env bash
# Runs the VouchKit benchmarks once and prints each one's throughput as a ratio to raw Ed25519
# verify measured in the same run, two ways (README.md says why): against the "Ed25519 raw verify
# (baseline)" benchmark, and against the raw verifies bracketing each iteration ("paired"), on
# which the issue's targets are judged:
#   vc+jwt full verification        >= 0.85
#   telemetry envelope verification >= 0.90
#
# Usage: ./ratios.sh [--check] [--keep DIR] [other options for `swift package benchmark`]
#   --check     exit 1 when a target is missed
#   --keep DIR  keep the JMH export in DIR instead of a temporary folder
# A --filter must still match the baseline.
set -euo pipefail
cd "$(dirname "$0")"

source ./options.sh

swift package --disable-sandbox benchmark --format jmh --path "$out" --no-progress ${passthrough[@]+"${passthrough[@]}"}

python3 - "$out" "$check" <<'PY'
import glob, json, math, re, sys

folder, check = sys.argv[1], sys.argv[2] == "1"
files = glob.glob(f"{folder}/*.jmh.json")
if len(files) != 1:
    sys.exit(f"expected one JMH export in {folder}, found {files}")

BASELINE = "Ed25519 raw verify (baseline)"
SECOND_RAW = "telemetry parts: Ed25519 raw verify of the envelope"
TARGETS = {"vc+jwt full verification": 0.85, "telemetry envelope verification": 0.90}
# The order to print in; benchmarks not listed follow in name order.
ORDER = [
    BASELINE,
    "vc+jwt full verification",
    "vc+jwt full verification, cold key cache",
    "vp+jwt verification (1 credential)",
    "telemetry envelope verification",
    "inclusion proof 2^24",
    "status-list check",
    "vc+jwt parts: Foundation trimmingCharacters (replaced)",
    "vc+jwt parts: CompactJWS(parsing:)",
    "vc+jwt parts: Credential(payload:)",
    "vc+jwt parts: did:key resolve",
    "vc+jwt parts: PublicKey.isValidSignature direct",
    "vc+jwt parts: JWS.verify",
    "vc+jwt parts: jwt-kit JWTKeyCollection + add(eddsa:)",
    "vc+jwt parts: jwt-kit verify, reused collection",
    "vc+jwt parts: jwt-kit parse + decode, no signature",
    "vc+jwt parts: verifier, no policy",
    "vc+jwt parts: verifier, MediaTypePolicy only",
    "vc+jwt parts: verifier, SignaturePolicy only",
    "vc+jwt parts: verifier, ValidityPolicy only",
    "vc+jwt parts: verifier, TrustedIssuerPolicy only",
    "vc+jwt parts: verifier, StatusPolicy only",
    SECOND_RAW,
    "telemetry parts: PublicKey.isValidSignature direct",
    "telemetry parts: JWS.verify",
    "telemetry parts: CompactJWS(parsing:)",
    "telemetry parts: claims JSON decode",
    "telemetry parts: ReplayGuard.accept",
]
PREFIX = re.compile(r"^package\.benchmark\.[^.]+\.")
OPS = re.compile(r" \(ops: (\d+)\)$")

PAIRED = "Ratio to Ed25519 verify x1000"

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
    # The export gives µs per iteration; an iteration runs `ops` operations.
    median = wall["scorePercentiles"]["50.0"] / ops
    malloc = secondary.get("Malloc (total)")
    mallocs = malloc["scorePercentiles"]["50.0"] / ops if malloc else math.nan
    paired = secondary.get(PAIRED)
    paired = paired["scorePercentiles"]["50.0"] / 1000 if paired else math.nan
    rows[name] = (median, mallocs, paired)

if BASELINE not in rows:
    sys.exit(f"the run has no '{BASELINE}'; ratios need it")
base_median = rows[BASELINE][0]

def order(name):
    return (ORDER.index(name), "") if name in ORDER else (len(ORDER), name)

width = max(len(name) for name in rows)
print()
print(f"Throughput as a ratio to raw Ed25519 verify, from this run (1 = as fast as a bare verify, higher is faster).")
print(f"  vs baseline: median time of '{BASELINE}' / median time per operation here.")
print("  paired:      median over iterations of (raw verifies timed just before and after the iteration) / (its time")
print("               per operation); immune to the machine's speed drifting between benchmarks. Targets use it.")
print()
print(f"{'benchmark':<{width}}  {'µs/op':>9}  {'ops/s':>11}  {'vs baseline':>11}  {'paired':>9}  {'mallocs/op':>10}  target")
missed = []
in_parts = False
for name in sorted(rows, key=order):
    median, mallocs, paired = rows[name]
    if " parts: " in name and not in_parts:
        in_parts = True
        print("-- where the time goes --")
    target = ""
    if name in TARGETS:
        goal = TARGETS[name]
        ok = paired >= goal
        target = f">= {goal:.2f} {'met' if ok else 'MISSED'}"
        if not ok:
            missed.append(name)
    print(f"{name:<{width}}  {median:>9.3f}  {1e6 / median:>11,.0f}  {base_median / median:>11.3f}  {paired:>9.3f}  {mallocs:>10.1f}  {target}")

print()
print(f"pairing check: the baseline's paired ratio is {rows[BASELINE][2]:.3f} (exactly 1 would be perfect).")
if SECOND_RAW in rows:
    # Two raw Ed25519 verifies of similar messages, run apart: how far apart their medians are shows
    # how much the machine's speed moved between benchmarks, which only the 'vs baseline' column feels.
    other = rows[SECOND_RAW][0]
    drift = abs(other - base_median) / min(other, base_median)
    print(f"drift check: two raw verifies run apart took {base_median:.1f} and {other:.1f} µs ({drift:.0%} apart).")
missing = [name for name in TARGETS if name not in rows]
if missing:
    print(f"\nnot run: {', '.join(missing)}")
if missed:
    print(f"\ntargets missed: {', '.join(missed)}")
sys.exit(1 if check and missed else 0)
PY
