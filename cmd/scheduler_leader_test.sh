#!/usr/bin/env bash
# Two real `kestrel scheduler` processes against `kestrel apiserver`, with
# leader election on short durations (lease 2s, renew deadline 1500ms,
# retry 300ms):
#   - exactly one acquires the lease and binds; the other binds nothing;
#   - kill -9 of the leader (no release): the other takes the lease once it
#     has expired and binds the pods created after;
#   - no pod is bound twice (one "Successfully bound" line over both logs,
#     one Scheduled event per pod);
#   - SIGTERM to the leader: exit status 0 and the lease released
#     (holderIdentity empty), as kube-scheduler's ReleaseOnCancel does.
# Every process left running is killed on every way out (trap).
#
# Usage (as the sh_test does): scheduler_leader_test.sh path/to/kestrel
# Only bash, grep, sed and kubectl (tools/bootstrap.sh installs it).
set -uo pipefail

KESTREL="${1:?usage: $0 path/to/kestrel}"
TMP="${TEST_TMPDIR:-$(mktemp -d)}"
export HOME="${TMP}"
KC="${TMP}/kestrel.kubeconfig"

failures=0
checks=0
pids=()

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

check() {  # check DESCRIPTION COMMAND...: counts a check, fails when COMMAND does
  local what=$1
  shift
  checks=$((checks + 1))
  "$@" || fail "${what}"
}

cleanup() {
  local p
  for p in "${pids[@]}"; do kill -9 "${p}" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "${p}" 2>/dev/null; done
}
trap cleanup EXIT

KUBECTL="${KUBECTL:-$(command -v kubectl)}"
if [[ -z "${KUBECTL}" || ! -x "${KUBECTL}" ]]; then
  echo "FAIL: no kubectl on PATH (tools/bootstrap.sh installs Debian's kubernetes-client)"
  exit 1
fi

k() {
  timeout 30 "${KUBECTL}" --kubeconfig="${KC}" --cache-dir="${TMP}/kube-cache" \
    --request-timeout=10s "$@"
}

# wait_until COMMAND...: until COMMAND succeeds; false after 30 s (a hang
# guard, not a measurement).
wait_until() {
  local i
  for ((i = 0; i < 300; i++)); do
    "$@" && return 0
    sleep 0.1
  done
  return 1
}

holder() { k get lease -n kube-system kube-scheduler -o 'jsonpath={.spec.holderIdentity}' 2>/dev/null; }
has_holder() { [[ -n "$(holder)" ]]; }
holder_is() { [[ "$(holder)" == "$1" ]]; }
node_of() { k get pod "$1" -o 'jsonpath={.spec.nodeName}' 2>/dev/null; }
# bound_lines LOG POD: the log's "Successfully bound" lines for POD.
bound_lines() { grep -c "\"Successfully bound pod to node\" pod=\"default/$2\"" "$1"; }
acquired() { grep -q 'Leader election acquired' "$1"; }
someone_acquired() { acquired "${TMP}/one.err" || acquired "${TMP}/two.err"; }
holder_changed() {
  local h
  h=$(holder)
  [[ -n "${h}" && "${h}" != "${old_holder}" ]]
}

create_pods() {  # create_pods PREFIX N
  local i
  for ((i = 0; i < $2; i++)); do
    printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: %s-%d, namespace: default}\nspec:\n  containers: [{name: c, image: pause, resources: {requests: {cpu: 100m}}}]\n' \
      "$1" "${i}"
    echo ---
  done >"${TMP}/$1.yaml"
  k create -f "${TMP}/$1.yaml" >/dev/null || fail "kubectl create -f $1.yaml"
}

all_bound() {  # all_bound PREFIX N
  local i
  for ((i = 0; i < $2; i++)); do
    [[ -n "$(node_of "$1-${i}")" ]] || return 1
  done
}

# ---------------------------------------------------------------------------
# The API server with three nodes, and the schedulers' configuration.

for n in node-a node-b node-c; do
  printf 'apiVersion: v1\nkind: Node\nmetadata: {name: %s}\nstatus:\n  allocatable: {cpu: "4", memory: 8Gi, pods: "110"}\n  capacity: {cpu: "4", memory: 8Gi, pods: "110"}\n---\n' "${n}"
done >"${TMP}/nodes.yaml"
"${KESTREL}" apiserver --listen=127.0.0.1:0 --load="${TMP}/nodes.yaml" --kubeconfig-out="${KC}" \
  >"${TMP}/apiserver.out" 2>"${TMP}/apiserver.err" &
pids+=($!)
if ! wait_until test -s "${KC}"; then
  echo "FAIL: kestrel apiserver did not write ${KC}"
  cat "${TMP}/apiserver.out" "${TMP}/apiserver.err"
  exit 1
fi

cat >"${TMP}/config.yaml" <<EOF
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
podInitialBackoffSeconds: 1
podMaxBackoffSeconds: 2
clientConnection: {kubeconfig: "${KC}"}
leaderElection:
  leaderElect: true
  leaseDuration: 2s
  renewDeadline: 1500ms
  retryPeriod: 300ms
EOF

start_scheduler() {  # start_scheduler NAME: $! in scheduler_pid
  "${KESTREL}" scheduler --config="${TMP}/config.yaml" --secure-port=0 --v=2 \
    >"${TMP}/$1.out" 2>"${TMP}/$1.err" &
  scheduler_pid=$!
  pids+=("${scheduler_pid}")
}

start_scheduler one
pid_one=${scheduler_pid}
start_scheduler two
pid_two=${scheduler_pid}

# ---------------------------------------------------------------------------
# Exactly one leads and binds.

check "nobody acquired the lease" wait_until has_holder
check "no scheduler logged that it acquired the lease" wait_until someone_acquired
sleep 1  # several retry periods: a second acquisition would show by now
if acquired "${TMP}/one.err"; then
  leader=one leader_pid=${pid_one} standby=two standby_pid=${pid_two}
else
  leader=two leader_pid=${pid_two} standby=one standby_pid=${pid_one}
fi
checks=$((checks + 1))
acquired "${TMP}/${standby}.err" && fail "both schedulers acquired the lease"

create_pods first 6
check "the pods created under the first leader were not all bound" wait_until all_bound first 6
for ((i = 0; i < 6; i++)); do
  checks=$((checks + 1))
  [[ $(bound_lines "${TMP}/${leader}.err" "first-${i}") -eq 1 ]] ||
    fail "first-${i}: the leader's log has no (or more than one) binding"
  checks=$((checks + 1))
  [[ $(bound_lines "${TMP}/${standby}.err" "first-${i}") -eq 0 ]] ||
    fail "first-${i}: the standby bound it"
done

# ---------------------------------------------------------------------------
# kill -9: no release; the standby takes over once the lease expires.

old_holder=$(holder)
kill -9 "${leader_pid}"
wait "${leader_pid}" 2>/dev/null
killed_at=$(date +%s%N)
check "the standby never took the lease after kill -9 of the leader" wait_until holder_changed
echo "takeover after kill -9: $(( ($(date +%s%N) - killed_at) / 1000000 )) ms (lease duration 2000 ms)"
check "the standby did not log that it acquired the lease" acquired "${TMP}/${standby}.err"
checks=$((checks + 1))
kill -0 "${standby_pid}" 2>/dev/null || fail "the standby exited"

create_pods after 6
check "the pods created after the takeover were not all bound" wait_until all_bound after 6
for ((i = 0; i < 6; i++)); do
  checks=$((checks + 1))
  [[ $(bound_lines "${TMP}/${standby}.err" "after-${i}") -eq 1 ]] ||
    fail "after-${i}: the new leader's log has no (or more than one) binding"
done

# No pod bound twice: one binding line over both logs, one Scheduled event.
k get events -o 'jsonpath={range .items[?(@.reason=="Scheduled")]}{.involvedObject.name}{"\n"}{end}' \
  >"${TMP}/scheduled.txt"
for pod in first-{0..5} after-{0..5}; do
  checks=$((checks + 1))
  n=$(( $(bound_lines "${TMP}/one.err" "${pod}") + $(bound_lines "${TMP}/two.err" "${pod}") ))
  [[ ${n} -eq 1 ]] || fail "${pod}: bound ${n} times"
  checks=$((checks + 1))
  n=$(grep -cx "${pod}" "${TMP}/scheduled.txt")
  [[ ${n} -eq 1 ]] || fail "${pod}: ${n} Scheduled events"
done

# ---------------------------------------------------------------------------
# SIGTERM: a clean exit that releases the lease.

kill -TERM "${standby_pid}"
wait "${standby_pid}"
status=$?
checks=$((checks + 1))
[[ ${status} -eq 0 ]] || fail "SIGTERM: exit status ${status}, want 0"
checks=$((checks + 1))
lease_holder=$(holder)
[[ -z "${lease_holder}" ]] || fail "SIGTERM: the lease still names \"${lease_holder}\", want it released"
checks=$((checks + 1))
duration=$(k get lease -n kube-system kube-scheduler -o 'jsonpath={.spec.leaseDurationSeconds}')
[[ "${duration}" == "1" ]] || fail "SIGTERM: the released lease says leaseDurationSeconds ${duration}, want 1"

if [[ ${failures} -ne 0 ]]; then
  for f in one.err two.err; do
    echo "--- ${f} (last 30 lines)"
    tail -30 "${TMP}/${f}"
  done
fi
echo "${checks} checks, ${failures} failed"
[[ ${failures} -eq 0 ]]
