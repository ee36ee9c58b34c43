#!/usr/bin/env bash
# Regenerates the golden outputs of `kestrel simulate` and `kestrel explain`
# under testdata/small/ (simulate.golden.{json,txt},
# simulate.most_allocated.golden.json, explain.<pod>.golden.{json,txt}).
#
#   tools/update_golden.sh
#
# It runs `bazel run //sim:golden_test -- --update`: the golden test renders
# every case through the same library calls as the binary (wall-clock figures
# left out) and writes the result into the source tree instead of comparing.
# The hand-checked tests in sim/golden_test.cc (placements and scores worked
# out from upstream kube-scheduler's formulas) still run and must pass.
#
# A golden is a claim about upstream semantics: before committing, read
# `git diff testdata/` and check each changed placement, score and message
# against kube-scheduler by hand. Add a case by listing it in GoldenCases()
# in sim/golden_test.cc and running this script once.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bazel run //sim:golden_test -- --update "$@"
git status --short testdata/ || true
