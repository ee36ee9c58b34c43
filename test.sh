#!/usr/bin/env bash
# Builds and runs every test. Installs missing Debian packages first, so it works
# on a fresh Debian 12 machine.
#
#   ./test.sh                          # bazel test //...
#   ./test.sh --test_filter=Quantity*  # extra flags go to `bazel test`
#   ./test.sh //sim/...                # given target patterns replace //...
#   ./test.sh -- //... -//bench/...    # so do patterns after --
#
# The full Bazel output is kept in out/test.log. The last line printed is
# always `N passed, M failed`; the exit status is non-zero on any test failure
# or build failure (a build failure counts as at least one failure).
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
tools/bootstrap.sh || { echo "0 passed, 1 failed"; exit 1; }

# Test everything unless the arguments name targets (or end the flags with --).
targets=(-- //...)
for arg in "$@"; do
  case "${arg}" in
    //* | @* | :* | --) targets=() ;;
  esac
done

# //:tests (BUILD.bazel) names every test target; a new one must be added there.
unlisted=$(bazel query --noshow_progress 'tests(//...) except tests(//:tests)' 2>/dev/null)
if [[ -n "${unlisted}" ]]; then
  echo "test targets missing from //:tests in BUILD.bazel:" ${unlisted}
  echo "0 passed, 1 failed"
  exit 1
fi

mkdir -p out
log=out/test.log
bazel test --keep_going --noshow_progress --color=no --curses=no \
  --test_summary=short "$@" "${targets[@]}" 2>&1 | tee "${log}"
bazel_status=${PIPESTATUS[0]}

# Bazel's summary has one line per test target:
#   //pkg:target    (cached) PASSED in 0.4s
#   //pkg:target    FLAKY, failed in 1 out of 2 in 0.9s
#   //pkg:target    FAILED in 0.5s | TIMEOUT in 60.0s | NO STATUS | FAILED TO BUILD | ...
summary_re='^(//|@)[^ ]+ +(\(cached\) )?'
passed=$(grep -Ec "${summary_re}(PASSED|FLAKY)" "${log}")
failed=$(grep -Ec "${summary_re}(FAILED|TIMEOUT|NO STATUS|INCOMPLETE|REMOTE FAILURE|BUILD HALTED)" "${log}")

if [[ ${bazel_status} -ne 0 && ${failed} -eq 0 ]]; then
  # A build or analysis error that no test line accounts for, or no tests at all.
  echo "bazel test exited with status ${bazel_status}; see ${log}"
  failed=1
fi

echo "${passed} passed, ${failed} failed"
[[ ${failed} -eq 0 && ${bazel_status} -eq 0 ]]
