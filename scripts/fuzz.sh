#!/usr/bin/env bash
# Fuzzes every parser of outside data with libFuzzer, each for a bounded time (issue 14).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Builds Sources/VouchFuzz with -sanitize=fuzzer,address, optimised, into .build-fuzz, then runs
# each target (all of them when none is named; `VOUCH_FUZZ_TARGET=list
# .build-fuzz/release/VouchFuzz` names them) for SECONDS_PER_TARGET seconds, 10 by default. Each
# run starts from the seeds in Fuzz/corpus/<target>/ and the inputs in Fuzz/regressions/<target>/;
# what the fuzzer adds goes to a temporary folder, never into git.
#
# Settings: FUZZ_BUILD_JOBS, the build's parallelism (1); FUZZ_CONFIGURATION=debug, a debug build
# (it builds in half the time but runs two to five times fewer inputs a second); FUZZ_SCRATCH_PATH,
# another build folder; FUZZ_KEEP_CORPUS=DIR keeps what the fuzzer adds under DIR/<target>/.
#
# A crash, timeout (10 s for one input) or out-of-memory (2 GiB) is saved as
# Fuzz/crashes/<target>/<kind>-<hash>, with libFuzzer's report beside it (.log). Reproduce it
# without sanitizers with `swift run VouchFuzz <target> <file>`; once fixed, move the input to
# Fuzz/regressions/<target>/, where the unit tests (Tests/VouchFuzzTests) replay it.
#
# Prints one line per target (runs, executions per second, coverage, new inputs, crashes) and
# exits 1 when a target crashed, 2 when the build or a run failed otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-10}
[[ $seconds =~ ^[0-9]+$ ]] || { echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2; exit 2; }
shift || true

build=${FUZZ_SCRATCH_PATH:-.build-fuzz}
mkdir -p "$build"
echo "building the fuzzing binary ($build, log in $build/fuzz-build.log)"
started=$SECONDS
configuration=${FUZZ_CONFIGURATION:-release}
if ! swift build -c "$configuration" -j "${FUZZ_BUILD_JOBS:-1}" --scratch-path "$build" --product VouchFuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING >"$build/fuzz-build.log" 2>&1; then
    grep -v "Cannot export local symbol" "$build/fuzz-build.log" | tail -40 >&2
    echo "the fuzzing build failed" >&2
    exit 2
fi
echo "built in $((SECONDS - started)) s"
binary=$build/$configuration/VouchFuzz

if (($#)); then
    targets=("$@")
else
    mapfile -t targets < <(VOUCH_FUZZ_TARGET=list "$binary")
fi

# Symbolized stack traces in the reports.
if [[ -z ${ASAN_SYMBOLIZER_PATH:-} ]]; then
    symbolizer=$(command -v llvm-symbolizer || true)
    [[ -z $symbolizer && -x "$(dirname "$(command -v swift)")/llvm-symbolizer" ]] && symbolizer="$(dirname "$(command -v swift)")/llvm-symbolizer"
    [[ -n $symbolizer ]] && export ASAN_SYMBOLIZER_PATH=$symbolizer
fi
# libFuzzer reports a trap itself; the Swift runtime's backtracer would only delay it.
export SWIFT_BACKTRACE=enable=no
# No leak detection: LeakSanitizer cannot follow the references Swift keeps in the spare bits of
# enum payloads (a Data in a certificate made once and kept is reported as leaked), and ARC frees
# what an input made when the input is done; a leak that grows shows as the 2 GiB limit.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The last number after NAME in libFuzzer's output, or "-".
figure() { grep -o "$1 *[0-9][0-9]*" "$2" | tail -1 | grep -o "[0-9]*$" || echo -; }

crashed=0
broken=0
failures=0
printf "%-24s %10s %8s %6s %5s %8s\n" target runs exec/s cov new crashes
for target in "${targets[@]}"; do
    if [[ ! -d Fuzz/corpus/$target ]]; then
        printf "%-24s no seeds in Fuzz/corpus/%s\n" "$target" "$target"
        broken=1
        failures=$((failures + 1))
        continue
    fi
    corpus=${FUZZ_KEEP_CORPUS:+$FUZZ_KEEP_CORPUS/$target}
    corpus=${corpus:-$work/corpus/$target}
    crashes=Fuzz/crashes/$target
    mkdir -p "$corpus" "$crashes"
    seeds=("Fuzz/corpus/$target")
    [[ -d Fuzz/regressions/$target ]] && seeds+=("Fuzz/regressions/$target")
    ls "$crashes" | sort >"$work/before"
    log=$work/$target.log
    status=0
    VOUCH_FUZZ_TARGET=$target "$binary" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -detect_leaks=0 \
        -print_final_stats=1 -artifact_prefix="$crashes/" "$corpus" "${seeds[@]}" >"$log" 2>&1 || status=$?
    mapfile -t artifacts < <(ls "$crashes" | sort | comm -13 "$work/before" - | grep -v '\.log$' || true)
    for artifact in "${artifacts[@]}"; do cp "$log" "$crashes/$artifact.log"; done
    found=${#artifacts[@]}
    printf "%-24s %10s %8s %6s %5s %8s\n" "$target" "$(figure stat::number_of_executed_units: "$log")" \
        "$(figure stat::average_exec_per_sec: "$log")" "$(figure cov: "$log")" "$(figure stat::new_units_added: "$log")" "$found"
    ((found || status)) && failures=$((failures + 1))
    if ((found)); then
        crashed=1
        grep -m1 -E "ERROR: libFuzzer|ERROR: AddressSanitizer|Fatal error|SUMMARY" "$log" | sed 's/^/    /' || true
        echo "    saved as $crashes/${artifacts[0]} (report: $crashes/${artifacts[0]}.log)"
    elif ((status)); then
        broken=1
        echo "    libFuzzer exited with status $status:" && tail -5 "$log" | sed 's/^/    /'
    fi
    rmdir "$crashes" 2>/dev/null || true
done
rmdir Fuzz/crashes 2>/dev/null || true
echo "fuzz: $((${#targets[@]} - failures)) passed, $failures failed"

((crashed)) && exit 1
((broken)) && exit 2
exit 0
