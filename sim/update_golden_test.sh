#!/usr/bin/env bash
# tools/update_golden.sh (`golden_test --update`) writes the goldens only when
# every test of //sim:golden_test ran and passed: a failing hand-checked test
# must leave every golden as it was.
#
# Each case runs the golden test in --update mode on a writable copy of
# testdata/ (BUILD_WORKSPACE_DIRECTORY points at the copy), after planting a
# stale golden, and checks whether it was rewritten.
#
# Usage (as the sh_test does): update_golden_test.sh path/to/golden_test
set -uo pipefail

GOLDEN_TEST="$(pwd)/${1:?usage: $0 path/to/golden_test}"
ORIGINAL="$(pwd)/testdata"
TMP="${TEST_TMPDIR:-$(mktemp -d)}"
STALE=testdata/small/explain.with-init.golden.txt

failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# fresh_workspace NAME: a writable copy of testdata/ with one stale golden;
# leaves the copy's path in $ws.
fresh_workspace() {
  ws="${TMP}/$1"
  rm -rf "${ws}"
  mkdir -p "${ws}"
  cp -RL "${ORIGINAL}" "${ws}/testdata"
  chmod -R u+w "${ws}"
  echo "stale" >"${ws}/${STALE}"
}

# update ARGS...: golden_test --update in $ws; status in $status, output in $log.
update() {
  log="${ws}.log"
  (cd "${ws}" && BUILD_WORKSPACE_DIRECTORY="${ws}" "${GOLDEN_TEST}" --update "$@") \
    >"${log}" 2>&1
  status=$?
}

expect_untouched() {
  if [[ "$(cat "${ws}/${STALE}")" != "stale" ]]; then
    fail "$1: ${STALE} was rewritten"
  fi
  if ! grep -q "not writing .* golden file(s), all left as they were" "${log}"; then
    fail "$1: no refusal message"
    tail -5 "${log}"
  fi
  if [[ ${status} -eq 0 ]]; then
    fail "$1: exit status 0, want non-zero"
  fi
}

# 1. Inputs as checked in: every test passes, the goldens are written, and
#    they are the checked-in bytes.
fresh_workspace pass
update
if [[ ${status} -ne 0 ]]; then
  fail "unchanged inputs: exit status ${status}"
  tail -20 "${log}"
fi
if ! diff -r "${ORIGINAL}" "${ws}/testdata" >/dev/null; then
  fail "unchanged inputs: the written goldens differ from the checked-in ones"
  diff -r "${ORIGINAL}" "${ws}/testdata" | head -20
fi

# 2. node-gpu gets 8 cpus instead of 4 (in the YAML cluster and its JSON
#    twin alike): every golden still renders, but the hand-worked scores of
#    HandCheckedTest no longer hold. Nothing may be written.
fresh_workspace hand_checked_fails
sed -i 's|^  allocatable: {cpu: "4", memory: 16Gi, pods: "110", example.com/gpu: "2"}$|  allocatable: {cpu: "8", memory: 16Gi, pods: "110", example.com/gpu: "2"}|' \
  "${ws}/testdata/small/cluster.yaml"
awk '/"name": "node-gpu"/ {gpu = 1}
     gpu && /"allocatable"/ {alloc = 1}
     gpu && alloc && /"cpu": "4"/ {sub(/"cpu": "4"/, "\"cpu\": \"8\""); gpu = 0; alloc = 0}
     {print}' "${ORIGINAL}/small/cluster.json" >"${ws}/testdata/small/cluster.json"
if cmp -s "${ORIGINAL}/small/cluster.yaml" "${ws}/testdata/small/cluster.yaml" ||
   cmp -s "${ORIGINAL}/small/cluster.json" "${ws}/testdata/small/cluster.json"; then
  fail "could not edit node-gpu's allocatable cpu in the copy"
fi
update
expect_untouched "a hand-checked test fails"
if ! grep -q '^\[  FAILED  \] HandCheckedTest\.' "${log}"; then
  fail "a hand-checked test fails: no HandCheckedTest failed"
fi
if grep '^\[  FAILED  \] ' "${log}" | grep -v 'listed below' | grep -v -q 'HandCheckedTest\.'; then
  fail "a hand-checked test fails: tests other than HandCheckedTest failed"
  grep '^\[  FAILED  \] ' "${log}"
fi

# 3. A filter that leaves the hand-checked tests out: nothing may be written.
fresh_workspace filtered
update --gtest_filter='Testdata/GoldenTest.*'
expect_untouched "hand-checked tests filtered out"

echo "${failures} failure(s)"
[[ ${failures} -eq 0 ]]
