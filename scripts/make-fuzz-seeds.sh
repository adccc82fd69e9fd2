#!/usr/bin/env bash
# Writes the fuzzing seed corpus, Fuzz/corpus/<target>/ (issue 14): valid inputs made with the
# project's own code (certificates, CSRs, OCSP requests and answers, signed tokens, notes and
# checkpoints, status lists, policies, trust bundles) and inputs taken from the test vectors in
# Tests/VouchKitTests/Vectors, as Sources/VouchFuzz/FuzzSeeds.swift lists them.
#
# Run it when a target is added or an input format changes, then review and commit Fuzz/corpus.
# The ECDSA-signed seeds (the authority's certificates, OCSP answers) differ from run to run.
set -euo pipefail
cd "$(dirname "$0")/.."

swift build -j "${FUZZ_BUILD_JOBS:-1}" --scratch-path .build-fuzz-plain --product VouchFuzz
rm -rf Fuzz/corpus
.build-fuzz-plain/debug/VouchFuzz --make-seeds Fuzz/corpus
du -sh Fuzz/corpus
