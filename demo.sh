#!/usr/bin/env bash
# The demo: generate a 5,000-node cluster and schedule it offline.
#
#   ./demo.sh
#
# Works on a fresh Debian 12 machine: installs missing packages, builds
# //cmd:kestrel with -c opt, writes out/demo-cluster.yaml with
# `kestrel generate --workload=Demo` (GPU nodes tainted dedicated=gpu:NoSchedule,
# nodes with memory/disk-pressure condition taints, pods that tolerate the GPU
# taint, pods with required pod anti-affinity per hostname and pod affinity per
# zone, node affinity, zone spreading, system-cluster-critical pods in
# kube-system, and a few pods asking for 9 CPU, which fit nowhere), then runs
# `kestrel simulate` on it. The full report is kept in out/demo-report.txt,
# and the same run writes the HTML report out/demo-report.html (open it in a
# browser; out/demo-report.html#pod=NS/NAME opens one pod's record).
# Then a short live run of the same scheduler as the cluster's scheduler:
# `kestrel apiserver` (in memory, loopback) with LIVE_NODES nodes and
# LIVE_PODS pending pods, and `kestrel scheduler` binding them over HTTP.
# Sizes can be changed: NODES=500 LIVE_PODS=1000 ./demo.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
NODES="${NODES:-5000}"
INIT_PODS="${INIT_PODS:-5000}"
PODS="${PODS:-5000}"
SEED="${SEED:-1}"

# Seconds between two $EPOCHREALTIME readings, as 1.23 (no bc on a fresh machine).
elapsed() {
  local us=$(( ${2//[.,]/} - ${1//[.,]/} ))
  printf '%d.%02d' $((us / 1000000)) $((us / 10000 % 100))
}

tools/bootstrap.sh

echo "== Building //cmd:kestrel (-c opt)"
bazel build -c opt --noshow_progress --color=no --curses=no //cmd:kestrel
kestrel="$(bazel info -c opt bazel-bin 2>/dev/null)/cmd/kestrel"

mkdir -p out
cluster=out/demo-cluster.yaml
report=out/demo-report.txt
html_report=out/demo-report.html

echo
echo "== Generating ${cluster}: workload Demo, ${NODES} nodes, ${INIT_PODS} running pods, ${PODS} pods to schedule, seed ${SEED}"
start=${EPOCHREALTIME}
"${kestrel}" generate --workload=Demo --nodes="${NODES}" --init-pods="${INIT_PODS}" \
  --pods="${PODS}" --seed="${SEED}" >"${cluster}"
end=${EPOCHREALTIME}
echo "   $(wc -c <"${cluster}") bytes in $(elapsed "${start}" "${end}") s"

echo
echo "== Scheduling it: kestrel simulate --cluster=${cluster} --seed=${SEED} --output=text --report=${html_report}"
start=${EPOCHREALTIME}
status=0
"${kestrel}" simulate --cluster="${cluster}" --seed="${SEED}" --output=text \
  --report="${html_report}" >"${report}" || status=$?
end=${EPOCHREALTIME}

# The report lists every placement, then a summary block after a blank line.
# Show the first placements and the whole summary.
lines=$(wc -l <"${report}")
summary_start=$(grep -n '^$' "${report}" | tail -n 1 | cut -d: -f1 || true)
if [[ -z "${summary_start}" ]] || ((lines - summary_start > 200)); then
  summary_start=$((lines > 20 ? lines - 20 : 0))
fi
if ((summary_start > 15)); then
  head -n 10 "${report}"
  echo "   ... ($((summary_start - 10)) more placements in ${report}) ..."
  tail -n "+${summary_start}" "${report}"
else
  cat "${report}"
fi
echo
echo "== simulate finished in $(elapsed "${start}" "${end}") s with exit status ${status}; full report: ${report}"
if [[ -s "${html_report}" ]]; then
  echo "== HTML report ($(wc -c <"${html_report}") bytes): $(pwd)/${html_report}"
fi

# The same scheduler as the cluster's scheduler: `kestrel apiserver` (the
# in-memory API server) loaded with a small generated cluster whose pods
# are all pending, and `kestrel scheduler` against it, binding them over
# HTTP as it would in a cluster.
LIVE_NODES="${LIVE_NODES:-100}"
LIVE_PODS="${LIVE_PODS:-300}"
live_cluster=out/live-cluster.yaml
kubeconfig=out/live-kubeconfig.yaml
apiserver_log=out/live-apiserver.log
scheduler_log=out/live-scheduler.log
echo
echo "== Live: kestrel apiserver with ${LIVE_NODES} nodes and ${LIVE_PODS} pending pods, then kestrel scheduler"
echo "   against it (client limits raised to 5000 qps: kube-scheduler's default 50 would make this a"
echo "   measure of the token bucket)"
"${kestrel}" generate --workload=SchedulingBasic --nodes="${LIVE_NODES}" --init-pods=0 \
  --pods="${LIVE_PODS}" --seed="${SEED}" >"${live_cluster}"
rm -f "${kubeconfig}"
"${kestrel}" apiserver --listen=127.0.0.1:0 --load="${live_cluster}" \
  --kubeconfig-out="${kubeconfig}" >"${apiserver_log}" 2>&1 &
apiserver_pid=$!
scheduler_pid=
cleanup() {
  [[ -n "${scheduler_pid}" ]] && kill "${scheduler_pid}" 2>/dev/null || true
  kill "${apiserver_pid}" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 100); do [[ -s "${kubeconfig}" ]] && break; sleep 0.1; done
start=${EPOCHREALTIME}
"${kestrel}" scheduler --kubeconfig="${kubeconfig}" --leader-elect=false --secure-port=0 \
  --kube-api-qps=5000 --kube-api-burst=5000 --v=2 >"${scheduler_log}" 2>&1 &
scheduler_pid=$!
bound=0
for _ in $(seq 600); do
  bound=$(grep -c 'Successfully bound pod to node' "${scheduler_log}" || true)
  ((bound >= LIVE_PODS)) && break
  sleep 0.05
done
end=${EPOCHREALTIME}
live_status=0
if ((bound >= LIVE_PODS)); then
  secs=$(elapsed "${start}" "${end}")
  # Hundredths of a second, read in base 10 ("0.78" -> 78, not octal 078).
  hundredths=$((10#${secs/./}))
  echo "   ${bound} pods bound in ${secs} s from the scheduler's start (process start, informer sync,"
  echo "   scheduling, binding over HTTP): $(( LIVE_PODS * 100 / (hundredths > 0 ? hundredths : 1) )) pods/s end to end"
  grep -m 3 'Successfully bound' "${scheduler_log}" | sed 's/^/   /'
else
  echo "   only ${bound} of ${LIVE_PODS} pods bound; see ${scheduler_log}"
  live_status=1
fi
echo "   logs: ${scheduler_log}, ${apiserver_log}"
if ((status == 0)); then status=${live_status}; fi
exit "${status}"
