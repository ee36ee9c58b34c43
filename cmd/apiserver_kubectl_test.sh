#!/usr/bin/env bash
# `kestrel apiserver` against a real kubectl: the machine's (v1.32 here), or
# Debian's kubernetes-client (v1.20) that tools/bootstrap.sh installs where
# there is none; KUBECTL=path picks another (bazel test --test_env=KUBECTL=...).
#
# Starts the server on a free port with testdata/small/cluster.yaml, waits
# for its kubeconfig, and checks what kubectl prints for: get (tables, -o
# wide, -o yaml, -o json, -w), describe, create -f (with and without
# --validate=false), apply (client-side; server-side fails clearly), patch
# (and --subresource=status where kubectl has it), delete (graceful deletion
# that the server finishes as a kubelet would), version, api-resources;
# then SIGTERM and a clean exit. The server and any kubectl left running are
# killed on every way out (trap).
#
# Usage (as the sh_test does): apiserver_kubectl_test.sh path/to/kestrel
# Only bash, grep, sed and timeout: no jq, no python.
set -uo pipefail

KESTREL="${1:?usage: $0 path/to/kestrel}"
TMP="${TEST_TMPDIR:-$(mktemp -d)}"
export HOME="${TMP}"  # kubectl writes ~/.kube; keep it here
KC="${TMP}/kestrel.kubeconfig"
OUT="${TMP}/stdout"
ERR="${TMP}/stderr"

failures=0
checks=0
server_pid=""
watch_pid=""

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

cleanup() {
  [[ -n "${watch_pid}" ]] && kill "${watch_pid}" 2>/dev/null
  if [[ -n "${server_pid}" ]]; then
    kill "${server_pid}" 2>/dev/null
    wait "${server_pid}" 2>/dev/null
  fi
}
trap cleanup EXIT

KUBECTL="${KUBECTL:-$(command -v kubectl)}"
if [[ -z "${KUBECTL}" || ! -x "${KUBECTL}" ]]; then
  echo "FAIL: no kubectl on PATH (tools/bootstrap.sh installs Debian's kubernetes-client)"
  exit 1
fi

# k ARGS...: runs kubectl against the server; status in $status, output in $OUT/$ERR.
k() {
  timeout 60 "${KUBECTL}" --kubeconfig="${KC}" --cache-dir="${TMP}/kube-cache" \
    --request-timeout=30s "$@" >"${OUT}" 2>"${ERR}"
  status=$?
  last_cmd="kubectl $*"
}

show() {
  echo "  command: ${last_cmd}"
  echo "  status:  ${status}"
  echo "  stdout:"
  sed 's/^/    /' "${OUT}" | head -20
  echo "  stderr:"
  sed 's/^/    /' "${ERR}" | head -20
}

expect_status() {
  checks=$((checks + 1))
  if [[ ${status} -ne $1 ]]; then
    fail "${last_cmd}: exit status ${status}, want $1"
    show
  fi
}

# expect_lines FILE PATTERN...: each PATTERN (an extended regex) matches a line.
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

# expect_count FILE PATTERN N: exactly N lines match PATTERN.
expect_count() {
  checks=$((checks + 1))
  local n
  n=$(grep -Ec -- "$2" "$1")
  if [[ ${n} -ne $3 ]]; then
    fail "${last_cmd}: ${n} lines match /$2/ in $(basename "$1"), want $3"
    sed 's/^/    /' "$1" | head -40
  fi
}

# wait_for FILE PATTERN: until a line of FILE matches (a hang guard of 30s,
# not a measurement); false if none does.
wait_for() {
  local i
  for ((i = 0; i < 300; i++)); do
    grep -Eq -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# Which kubectl: "Client Version: v1.32.4..." (1.28+) or
# "Client Version: version.Info{Major:"1", Minor:"20", ...}".
"${KUBECTL}" version --client >"${OUT}" 2>&1
minor=$(sed -nE 's/.*Minor:"([0-9]+).*/\1/p; s/^Client Version: v1\.([0-9]+).*/\1/p' "${OUT}" | head -1)
if [[ -z "${minor}" ]]; then
  echo "FAIL: cannot tell kubectl's version from:"
  cat "${OUT}"
  exit 1
fi
echo "kubectl: ${KUBECTL}, 1.${minor}"

# ---------------------------------------------------------------------------
# The server, on a free port; its kubeconfig appears once it serves.

"${KESTREL}" apiserver --listen=127.0.0.1:0 --load=testdata/small/cluster.yaml \
  --kubeconfig-out="${KC}" >"${TMP}/server.out" 2>"${TMP}/server.err" &
server_pid=$!
for ((i = 0; i < 300; i++)); do
  [[ -s "${KC}" ]] && break
  kill -0 "${server_pid}" 2>/dev/null || break
  sleep 0.1
done
if [[ ! -s "${KC}" ]]; then
  echo "FAIL: kestrel apiserver did not write ${KC}"
  cat "${TMP}/server.out" "${TMP}/server.err"
  exit 1
fi
last_cmd="kestrel apiserver"
expect_lines "${TMP}/server.out" \
  '^kestrel apiserver: serving http://127\.0\.0\.1:[0-9]+ \(in memory, loopback only\)$' \
  '^kestrel apiserver: loaded 17 objects: 5 Node, 12 Pod$' \
  "^  kubectl --kubeconfig=${KC} get nodes\$"
expect_lines "${KC}" '^    server: http://127\.0\.0\.1:[0-9]+$' '^current-context: kestrel$'

# ---------------------------------------------------------------------------
# get: the server's Tables, then the objects themselves.

k get nodes
expect_status 0
expect_lines "${OUT}" \
  '^NAME +STATUS +ROLES +AGE +VERSION$' \
  '^node-a +Ready +<none> +[0-9a-z]+ +v1\.30\.2$' \
  '^node-cordoned +Unknown,SchedulingDisabled +<none> +[0-9a-z]+ *$'
expect_count "${OUT}" '^node-' 5

k get pods -A
expect_status 0
expect_lines "${OUT}" \
  '^NAMESPACE +NAME +READY +STATUS +RESTARTS +AGE$' \
  '^kube-system +coredns-1 +0/1 +Running +0 +[0-9a-z]+$' \
  '^default +web-1 +0/1 +Pending +0 +[0-9a-z]+$' \
  '^default +migrate-once +0/1 +Succeeded +0 +[0-9a-z]+$' \
  '^ml +gpu-job +0/1 +Pending +0 +[0-9a-z]+$'
expect_count "${OUT}" '^(default|kube-system|ml) ' 12

k get pods -o wide
expect_status 0
expect_lines "${OUT}" \
  '^NAME +READY +STATUS +RESTARTS +AGE +IP +NODE +NOMINATED NODE +READINESS GATES$' \
  '^db-0 +0/1 +Running +0 +[0-9a-z]+ +<none> +node-b +<none> +<none>$'

k get po web-1
expect_status 0
expect_lines "${OUT}" '^NAME +READY +STATUS +RESTARTS +AGE$' '^web-1 +0/1 +Pending +0 +'
expect_count "${OUT}" '.' 2

k get ns
expect_status 0
expect_lines "${OUT}" '^NAME +STATUS +AGE$' '^default +Active ' '^kube-system +Active ' '^ml +Active '

k get nodes -o yaml
expect_status 0
expect_lines "${OUT}" \
  '^apiVersion: v1$' \
  '^kind: List$' \
  '^  kind: Node$' \
  '^    name: node-a$' \
  '^      kubernetes.io/hostname: node-a$' \
  '^      cpu: "4"$' \
  '^      memory: 8Gi$'
expect_count "${OUT}" '^  kind: Node$' 5

k get pod web-1 -o json
expect_status 0
expect_lines "${OUT}" '^    "kind": "Pod",$' '^        "name": "web-1",$' '^        "phase": "Pending"$' \
  '^                        "cpu": "500m",$'

# describe reads the pod, then its events by field selector.
k describe pod web-1
expect_status 0
expect_lines "${OUT}" '^Name: +web-1$' '^Namespace: +default$' '^Status: +Pending$' '^Events: +<none>$'

k get pod no-such-pod
expect_status 1
expect_lines "${ERR}" 'pods "no-such-pod" not found'

k version
expect_status 0
expect_lines "${OUT}" '^Server Version: (v1\.32\.0$|version\.Info\{Major:"1", Minor:"32", GitVersion:"v1\.32\.0")'

k api-resources
expect_status 0
expect_lines "${OUT}" \
  '^pods +po +v1 +true +Pod$' \
  '^nodes +no +v1 +false +Node$' \
  '^poddisruptionbudgets +pdb +policy/v1 +true +PodDisruptionBudget$'

# ---------------------------------------------------------------------------
# create, watched by get -w.

cat >"${TMP}/hello.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: hello
  labels: {app: hello}
spec:
  containers:
  - name: c
    image: nginx:1.27
    resources:
      requests: {cpu: 100m, memory: 64Mi}
EOF
sed -e 's/name: hello$/name: hello-2/' "${TMP}/hello.yaml" >"${TMP}/hello-2.yaml"

timeout 60 "${KUBECTL}" --kubeconfig="${KC}" --cache-dir="${TMP}/kube-cache" get pods -w \
  >"${TMP}/watch.out" 2>"${TMP}/watch.err" &
watch_pid=$!
last_cmd="kubectl get pods -w"
checks=$((checks + 1))
wait_for "${TMP}/watch.out" '^web-2 ' || fail "${last_cmd}: the list before the watch never came"

# Validation reads the server's OpenAPI (kubectl 1.32: v3, 1.20: v2).
k create -f "${TMP}/hello.yaml"
expect_status 0
expect_lines "${OUT}" '^pod/hello created$'

k create -f "${TMP}/hello-2.yaml" --validate=false
expect_status 0
expect_lines "${OUT}" '^pod/hello-2 created$'

k create -f "${TMP}/hello.yaml"
expect_status 1
expect_lines "${ERR}" 'pods "hello" already exists'

last_cmd="kubectl get pods -w"
checks=$((checks + 1))
wait_for "${TMP}/watch.out" '^hello-2 +0/1 +Pending +0 ' || fail "${last_cmd}: hello-2 never appeared"
kill "${watch_pid}" 2>/dev/null
wait "${watch_pid}" 2>/dev/null
watch_pid=""
expect_lines "${TMP}/watch.out" '^NAME +READY +STATUS +RESTARTS +AGE$' '^hello +0/1 +Pending +0 +[0-9a-z]+$'
# The header once: the watch's Tables carry the same columns.
expect_count "${TMP}/watch.out" '^NAME ' 1

# ---------------------------------------------------------------------------
# patch

k patch pod hello -p '{"metadata":{"labels":{"tier":"web"}}}'
expect_status 0
expect_lines "${OUT}" '^pod/hello patched$'
k get pod hello -o jsonpath='{.metadata.labels.tier}'
expect_lines "${OUT}" '^web$'

if [[ ${minor} -ge 24 ]]; then
  k patch pod hello --subresource=status --type=merge -p '{"status":{"phase":"Running","podIP":"10.1.2.3"}}'
  expect_status 0
  expect_lines "${OUT}" '^pod/hello patched$'
  k get pod hello -o wide
  expect_lines "${OUT}" '^hello +0/1 +Running +0 +[0-9a-z]+ +10\.1\.2\.3 +<none> '
else
  echo "NOTE: kubectl 1.${minor} has no --subresource (added in 1.24): patch --subresource=status not checked"
fi

# ---------------------------------------------------------------------------
# apply: client-side (a strategic merge patch from the last-applied
# annotation); server-side apply is not served, and says so.

sed -e 's/name: hello$/name: applied/' "${TMP}/hello.yaml" >"${TMP}/applied.yaml"
k apply -f "${TMP}/applied.yaml"
expect_status 0
expect_lines "${OUT}" '^pod/applied created$'
sed -e 's/nginx:1.27/nginx:1.28/' "${TMP}/applied.yaml" >"${TMP}/applied-2.yaml"
k apply -f "${TMP}/applied-2.yaml" --server-side=false
expect_status 0
expect_lines "${OUT}" '^pod/applied configured$'
k get pod applied -o jsonpath='{.spec.containers[0].image}'
expect_lines "${OUT}" '^nginx:1\.28$'
k get pod applied -o yaml
expect_lines "${OUT}" '^    kubectl.kubernetes.io/last-applied-configuration: '
k apply -f "${TMP}/applied.yaml" --server-side
expect_status 1
expect_lines "${ERR}" 'application/strategic-merge-patch\+json'

# ---------------------------------------------------------------------------
# delete: an unbound pod goes at once; a bound running one is deleted
# gracefully and the server, as a kubelet, finishes it.

k delete pod hello
expect_status 0
expect_lines "${OUT}" '^pod "hello" deleted$'
k delete pod db-0
expect_status 0
expect_lines "${OUT}" '^pod "db-0" deleted$'
k get pods
expect_status 0
expect_lines "${OUT}" '^hello-2 ' '^applied '
expect_count "${OUT}" '^(hello|db-0) ' 0
k delete -f "${TMP}/hello.yaml"
expect_status 1
expect_lines "${ERR}" 'pods "hello" not found'

# ---------------------------------------------------------------------------
# SIGTERM: a clean exit.

kill -TERM "${server_pid}"
wait "${server_pid}"
server_status=$?
server_pid=""
last_cmd="kestrel apiserver (SIGTERM)"
checks=$((checks + 1))
[[ ${server_status} -eq 0 ]] || fail "${last_cmd}: exit status ${server_status}, want 0"
expect_lines "${TMP}/server.err" '^kestrel apiserver: terminated; shutting down$'

echo "${checks} checks, ${failures} failed"
[[ ${failures} -eq 0 ]]
