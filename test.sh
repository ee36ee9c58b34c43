#!/usr/bin/env bash
# Builds and runs every test, then the concurrency tests again under
# ThreadSanitizer. Installs missing Debian packages first, so it works on a
# fresh Debian 12 machine.
#
#   ./test.sh                          # bazel test //... ; then the TSan step
#   ./test.sh --test_filter=Quantity*  # extra flags go to `bazel test`
#   ./test.sh //sim/...                # given target patterns replace //...
#   ./test.sh -- //... -//bench/...    # so do patterns after --
#   TSAN=0 ./test.sh                   # without the TSan step
#
# The TSan step is `bazel test --config=tsan --test_tag_filters=concurrency`
# over the same targets: the tests tagged "concurrency" (those that run the
# thread pool with work on several threads), built with -fsanitize=thread
# into their own output tree (see .bazelrc).
#
# The full Bazel output is kept in out/test.log and out/test-tsan.log. The
# last line printed is always `N passed, M failed`, counting both steps; the
# exit status is non-zero on any test failure or build failure (a build
# failure counts as at least one failure), and when no test passed at all
# (then Bazel's summary no longer reads as this script expects).
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

# Bazel's summary has one line per test target:
#   //pkg:target    (cached) PASSED in 0.4s
#   //pkg:target    FLAKY, failed in 1 out of 2 in 0.9s
#   //pkg:target    FAILED in 0.5s | TIMEOUT in 60.0s | NO STATUS | FAILED TO BUILD | ...
summary_re='^(//|@)[^ ]+ +(\(cached\) )?'
passed=0
failed=0
status=0

# run_step LOG [bazel test flags...]: runs one `bazel test`, adds its summary
# lines to the counts. Bazel's exit status 4 (no test matched) is not a
# failure when the step may select none (the TSan step on targets without
# concurrency tests): pass ALLOW_NO_TESTS=1.
run_step() {
  local log=$1
  shift
  bazel test --keep_going --noshow_progress --color=no --curses=no \
    --test_summary=short "$@" 2>&1 | tee "${log}"
  local bazel_status=${PIPESTATUS[0]}
  local step_passed step_failed
  step_passed=$(grep -Ec "${summary_re}(PASSED|FLAKY)" "${log}")
  step_failed=$(grep -Ec "${summary_re}(FAILED|TIMEOUT|NO STATUS|INCOMPLETE|REMOTE FAILURE|BUILD HALTED)" "${log}")
  if [[ ${bazel_status} -eq 4 && ${ALLOW_NO_TESTS:-0} -eq 1 && ${step_failed} -eq 0 ]]; then
    bazel_status=0
  fi
  if [[ ${bazel_status} -ne 0 && ${step_failed} -eq 0 ]]; then
    # A build or analysis error that no test line accounts for, or no tests at all.
    echo "bazel test exited with status ${bazel_status}; see ${log}"
    step_failed=1
  fi
  passed=$((passed + step_passed))
  failed=$((failed + step_failed))
  [[ ${bazel_status} -eq 0 ]] || status=1
}

run_step out/test.log "$@" "${targets[@]}"

if [[ "${TSAN:-1}" != "0" ]]; then
  echo "--- the concurrency tests under ThreadSanitizer (out/test-tsan.log)"
  ALLOW_NO_TESTS=1 run_step out/test-tsan.log --config=tsan --build_tests_only \
    --test_tag_filters=concurrency "$@" "${targets[@]}"
fi

if [[ ${passed} -eq 0 && ${failed} -eq 0 ]]; then
  echo "no test passed: nothing ran, or Bazel's summary no longer matches; see out/test.log"
  failed=1
fi

echo "${passed} passed, ${failed} failed"
[[ ${failed} -eq 0 && ${status} -eq 0 ]]
