#!/usr/bin/env bash
# Command-line contract of the `kestrel` binary (DESIGN.md section 7), run
# against the real binary:
#   - `simulate` and `explain` output shapes (text and JSON), and that they
#     equal the goldens in testdata/small (wall-clock lines removed);
#   - bad input: exit status 2, nothing on stdout, ONE line on stderr naming
#     the file, the object and the field; never a crash (status >= 128);
#   - usage errors (unknown flag or command, missing --cluster): status 2.
#
# Usage (as the sh_test does): kestrel_cli_test.sh path/to/kestrel
# Only bash and grep: no jq, no python.
set -uo pipefail

KESTREL="${1:?usage: $0 path/to/kestrel}"
SMALL=testdata/small
BAD=testdata/bad
CLUSTER="${SMALL}/cluster.yaml"
TMP="${TEST_TMPDIR:-$(mktemp -d)}"
OUT="${TMP}/stdout"
ERR="${TMP}/stderr"

failures=0
checks=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# run ARGS...: runs kestrel, leaves the status in $status, output in $OUT/$ERR.
run() {
  "${KESTREL}" "$@" >"${OUT}" 2>"${ERR}"
  status=$?
  last_cmd="kestrel $*"
}

show() {
  echo "  command: ${last_cmd}"
  echo "  status:  ${status}"
  echo "  stderr:"
  sed 's/^/    /' "${ERR}" | head -20
}

expect_status() {
  checks=$((checks + 1))
  if [[ ${status} -ne $1 ]]; then
    fail "${last_cmd}: exit status ${status}, want $1"
    show
  fi
  if [[ ${status} -ge 128 ]]; then
    fail "${last_cmd}: crashed (status ${status})"
  fi
}

# expect_key FILE PATTERN...: each PATTERN (an extended regex) matches a line.
expect_lines() {
  local file=$1
  shift
  local p
  for p in "$@"; do
    checks=$((checks + 1))
    if ! grep -Eq -- "${p}" "${file}"; then
      fail "${last_cmd}: no line matches /${p}/ in $(basename "${file}")"
      sed 's/^/    /' "${file}" | head -40
    fi
  done
}

expect_no_lines() {
  local file=$1
  shift
  local p
  for p in "$@"; do
    checks=$((checks + 1))
    if grep -Eq -- "${p}" "${file}"; then
      fail "${last_cmd}: unexpected line matching /${p}/ in $(basename "${file}")"
    fi
  done
}

# expect_same FILE GOLDEN: byte-for-byte equal.
expect_same() {
  checks=$((checks + 1))
  if ! cmp -s "$1" "$2"; then
    fail "${last_cmd}: output differs from $2"
    diff "$2" "$1" | head -40 | sed 's/^/    /'
  fi
}

# expect_input_error FIXED_STRING...: status 2, empty stdout, exactly one
# line on stderr, containing every FIXED_STRING.
expect_input_error() {
  expect_status 2
  checks=$((checks + 1))
  if [[ -s "${OUT}" ]]; then
    fail "${last_cmd}: wrote to stdout on error"
  fi
  checks=$((checks + 1))
  local lines
  lines=$(wc -l <"${ERR}")
  if [[ ${lines} -ne 1 ]]; then
    fail "${last_cmd}: ${lines} lines on stderr, want 1"
    show
  fi
  local s
  for s in "$@"; do
    checks=$((checks + 1))
    if ! grep -Fq -- "${s}" "${ERR}"; then
      fail "${last_cmd}: stderr does not name '${s}'"
      show
    fi
  done
}

# A known gap, checked strictly: reported while it persists, and a failure
# once fixed, so that the check is turned into expect_* then.
known_gap() {
  local what=$1 s=$2
  if grep -Fq -- "${s}" "${ERR}"; then
    fail "${last_cmd}: known gap fixed (${what}): turn it into a regular check"
  else
    echo "KNOWN GAP: ${last_cmd}: ${what}"
  fi
}

# Drops the wall-clock figures, as the goldens do.
strip_timing_json() { grep -Ev '^ *"(seconds|podsPerSecond)": ' "$1"; }
strip_timing_text() { grep -Ev '^(Wall time|Throughput): ' "$1"; }

# ---------------------------------------------------------------------------
# simulate

run simulate --cluster="${CLUSTER}" --output=json --threads=1
expect_status 0
expect_lines "${OUT}" \
  '^\{$' \
  '^  "placements": \[$' \
  '^      "pod": "default/web-1"$' \
  '^      "node": "node-gpu",?$' \
  '^      "node": null,$' \
  '^      "message": "0/5 nodes are available: .*\.",?$' \
  '^  "summary": \{$' \
  '^    "scheduled": 5,?$' \
  '^    "unschedulable": 1,?$' \
  '^    "seconds": [0-9.e-]+,?$' \
  '^    "podsPerSecond": [0-9.e+-]+,?$'
strip_timing_json "${OUT}" >"${TMP}/simulate.json"
expect_same "${TMP}/simulate.json" "${SMALL}/simulate.golden.json"

# The default thread count gives the same placements.
run simulate --cluster="${CLUSTER}" --output=json
expect_status 0
strip_timing_json "${OUT}" >"${TMP}/simulate.default_threads.json"
expect_same "${TMP}/simulate.default_threads.json" "${SMALL}/simulate.golden.json"

# A `kind: List` JSON file is read like the YAML stream.
run simulate --cluster="${SMALL}/cluster.json" --output=json --threads=1
expect_status 0
strip_timing_json "${OUT}" >"${TMP}/simulate.list.json"
expect_same "${TMP}/simulate.list.json" "${SMALL}/simulate.golden.json"

# --report writes the HTML report; stdout is the same JSON as without it.
run simulate --cluster="${CLUSTER}" --output=json --threads=1 --report="${TMP}/report.html" \
  --group-by=kubernetes.io/hostname
expect_status 0
strip_timing_json "${OUT}" >"${TMP}/simulate.report.json"
expect_same "${TMP}/simulate.report.json" "${SMALL}/simulate.golden.json"
expect_lines "${TMP}/report.html" '<script type="application/json" id="kestrel-data">\{' \
  '"groupBy":"kubernetes.io/hostname"'

run simulate --cluster="${CLUSTER}" --group-by=topology.kubernetes.io/zone
expect_input_error 'flag --group-by: needs --report'

run simulate --cluster="${CLUSTER}" --report=
expect_input_error 'flag --report: must name a file'

run simulate --cluster="${CLUSTER}" --report="${TMP}/no-such-dir/report.html"
expect_input_error "--report: cannot write ${TMP}/no-such-dir/report.html: No such file or directory"

run simulate --cluster="${CLUSTER}" --threads=1
expect_status 0
expect_lines "${OUT}" \
  '^default/web-1  -> node-gpu$' \
  '^default/big-batch  unschedulable: 0/5 nodes are available: ' \
  '^Cluster: +5 nodes, 5 pods already running$' \
  '^Wall time: +[0-9.]+ s$' \
  '^Throughput: +[0-9]+ pods/s$'
strip_timing_text "${OUT}" >"${TMP}/simulate.txt"
expect_same "${TMP}/simulate.txt" "${SMALL}/simulate.golden.txt"

run simulate --cluster="${CLUSTER}" --summary --threads=1
expect_status 0
expect_lines "${OUT}" '^Scheduled: +5$' '^Unschedulable: +1$'
expect_no_lines "${OUT}" ' -> '

run simulate --cluster="${CLUSTER}" --config="${SMALL}/most_allocated.yaml" --output=json --threads=1
expect_status 0
strip_timing_json "${OUT}" >"${TMP}/simulate.most.json"
expect_same "${TMP}/simulate.most.json" "${SMALL}/simulate.most_allocated.golden.json"

# --pods adds pending pods from a second file, after the cluster's.
run simulate --cluster="${CLUSTER}" --pods="${SMALL}/extra_pods.yaml" --output=json --threads=1
expect_status 0
expect_lines "${OUT}" '"pod": "default/extra-1"' '^    "scheduled": 6,?$'

# Pods bound to a node that is not in the file (a node deleted while its
# pods terminate): one warning per node on stderr, the pods count on no
# node, the rest schedules.
GONE="${SMALL}/missing_node.yaml"
run simulate --cluster="${GONE}" --threads=1
expect_status 0
expect_lines "${ERR}" \
  '^kestrel: warning: 2 pods are bound to node "node-gone", which is not in the cluster; they count on no node \(first: testdata/small/missing_node.yaml: Pod default/orphan\)$'
checks=$((checks + 1))
[[ $(wc -l <"${ERR}") -eq 1 ]] || fail "${last_cmd}: want one warning line on stderr"
expect_lines "${OUT}" \
  '^default/web  -> node-1$' \
  '^Cluster: +1 nodes, 1 pods already running, 2 on unknown nodes$'

run simulate --cluster="${GONE}" --output=json --threads=1
expect_status 0
expect_lines "${OUT}" '^      "node": "node-1",?$' '^    "onUnknownNodes": 2,?$'

run explain --cluster="${GONE}" --pod=default/web --threads=1
expect_status 0
expect_lines "${ERR}" '^kestrel: warning: 2 pods are bound to node "node-gone"'
expect_lines "${OUT}" '^Selected: node-1$'

# Workloads: expanded into pods; unknown kinds counted in one warning; the
# progress line stays off when stderr is not a terminal.
MIXED=testdata/workloads/mixed
run simulate --cluster="${MIXED}/cluster.yaml" --threads=1
expect_status 0
expect_lines "${ERR}" \
  '^kestrel: warning: skipped 2 objects of kinds we do not simulate: ConfigMap \(1\), Service \(1\)$'
checks=$((checks + 1))
[[ $(wc -l <"${ERR}") -eq 1 ]] || fail "${last_cmd}: want one line on stderr"
strip_timing_text "${OUT}" >"${TMP}/mixed.txt"
expect_same "${TMP}/mixed.txt" "${MIXED}/simulate.golden.txt"

run simulate --cluster="${MIXED}/cluster.yaml" --output=json --threads=1
expect_status 0
strip_timing_json "${OUT}" >"${TMP}/mixed.json"
expect_same "${TMP}/mixed.json" "${MIXED}/simulate.golden.json"

run simulate --cluster="${MIXED}/cluster.yaml" --scale=deployment/web=5 --scale=sts/db=1 --threads=1
expect_status 0
expect_lines "${OUT}" '^  deployment/web: 5 pods created$' '^  statefulset/db: 1 pod created$'

run simulate --cluster="${MIXED}/cluster.yaml" --scale=deployment/nope=3
expect_input_error 'flag --scale: "deployment/nope=3": no Deployment "nope" in the input files'

run simulate --cluster="${MIXED}/cluster.yaml" --scale=daemonset/agent=3
expect_input_error 'flag --scale: "daemonset/agent=3": KIND must be deployment, replicaset, statefulset or job'

run simulate --cluster="${BAD}/bad_replicas.yaml"
expect_input_error "${BAD}/bad_replicas.yaml" "Deployment default/web" "spec.replicas"

# ---------------------------------------------------------------------------
# explain

run explain --cluster="${CLUSTER}" --pod=default/with-init --output=json --threads=1
expect_status 0
expect_lines "${OUT}" \
  '^  "pod": "default/with-init",?$' \
  '^  "nodes": \{$' \
  '^    "node-a": \{$' \
  '^      "feasible": true,?$' \
  '^      "filters": \{$' \
  '^        "NodeResourcesFit": "passed",?$' \
  '^      "scores": \{$' \
  '^        "NodeResourcesBalancedAllocation": 68,?$' \
  '^      "total": 399,?$' \
  '^    "node-cordoned": \{$' \
  '^      "feasible": false,?$' \
  '^        "NodeUnschedulable": "node\(s\) were unschedulable",?$' \
  '^  "selected": "node-b",?$' \
  '^        "NodeAffinity": "skipped",?$' \
  '^      "skipped": \[$' \
  '^  "requests": \{$' \
  '^    "milliCPU": 3000,?$' \
  '^  "nonZeroRequests": \{$'
expect_same "${OUT}" "${SMALL}/explain.with-init.golden.json"

run explain --cluster="${CLUSTER}" --pod=default/with-init --threads=1
expect_status 0
expect_lines "${OUT}" \
  '^Requests: cpu 3000m, memory 1Gi, ephemeral-storage 0$' \
  '^Non-zero requests \(scoring\): cpu 3000m, memory 1Gi$' \
  '^  filter NodeAffinity: skipped$' \
  '^  score  NodeAffinity: skipped$'
expect_same "${OUT}" "${SMALL}/explain.with-init.golden.txt"

run explain --cluster="${CLUSTER}" --pod=default/big-batch --output=json --threads=1
expect_status 0
expect_lines "${OUT}" '^  "selected": null,?$' '^      "scores": \{\},?$'
expect_same "${OUT}" "${SMALL}/explain.big-batch.golden.json"

run explain --cluster="${CLUSTER}" --pod=default/big-batch --threads=1
expect_status 0
expect_lines "${OUT}" '^Selected: none: 0/5 nodes are available: '
expect_same "${OUT}" "${SMALL}/explain.big-batch.golden.txt"

# ---------------------------------------------------------------------------
# Bad input: status 2, one line naming the file, the object and the field.

run simulate --cluster="${BAD}/malformed.yaml"
expect_input_error "${BAD}/malformed.yaml:"
checks=$((checks + 1))
grep -Eq "^kestrel: ${BAD}/malformed.yaml:[0-9]+:[0-9]+: " "${ERR}" ||
  fail "${last_cmd}: no line:column in the message"

run simulate --cluster="${BAD}/bad_quantity.yaml"
expect_input_error "${BAD}/bad_quantity.yaml" "Pod default/web-1" \
  "spec.containers[0].resources.requests.cpu" '"1.5.5"'

run simulate --cluster="${BAD}/wrong_type.yaml"
expect_input_error "${BAD}/wrong_type.yaml" "Pod default/web-1" "spec.containers"

run simulate --cluster="${BAD}/bad_toleration.yaml"
expect_input_error "${BAD}/bad_toleration.yaml" "Pod default/web-1" \
  'spec.tolerations[0].operator: Unsupported value: "Maybe": supported values: "Equal", "Exists"'

run explain --cluster="${BAD}/bad_toleration.yaml" --pod=default/web-1
expect_input_error "${BAD}/bad_toleration.yaml" "spec.tolerations[0].operator"

run simulate --cluster="${BAD}/bad_affinity.yaml"
expect_input_error "${BAD}/bad_affinity.yaml" "Pod default/web-1" \
  "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values" \
  "Required value: must be specified single value when \`operator\` is 'Lt' or 'Gt'"

# What the API server refuses is an input error, with its message.
run simulate --cluster="${BAD}/bad_resources.yaml"
expect_input_error "${BAD}/bad_resources.yaml" "Pod default/web-1" \
  'spec.containers[0].resources.requests[cpu]: Invalid value: "-1": must be greater than or equal to 0'

run explain --cluster="${BAD}/bad_resources.yaml" --pod=default/web-1
expect_input_error "${BAD}/bad_resources.yaml" "Pod default/web-1" "requests[cpu]"

run simulate --cluster="${BAD}/bad_request_over_limit.yaml"
expect_input_error "${BAD}/bad_request_over_limit.yaml" "Pod default/web-1" \
  'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1500m'

run simulate --cluster="${BAD}/bad_name.yaml"
expect_input_error "${BAD}/bad_name.yaml" "Pod default/Bad_Name!" \
  'metadata.name: Invalid value: "Bad_Name!": a lowercase RFC 1123 subdomain must consist of'

run simulate --cluster="${BAD}/bad_label.yaml"
expect_input_error "${BAD}/bad_label.yaml" "Node node-1" \
  'metadata.labels: Invalid value: "eu west": a valid label must be an empty string'

run simulate --cluster="${BAD}/bad_pod_affinity.yaml"
expect_input_error "${BAD}/bad_pod_affinity.yaml" "Pod default/web-1" \
  "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchExpressions[0].operator" \
  '"Near"'

run simulate --cluster="${BAD}/bad_spread.yaml"
expect_input_error "${BAD}/bad_spread.yaml" "Pod default/web-1" \
  "spec.topologySpreadConstraints[0].whenUnsatisfiable" '"Sometimes"'

run simulate --cluster="${BAD}/bad_taints_annotation.yaml"
expect_input_error "${BAD}/bad_taints_annotation.yaml" "Node node-1" \
  "metadata.annotations[scheduler.alpha.kubernetes.io/taints]"

run simulate --cluster="${BAD}/duplicate_namespace.yaml"
expect_input_error "${BAD}/duplicate_namespace.yaml" "metadata.name" "Duplicate" '"team-a"'

run simulate --cluster="${BAD}/duplicate_priority_class.yaml"
expect_input_error "${BAD}/duplicate_priority_class.yaml" "PriorityClass gold" "metadata.name" \
  "Duplicate" '"gold"'

run simulate --cluster="${BAD}/bad_priority_class.yaml"
expect_input_error "${BAD}/bad_priority_class.yaml" "PriorityClass huge" "value" \
  "maximum allowed value of a user defined priority is 1000000000"

run simulate --cluster="${CLUSTER}" --alpha-annotations=maybe
expect_input_error "--alpha-annotations" '"maybe"'

run simulate --cluster="${BAD}/bad_taint.yaml"
expect_input_error "${BAD}/bad_taint.yaml" "Node node-1" \
  'spec.taints[0].effect: Unsupported value: "Never": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"'

run simulate --cluster="${BAD}/duplicate_node.yaml"
expect_input_error "${BAD}/duplicate_node.yaml" "Node node-1" "metadata.name" "Duplicate"

# The second file's pod duplicates one of the cluster's.
run simulate --cluster="${CLUSTER}" --pods="${BAD}/duplicate_pod.yaml"
expect_input_error "${BAD}/duplicate_pod.yaml" "Pod default/web-1" "metadata.name" "Duplicate"

run simulate --cluster="${BAD}/does_not_exist.yaml"
expect_input_error "${BAD}/does_not_exist.yaml"

run simulate --cluster="${CLUSTER}" --pods="${BAD}/does_not_exist.yaml"
expect_input_error "${BAD}/does_not_exist.yaml"

run explain --cluster="${CLUSTER}" --pod=default/no-such-pod
expect_input_error "--pod" '"default/no-such-pod"'

# A bound pod is not a candidate for explain.
run explain --cluster="${CLUSTER}" --pod=default/db-0
expect_input_error "--pod" '"default/db-0"'

run simulate --cluster="${CLUSTER}" --config="${BAD}/bad_api_version.yaml"
expect_input_error "${BAD}/bad_api_version.yaml" "apiVersion" \
  '"kubescheduler.config.k8s.io/v1beta9"'

run simulate --cluster="${CLUSTER}" --config="${BAD}/unknown_plugin.yaml"
expect_input_error "${BAD}/unknown_plugin.yaml" "profiles[0]" '"NoSuchPlugin"'

run explain --cluster="${CLUSTER}" --pod=default/web-1 --config="${BAD}/unknown_plugin.yaml"
expect_input_error '"NoSuchPlugin"'

run simulate --cluster="${CLUSTER}" --config="${BAD}/malformed_config.yaml"
expect_input_error "${BAD}/malformed_config.yaml:"

run simulate --cluster="${CLUSTER}" --config="${BAD}/does_not_exist.yaml"
expect_input_error "${BAD}/does_not_exist.yaml"

run simulate --cluster="${BAD}/bad_pdb.yaml"
expect_input_error "${BAD}/bad_pdb.yaml" "PodDisruptionBudget default/db" \
  "status.disruptionsAllowed" "-1"

run simulate --cluster="${BAD}/duplicate_pdb.yaml"
expect_input_error "${BAD}/duplicate_pdb.yaml" "PodDisruptionBudget default/db" "metadata.name" \
  "Duplicate"

run simulate --cluster="${CLUSTER}" --rescheduler=maybe
expect_input_error "--rescheduler" '"maybe"'

run simulate --cluster="${CLUSTER}" --initial-delay=soon
expect_input_error "--initial-delay" '"soon"'

run simulate --cluster="${CLUSTER}" --housekeeping-interval=0s
expect_input_error "--housekeeping-interval"

run simulate --cluster="${CLUSTER}" --output=xml
expect_input_error "--output" '"xml"'

run simulate --cluster="${CLUSTER}" --seed=abc
expect_input_error "--seed"

run simulate --cluster="${CLUSTER}" --threads=-1
expect_input_error "--threads"

# ---------------------------------------------------------------------------
# Node affinity the API server accepts and the scheduler cannot parse: valid
# input; a required term matches no node, a preferred one fails PreScore
# where there are nodes to score.

PARSE=testdata/affinity-parse-errors/cluster.yaml
run simulate --cluster="${PARSE}" --threads=1
expect_status 0
expect_lines "${OUT}" \
  '^default/not-in-bad-value  unschedulable: 0/2 nodes are available: 2 node\(s\) didn.t match Pod.s node affinity/selector\. ' \
  '^default/gt-word-or-zone-b  -> node-b$' \
  '^default/preferred-bad-value  unschedulable: running PreScore plugin "NodeAffinity": \[0\]\.matchExpressions\[0\]\.values\[0\]\[zone\]: Invalid value: "a b": a valid label must be an empty string' \
  '^default/preferred-bad-value-one-node  -> node-a$'

# ---------------------------------------------------------------------------
# The critical-addon rescheduler: on by default, off by flag; its flags.

KUBE_DNS=testdata/critical/kube-dns/cluster.yaml
run simulate --cluster="${KUBE_DNS}" --output=json
expect_status 0
expect_lines "${OUT}" '"pod": "kube-system/kube-dns"' '"default/batch-1"' \
  '"reason": "DeletedByRescheduler"'

run simulate --cluster="${KUBE_DNS}" --rescheduler=false
expect_status 0
expect_lines "${OUT}" '^kube-system/kube-dns  unschedulable: ' '^Evicted: +0$'
expect_no_lines "${OUT}" 'DeletedByRescheduler'

# kube-dns is critical by annotation only in the system namespace.
run simulate --cluster="${KUBE_DNS}" --system-namespace=addons
expect_status 0
expect_lines "${OUT}" '^kube-system/kube-dns  unschedulable: '

# A longer initial delay moves every action later in virtual time.
run simulate --cluster="${KUBE_DNS}" --initial-delay=5m --housekeeping-interval=30s
expect_status 0
expect_lines "${OUT}" '^  \+5m30s  Pod default/batch-1  Normal DeletedByRescheduler: '

# ---------------------------------------------------------------------------
# kestrel rescheduler: its flags and where the API server is. (Passes
# against a server are tested in //rescheduler:api_host_test.)

run rescheduler --kubeconfig="${TMP}/no-such-kubeconfig"
expect_input_error "${TMP}/no-such-kubeconfig"

printf 'current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\nclusters: []\n' \
  >"${TMP}/kubeconfig"
run rescheduler --kubeconfig="${TMP}/kubeconfig"
expect_input_error "${TMP}/kubeconfig" 'clusters: no entry named "k"'

run rescheduler --kubeconfig="${TMP}/kubeconfig" --pod-scheduled-timeout=later
expect_input_error "--pod-scheduled-timeout" '"later"'

run rescheduler --kubeconfig="${TMP}/kubeconfig" --passes=-1
expect_input_error "--passes"

# The client's limits: flags over the config's clientConnection.
run rescheduler --kubeconfig="${TMP}/kubeconfig" --kube-api-qps=fast
expect_input_error "--kube-api-qps" '"fast"'

run rescheduler --kubeconfig="${TMP}/kubeconfig" --kube-api-burst=-1
expect_input_error "clientConnection.burst: Invalid value: -1: must be non-negative"

printf 'apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nclientConnection: {kubeconfig: "%s", burst: -2}\n' \
  "${TMP}/kubeconfig" >"${TMP}/client-config.yaml"
run rescheduler --config="${TMP}/client-config.yaml"
expect_input_error "${TMP}/client-config.yaml: clientConnection.burst: Invalid value: -2: must be non-negative"

# Without --kubeconfig, the config's clientConnection.kubeconfig is read.
printf 'apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nclientConnection: {kubeconfig: "%s"}\n' \
  "${TMP}/kubeconfig" >"${TMP}/client-config.yaml"
run rescheduler --config="${TMP}/client-config.yaml"
expect_input_error "${TMP}/kubeconfig" 'clusters: no entry named "k"'

# Outside a pod and without --kubeconfig there is no server to talk to.
KUBERNETES_SERVICE_HOST= run rescheduler
expect_input_error "KUBERNETES_SERVICE_HOST"

# A server that is not there: an error naming the request, status 1.
printf 'current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\nclusters: [{name: k, cluster: {server: "http://127.0.0.1:1"}}]\n' \
  >"${TMP}/kubeconfig-down"
run rescheduler --kubeconfig="${TMP}/kubeconfig-down" --passes=1
expect_status 1
expect_lines "${ERR}" "^kestrel: reflector .*: failed to list: GET /ap.*Couldn't connect to server"

# ---------------------------------------------------------------------------
# kestrel scheduler: bad input is refused before anything starts, one line
# and status 2. (Scheduling against a server is tested in //host and
# //cmd:scheduler_leader_test.)

sched_config() {  # sched_config FILE YAML-BODY: a KubeSchedulerConfiguration
  printf 'apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n%s\n' "$2" >"$1"
}

printf 'apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles: [\n' \
  >"${TMP}/sched-malformed.yaml"
run scheduler --config="${TMP}/sched-malformed.yaml" --kubeconfig="${TMP}/kubeconfig-down"
expect_input_error "${TMP}/sched-malformed.yaml"

sched_config "${TMP}/sched-plugin.yaml" \
  "profiles: [{schedulerName: default-scheduler, plugins: {filter: {enabled: [{name: NoSuchPlugin}]}}}]"
run scheduler --config="${TMP}/sched-plugin.yaml" --kubeconfig="${TMP}/kubeconfig-down"
expect_input_error "${TMP}/sched-plugin.yaml" 'plugin "NoSuchPlugin" does not exist'

sched_config "${TMP}/sched-le.yaml" "leaderElection: {leaseDuration: 1s, renewDeadline: 2s}"
run scheduler --config="${TMP}/sched-le.yaml" --kubeconfig="${TMP}/kubeconfig-down"
expect_input_error "${TMP}/sched-le.yaml" "leaderElection.leaseDuration: Invalid value"

sched_config "${TMP}/sched-le.yaml" "leaderElection: {retryPeriod: soon}"
run scheduler --config="${TMP}/sched-le.yaml" --kubeconfig="${TMP}/kubeconfig-down"
expect_input_error "${TMP}/sched-le.yaml" 'leaderElection.retryPeriod: time: invalid duration "soon"'

run scheduler --kubeconfig="${TMP}/kubeconfig-down" --leader-elect=maybe
expect_input_error '--leader-elect' '"maybe"'

run scheduler --kubeconfig="${TMP}/kubeconfig-down" --secure-port=70000
expect_input_error '--secure-port'

run scheduler --kubeconfig="${TMP}/no-such-kubeconfig"
expect_input_error "${TMP}/no-such-kubeconfig"

# A server that is not there: the scheduler keeps retrying with backoff and
# says why, naming the server; it neither exits nor crashes.
"${KESTREL}" scheduler --kubeconfig="${TMP}/kubeconfig-down" --secure-port=0 \
  >"${OUT}" 2>"${ERR}" &
sched_pid=$!
sleep 2
last_cmd="kestrel scheduler --kubeconfig=${TMP}/kubeconfig-down (for 2 s)"
checks=$((checks + 1))
if kill -0 "${sched_pid}" 2>/dev/null; then
  kill -TERM "${sched_pid}"
  wait "${sched_pid}"
  status=$?
  expect_status 0
else
  wait "${sched_pid}"
  status=$?
  fail "${last_cmd}: exited (status ${status}) instead of retrying"
  show
fi
expect_lines "${ERR}" \
  '"Failed to watch" err="reflector pods: .*Couldn.t connect to server \(server http://127\.0\.0\.1:1\)'
# Retried, not given up: more than one failure for the same informer.
checks=$((checks + 1))
[[ $(grep -c '"Failed to watch" err="reflector pods: ' "${ERR}") -ge 2 ]] ||
  fail "${last_cmd}: the pods informer did not retry"

# ---------------------------------------------------------------------------
# Kubernetes 1.4 alpha annotations, on by default, off by flag.

PLUGINS=testdata/plugins
run simulate --cluster="${PLUGINS}/cluster.yaml" --threads=1
expect_status 0
strip_timing_text "${OUT}" >"${TMP}/plugins.txt"
expect_same "${TMP}/plugins.txt" "${PLUGINS}/simulate.golden.txt"
expect_lines "${OUT}" '^kube-system/kube-dns-legacy  -> node-x$'

run simulate --cluster="${PLUGINS}/cluster.yaml" --threads=1 --alpha-annotations=false
expect_status 0
# node-x's legacy taint is gone, and so are the pod's legacy tolerations and
# preferences; the malformed annotation is no longer read.
expect_lines "${OUT}" '^default/legacy-bad  -> node-' '^kube-system/kube-dns-legacy  -> node-'

# ---------------------------------------------------------------------------
# Usage errors: status 2, the problem on the first line of stderr (usage
# text may follow), nothing on stdout.

expect_usage_error() {
  expect_status 2
  checks=$((checks + 1))
  [[ -s "${OUT}" ]] && fail "${last_cmd}: wrote to stdout on a usage error"
  checks=$((checks + 1))
  if ! head -1 "${ERR}" | grep -Fq -- "$1"; then
    fail "${last_cmd}: first stderr line does not name '$1'"
    show
  fi
}

run simulate --cluster="${CLUSTER}" --bogus=1
expect_usage_error "--bogus"

run frobnicate --cluster="${CLUSTER}"
expect_usage_error '"frobnicate"'

run
expect_usage_error "missing command"

run simulate
expect_usage_error "--cluster"

run explain --cluster="${CLUSTER}"
expect_usage_error "--pod"

run help
expect_status 0
expect_lines "${OUT}" '^usage: kestrel '

# ---------------------------------------------------------------------------
# generate

run generate --workload=Nope --nodes=3
expect_input_error '"Nope"'

run generate --workload=SchedulingBasic --nodes=3 --init-pods=2 --pods=4
expect_status 0
cp "${OUT}" "${TMP}/generated.yaml"
checks=$((checks + 1))
[[ $(grep -c '^kind: Node$' "${TMP}/generated.yaml") -eq 3 ]] || fail "${last_cmd}: want 3 nodes"
checks=$((checks + 1))
[[ $(grep -c '^kind: Pod$' "${TMP}/generated.yaml") -eq 6 ]] || fail "${last_cmd}: want 6 pods"

# What generate writes, simulate reads.
run simulate --cluster="${TMP}/generated.yaml" --output=json --threads=1
expect_status 0
expect_lines "${OUT}" '^    "scheduled": 4,?$' '^    "unschedulable": 0,?$'

# ---------------------------------------------------------------------------
# place and capacity: the what-if questions on files (sim/whatif.h).

cat >"${TMP}/probe.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: probe, namespace: default}
spec:
  containers:
  - name: c
    image: nginx
    resources: {requests: {cpu: 500m, memory: 256Mi}}
YAML

run capacity --cluster="${CLUSTER}" --template="${TMP}/probe.yaml" --output=json
expect_status 0
expect_lines "${OUT}" '^  "count": 26,$' '^    "node-b": 12,?$' \
  '^  "stoppedBy": "0/5 nodes are available: 1 Too many pods, 1 node\(s\) were unschedulable, 3 Insufficient cpu\."$'

run capacity --cluster="${CLUSTER}" --template="${TMP}/probe.yaml" --limit=3
expect_status 0
expect_lines "${OUT}" '^Count: +3$' '^Stopped by: +the limit$'

run capacity --cluster="${CLUSTER}" --template="${BAD}/bad_quantity.yaml"
expect_input_error "${BAD}/bad_quantity.yaml: Node node-1: kind: Unsupported value: \"Node\": want Pod"

cat >"${TMP}/no-containers.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: empty}
spec: {}
YAML
run capacity --cluster="${CLUSTER}" --template="${TMP}/no-containers.yaml"
expect_input_error "${TMP}/no-containers.yaml: Pod default/empty: spec.containers: Required value"

run place --cluster="${CLUSTER}" --pods="${SMALL}/extra_pods.yaml" --output=json
expect_status 0
expect_lines "${OUT}" '"pod": "default/extra-1"' '"node": "node-gpu"' '"scheduled": 1'

run place --cluster="${CLUSTER}"
expect_input_error 'flag --pods is required'

# scaleup and drain (sim/whatif.h ScaleUp, Drain).
run scaleup --cluster="${CLUSTER}" --templates="${SMALL}/node_templates.yaml"
expect_status 0
expect_lines "${OUT}" '^Fit existing nodes: 5$' '^Template m5: 0 nodes$' \
  '^  unplaced default/big-batch: 0/6 nodes are available: 1 Too many pods, 1 node\(s\) were unschedulable, 5 Insufficient cpu\.$' \
  '^Template huge: 1 node$' '^  huge-1: default/big-batch$' '^Fit no template: 0$'

run scaleup --cluster="${CLUSTER}" --templates="${SMALL}/node_templates.yaml" --output=json
expect_status 0
expect_lines "${OUT}" '^      "nodesNeeded": 1,$' '^  "noTemplate": \[\]$'

cat >"${TMP}/bad-templates.yaml" <<'YAML'
apiVersion: v1
kind: Node
metadata: {name: m5, annotations: {kestrel.io/max-count: "many"}}
YAML
run scaleup --cluster="${CLUSTER}" --templates="${TMP}/bad-templates.yaml"
expect_input_error "${TMP}/bad-templates.yaml: Node m5: metadata.annotations[kestrel.io/max-count]: Invalid value: \"many\": must be a positive integer"

cat >"${TMP}/bad-templates.yaml" <<'YAML'
apiVersion: v1
kind: Node
metadata: {name: M5}
YAML
run scaleup --cluster="${CLUSTER}" --templates="${TMP}/bad-templates.yaml"
expect_input_error "${TMP}/bad-templates.yaml: node_templates[0].name: Invalid value: \"M5\""

run scaleup --cluster="${CLUSTER}"
expect_input_error 'flag --templates is required'

DRAIN=testdata/drain/cluster.yaml
run drain --cluster="${DRAIN}" --nodes=node-2,node-3
expect_status 0
expect_lines "${OUT}" '^node-2: not drainable$' '^  default/web-b  moved -> node-1$' \
  '^  default/web-c  blocked: evicting it would violate PodDisruptionBudget default/web \(no disruption allowed\)$'

run drain --cluster="${DRAIN}" --nodes=node-3 --output=json
expect_status 0
expect_lines "${OUT}" '^      "drainable": true,$' '^          "action": "moved",$'

run drain --cluster="${DRAIN}" --nodes=node-1,node-9
expect_input_error 'flag --nodes[1]: Not found: "node-9"'

run serve --cluster="${CLUSTER}"
expect_input_error 'flag --listen is required'

run serve --listen=127.0.0.1:0 --cluster="${CLUSTER}" --fork-ttl=soon
expect_input_error 'flag --fork-ttl: "soon": want a positive duration (30s, 5m)'

run serve --listen=127.0.0.1:0 --cluster="${CLUSTER}" --client-ca-file=/ca.pem
expect_input_error '--client-ca-file: needs --tls-cert-file and --tls-private-key-file'

# A snapshot or a live cluster, not both.
run serve --listen=127.0.0.1:0 --cluster="${CLUSTER}" --kubeconfig="${TMP}/kubeconfig"
expect_input_error 'flags --cluster and --kubeconfig: give one or the other'

run serve --listen=127.0.0.1:0 --cluster="${CLUSTER}" --authorization-always-allow-paths='/*'
expect_input_error 'flag --authorization-always-allow-paths: only without --cluster'

# Without --cluster the cluster is the API server's: outside a pod and
# without --kubeconfig there is none.
KUBERNETES_SERVICE_HOST= run serve --listen=127.0.0.1:0
expect_input_error "KUBERNETES_SERVICE_HOST"

# serve --kubeconfig against `kestrel apiserver`: the first base has the
# server's nodes once the informers synced; SIGTERM stops it. (Calls, tokens
# and the base following the cluster: //service:live_serve_test.)
# start_live_apiserver KUBECONFIG: `kestrel apiserver` with CLUSTER loaded
# in the background (live_api_pid), once it has written KUBECONFIG.
start_live_apiserver() {
  "${KESTREL}" apiserver --listen=127.0.0.1:0 --load="${CLUSTER}" \
    --kubeconfig-out="$1" >"${TMP}/live-api.out" 2>"${TMP}/live-api.err" &
  live_api_pid=$!
  for _ in $(seq 1 300); do
    [[ -s "$1" ]] && break
    sleep 0.1
  done
}
# serve_until_published FLAGS...: `kestrel serve FLAGS` until it has published
# its first what-if base, then both it and the live API server stopped;
# `status` is serve's exit status.
serve_until_published() {
  "${KESTREL}" serve --listen=127.0.0.1:0 "$@" >"${OUT}" 2>"${ERR}" &
  serve_pid=$!
  for _ in $(seq 1 300); do
    grep -q '"Published what-if base"' "${ERR}" && break
    sleep 0.1
  done
  kill -TERM "${serve_pid}"
  wait "${serve_pid}"
  status=$?
  kill -TERM "${live_api_pid}"
  wait "${live_api_pid}"
}
start_live_apiserver "${TMP}/live.kubeconfig"
last_cmd="kestrel serve --kubeconfig=(kestrel apiserver --load=${CLUSTER})"
serve_until_published --kubeconfig="${TMP}/live.kubeconfig"
expect_status 0
expect_lines "${ERR}" '^kestrel serve: listening on 127\.0\.0\.1:0 \(port [0-9]+\), cluster at http://127\.0\.0\.1:[0-9]+; NOT_SERVING until the informers have synced' \
  '"Published what-if base" nodes=5 pods=[0-9]+' '^kestrel serve: stopped$'

# --master alone: the address of a server that needs no credentials.
start_live_apiserver "${TMP}/live2.kubeconfig"
live_master=$(sed -n 's/^ *server: *"\{0,1\}\(http[^"]*\)"\{0,1\}$/\1/p' "${TMP}/live2.kubeconfig")
last_cmd="kestrel serve --master=${live_master}"
serve_until_published --master="${live_master}"
expect_status 0
expect_lines "${ERR}" "cluster at ${live_master};" '"Published what-if base" nodes=5 pods=[0-9]+'

run serve --listen=127.0.0.1:0 --cluster="${CLUSTER}" --master=http://127.0.0.1:1
expect_input_error 'flags --cluster and --master: give one or the other'

run serve --listen=127.0.0.1:0 --kubeconfig="${TMP}/live2.kubeconfig" \
  --authorization-webhook-cache-authorized-ttl=soon
expect_input_error 'flag --authorization-webhook-cache-authorized-ttl: "soon": want a duration such as 10s, 2m or 1h30m'

# ---------------------------------------------------------------------------
# apiserver: refused before it serves (cmd/apiserver_kubectl_test.sh runs it
# with kubectl).

run apiserver --listen=0.0.0.0:8080
expect_input_error 'flag --listen: "0.0.0.0:8080": the in-memory API server listens on 127.0.0.1 only'

run apiserver --listen=127.0.0.1:http
expect_input_error 'flag --listen: "127.0.0.1:http": want 127.0.0.1:PORT'

run apiserver
expect_input_error 'flag --listen is required'

run apiserver --listen=127.0.0.1:0 --load="${BAD}/bad_quantity.yaml"
expect_input_error "${BAD}/bad_quantity.yaml: Pod default/web-1: spec.containers[0].resources.requests.cpu: "

run apiserver --listen=127.0.0.1:0 --load="${CLUSTER}" --load="${SMALL}/cluster.json"
expect_input_error "${SMALL}/cluster.json: Node node-a: nodes \"node-a\" already exists"

run apiserver --listen=127.0.0.1:0 --load="${TMP}/no-such-file.yaml"
expect_input_error "${TMP}/no-such-file.yaml"

run apiserver --listen=127.0.0.1:0 --bogus
expect_usage_error "--bogus"

echo "${checks} checks, ${failures} failed"
[[ ${failures} -eq 0 ]]
