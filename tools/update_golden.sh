#!/usr/bin/env bash
# Regenerates the golden outputs of `kestrel simulate` and `kestrel explain`
# under testdata/ (the cases listed in GoldenCases() in sim/golden_test.cc:
# simulate.golden.*, explain.<pod>.golden.* in small/ and plugins/, and the
# preemption/ and critical/ scenarios).
#
#   tools/update_golden.sh
#
# It runs `bazel run //sim:golden_test -- --update`: the golden test renders
# every case through the same library calls as the binary (wall-clock figures
# left out) instead of comparing, and runs every other test as usual: the
# hand-checked tests (placements and scores worked out from upstream
# kube-scheduler's formulas) and the JSON-twin comparisons. Only when every
# test ran and passed are the goldens written; otherwise none is, and the
# script exits non-zero. A --gtest_filter that leaves tests out is refused
# for the same reason. (//sim:update_golden_test checks this.)
#
# A golden is a claim about upstream semantics: before committing, read
# `git diff testdata/` and check each changed placement, score and message
# against kube-scheduler by hand; a golden whose scores no hand-checked test
# anchors needs one. Add a case by listing it in GoldenCases() in
# sim/golden_test.cc and running this script once.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bazel run //sim:golden_test -- --update "$@"
git status --short testdata/ || true
