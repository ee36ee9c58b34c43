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
# `kestrel simulate` on it. The full report is kept in out/demo-report.txt.
# Sizes can be changed: NODES=500 ./demo.sh
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

echo
echo "== Generating ${cluster}: workload Demo, ${NODES} nodes, ${INIT_PODS} running pods, ${PODS} pods to schedule, seed ${SEED}"
start=${EPOCHREALTIME}
"${kestrel}" generate --workload=Demo --nodes="${NODES}" --init-pods="${INIT_PODS}" \
  --pods="${PODS}" --seed="${SEED}" >"${cluster}"
end=${EPOCHREALTIME}
echo "   $(wc -c <"${cluster}") bytes in $(elapsed "${start}" "${end}") s"

echo
echo "== Scheduling it: kestrel simulate --cluster=${cluster} --seed=${SEED} --output=text"
start=${EPOCHREALTIME}
status=0
"${kestrel}" simulate --cluster="${cluster}" --seed="${SEED}" --output=text >"${report}" || status=$?
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
exit "${status}"
