#!/usr/bin/env bash
# Installs the Debian packages that Kestrel's build needs, and only those that are
# missing. Idempotent: when everything is present it prints nothing and returns at
# once. Runs apt-get update only when it has something to install.
#
#   tools/bootstrap.sh
#
# The list mirrors what the build reads: bazel-bootstrap(-source) for Bazel and the
# offline rule stand-ins named in WORKSPACE, the pkg-config modules that
# third_party/system_libs.bzl asks for, protoc and grpc_cpp_plugin for
# third_party/proto.bzl, and the header-only or -dev libraries of DESIGN.md §6;
# plus kubectl (kubernetes-client) for the tests, when the machine has none,
# and chromium for the report's browser test.
set -euo pipefail

PACKAGES=(
  # Bazel 4.2.3 and /usr/src/bazel-bootstrap/mock_repos (rules_cc, rules_java,
  # rules_proto, platforms).
  bazel-bootstrap
  bazel-bootstrap-source
  # Compiler and pkg-config (system_libs.bzl derives link flags from it).
  g++
  pkg-config
  # pkg-config modules: absl_*, protobuf, grpc++, gtest, gmock, gtest_main,
  # benchmark, yaml-cpp, prometheus-cpp-core.
  libabsl-dev
  libprotobuf-dev
  libgrpc++-dev
  libgtest-dev
  libgmock-dev
  libbenchmark-dev
  libyaml-cpp-dev
  # /usr/bin/protoc and /usr/bin/grpc_cpp_plugin (third_party/proto.bzl).
  protobuf-compiler
  protobuf-compiler-grpc
  # Logging, HTTP client and servers, JSON.
  libgoogle-glog-dev
  libgflags-dev
  libcurl4-openssl-dev
  libcpp-httplib-dev
  # TLS: libssl for httplib's SSLServer in tests, openssl to make their
  # throwaway certificates.
  libssl-dev
  openssl
  libsimdjson-dev
  nlohmann-json3-dev
  # Prometheus metrics for `kestrel scheduler` (prometheus-cpp-core).
  prometheus-cpp-dev
)

# kubectl for //cmd:apiserver_kubectl_test: any will do (a newer one from
# elsewhere is kept); where there is none, Debian's kubernetes-client (1.20).
if ! command -v kubectl >/dev/null 2>&1; then
  PACKAGES+=(kubernetes-client)
fi

# Debian's chromium, only for //sim:html_report_browser_test (the HTML report
# opened headless); nothing else needs a browser.
if ! command -v chromium >/dev/null 2>&1; then
  PACKAGES+=(chromium)
fi

missing=()
# One dpkg-query call for all packages; unknown packages print nothing on stdout.
installed="$(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)"
for pkg in "${PACKAGES[@]}"; do
  if ! grep -qxF "${pkg} install ok installed" <<<"${installed}"; then
    missing+=("${pkg}")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "bootstrap: missing packages (${missing[*]}) and not root; install sudo or run as root" >&2
    exit 1
  fi
  SUDO=(sudo)
fi

echo "bootstrap: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
