"""cc_proto: compile .proto files with the system protoc (and grpc_cpp_plugin).

    cc_proto(
        name = "core_cc_proto",
        srcs = ["core.proto"],
        deps = [":meta_cc_proto"],   # other cc_proto targets it imports
        grpc = False,
    )

Imports are relative to the workspace root ("api/meta.proto").
"""

def cc_proto(name, srcs, deps = [], grpc = False, visibility = None):
    outs = []
    for src in srcs:
        base = src[:-len(".proto")]
        outs += [base + ".pb.h", base + ".pb.cc"]
        if grpc:
            outs += [base + ".grpc.pb.h", base + ".grpc.pb.cc"]

    pkg = native.package_name()
    src_paths = " ".join([pkg + "/" + s for s in srcs])
    grpc_flags = ""
    tools = []
    if grpc:
        grpc_flags = "--grpc_out=$(GENDIR) --plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin"

    native.genrule(
        name = name + "_gen",
        srcs = srcs + [d + "_srcs" for d in deps],
        outs = outs,
        cmd = "/usr/bin/protoc -I. --cpp_out=$(GENDIR) %s %s" % (grpc_flags, src_paths),
        tools = tools,
    )
    native.filegroup(
        name = name + "_srcs",
        srcs = srcs + [d + "_srcs" for d in deps],
        visibility = visibility,
    )
    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        deps = deps + ["@system//:protobuf"] + (["@system//:grpc"] if grpc else []),
        visibility = visibility,
    )
