#!/usr/bin/env bash
# `kestrel simulate --report=FILE.html` opened in a real browser: Debian's
# chromium, headless, on the file:// URL, with the DOM dumped after the
# page's script ran. Checks that the script drew the charts (one utilization
# cell per node, the reason bars, the spread table, the pod links) and that
# the URL fragment #pod=NS/NAME shows that pod's explain record without a
# click. A screenshot of each page is kept in $TEST_UNDECLARED_OUTPUTS_DIR.
#
# tools/bootstrap.sh installs chromium for this test; without it the test
# fails (it does not skip), so CI cannot pass without a browser.
#
#   bazel test //sim:html_report_browser_test
set -euo pipefail

kestrel="$1"
out="${TEST_UNDECLARED_OUTPUTS_DIR:-${TEST_TMPDIR}}"
work="${TEST_TMPDIR}/browser"
mkdir -p "${work}"
export HOME="${work}/home"
mkdir -p "${HOME}"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

chromium_bin="$(command -v chromium || true)"
[[ -n "${chromium_bin}" ]] || fail "chromium is not installed (tools/bootstrap.sh installs it)"

nodes=60
"${kestrel}" generate --workload=Demo --nodes="${nodes}" --init-pods=60 --pods=150 --seed=1 \
  >"${work}/cluster.yaml"
report="${work}/report.html"
"${kestrel}" simulate --cluster="${work}/cluster.yaml" --output=json --report="${report}" \
  >"${work}/simulate.json"
[[ -s "${report}" ]] || fail "no report written"

# The first pod in scheduling order is always explained (the sample takes
# every k-th from the first); the first unschedulable one too. In the JSON
# output each placement's keys are sorted: node comes before pod.
first_pod=$(grep -m 1 '"pod": ' "${work}/simulate.json" | sed 's/.*"pod": "\([^"]*\)".*/\1/')
unschedulable_pod=$(awk '/"node": null/ {n = 1} /"node": "/ {n = 0}
  /"pod": / { if (n) { sub(/.*"pod": "/, ""); sub(/".*/, ""); print; exit } }' "${work}/simulate.json")
[[ -n "${first_pod}" ]] || fail "no placement in the JSON output"
[[ -n "${unschedulable_pod}" ]] || fail "the Demo workload left no pod unschedulable"

# render NAME FRAGMENT: dumps the DOM to $work/NAME.html and a screenshot to
# $out/NAME.png. Each run gets its own profile directory.
render() {
  local name=$1 fragment=$2
  local flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
    --disable-background-networking --disable-component-update --disable-sync
    --disable-dev-shm-usage --virtual-time-budget=10000)
  timeout 120 "${chromium_bin}" "${flags[@]}" --user-data-dir="$(mktemp -d -p "${work}")" \
    --dump-dom "file://${report}${fragment}" >"${work}/${name}.html" 2>"${work}/${name}.log" ||
    { cat "${work}/${name}.log" >&2; fail "chromium --dump-dom failed on ${name}"; }
  timeout 120 "${chromium_bin}" "${flags[@]}" --user-data-dir="$(mktemp -d -p "${work}")" \
    --window-size=1400,3000 --screenshot="${out}/${name}.png" "file://${report}${fragment}" \
    >>"${work}/${name}.log" 2>&1 ||
    { cat "${work}/${name}.log" >&2; fail "chromium --screenshot failed on ${name}"; }
  [[ -s "${out}/${name}.png" ]] || fail "no screenshot for ${name}"
}

# count FILE PATTERN: how many times PATTERN (a fixed string) occurs.
count() { { grep -oF -- "$2" "$1" || true; } | wc -l; }

render first "#pod=${first_pod}"
dom="${work}/first.html"
grep -qF 'data-rendered="true"' "${dom}" || fail "the page's script did not finish (data-rendered is not true)"
cells=$(count "${dom}" 'class="cell"')
((cells == nodes)) || fail "utilization map: ${cells} cells, want one per node (${nodes})"
bars=$(count "${dom}" 'class="bar"')
((bars >= 1)) || fail "no bar in the reasons chart"
grep -qF 'id="reason-chart"' "${dom}" || fail "no reasons chart"
grep -qF 'id="spread-table"' "${dom}" || fail "no spread table"
grep -qF "href=\"#pod=" "${dom}" || fail "no pod links (the click path)"
grep -qF 'class="card"' "${dom}" || fail "no summary cards"
grep -qF "data-pod=\"${first_pod}\"" "${dom}" || fail "#pod=${first_pod} did not select the pod"
grep -qF 'id="explain-record"' "${dom}" || fail "no explain record shown for ${first_pod}"
if ! grep -q "\"node\": null" <(grep -B3 -m1 "\"pod\": \"${first_pod}\"" "${work}/simulate.json"); then
  grep -qF 'id="top-nodes"' "${dom}" || fail "no top-scored nodes for the placed pod ${first_pod}"
  grep -qF '(selected)' "${dom}" || fail "the selected node is not marked among the top nodes"
fi

render unschedulable "#pod=${unschedulable_pod}"
dom="${work}/unschedulable.html"
grep -qF "data-pod=\"${unschedulable_pod}\"" "${dom}" || fail "#pod=${unschedulable_pod} did not select the pod"
grep -qF 'id="explain-record"' "${dom}" || fail "no explain record for ${unschedulable_pod}"
grep -qF 'none (unschedulable)' "${dom}" || fail "the record does not say the pod was not placed"
grep -qF 'nodes are available' "${dom}" || fail "the record does not show the FitError message"

echo "PASS: ${cells} cells, ${bars} bars; records of ${first_pod} and ${unschedulable_pod}; screenshots in ${out}"
