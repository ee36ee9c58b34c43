"""A repository rule that wraps Debian's system libraries as cc_library targets.

Link flags come from pkg-config so that Abseil's many small archives, gRPC's
dependencies and protobuf's threading flags are never hand-listed. Headers are
in /usr/include, which the compiler searches already.
"""

# target name -> (pkg-config modules, extra linkopts)
_LIBS = {
    "absl": ([
        "absl_base",
        "absl_flat_hash_map",
        "absl_flat_hash_set",
        "absl_hash",
        "absl_inlined_vector",
        "absl_random_random",
        "absl_status",
        "absl_statusor",
        "absl_str_format",
        "absl_strings",
        "absl_synchronization",
        "absl_time",
        "absl_span",
        "absl_optional",
        "absl_flags",
        "absl_flags_parse",
        "absl_cord",
    ], []),
    "protobuf": (["protobuf"], []),
    "grpc": (["grpc++"], ["-lgrpc++_reflection"]),
    "gtest": (["gtest", "gmock"], []),
    "gtest_main": (["gtest_main"], []),
    "benchmark": (["benchmark"], []),
    "benchmark_main": (["benchmark"], ["-lbenchmark_main"]),
    "yaml_cpp": (["yaml-cpp"], []),
    # Header and compiled parts; its -D flags (OpenSSL support) change the
    # classes' layout, so they go to every dependent as defines.
    "httplib": (["cpp-httplib"], []),
    "nlohmann_json": (["nlohmann_json"], []),
    # libsimdjson-dev: the JSON front end of api/decode (On-Demand API).
    "simdjson": (["simdjson"], []),
    # libcurl4-openssl-dev: the API server client's transport.
    "curl": (["libcurl"], []),
    # libssl-dev: httplib's SSLServer in tests, and TLS errors.
    "openssl": (["openssl"], []),
    # prometheus-cpp-dev: the core library only (Registry, metric types,
    # TextSerializer); `kestrel scheduler` serves /metrics itself.
    "prometheus": (["prometheus-cpp-core"], []),
}

def _pkg_config(ctx, args):
    result = ctx.execute(["pkg-config"] + args)
    if result.return_code != 0:
        fail("pkg-config %s failed: %s\nRun tools/bootstrap.sh to install the Debian packages." % (" ".join(args), result.stderr))
    return result.stdout.strip()

def _split(flags):
    return [f for f in flags.split(" ") if f]

def _system_libs_impl(ctx):
    build = ['package(default_visibility = ["//visibility:public"])', ""]
    for name, (modules, extra) in _LIBS.items():
        libs = _split(_pkg_config(ctx, ["--libs"] + modules)) + extra
        cflags = [f for f in _split(_pkg_config(ctx, ["--cflags"] + modules)) if not f.startswith("-I/usr/include")]
        defines = [f[2:] for f in cflags if f.startswith("-D")]
        cflags = [f for f in cflags if not f.startswith("-D")]
        build.append("cc_library(")
        build.append('    name = "%s",' % name)
        build.append("    copts = %s," % repr(cflags))
        build.append("    defines = %s," % repr(defines))
        build.append("    linkopts = %s," % repr(libs + ["-lpthread"]))
        build.append(")")
        build.append("")
    ctx.file("BUILD.bazel", "\n".join(build))
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)

system_libs = repository_rule(
    implementation = _system_libs_impl,
    local = True,
    environ = ["PKG_CONFIG_PATH"],
)
