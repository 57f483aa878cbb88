"""Repository rules that give Bazel 4.2 Debian's packaged protobuf, gRPC,
abseil, SQLite, libpqxx, OpenSSL and GoogleTest, offline.

Libraries become cc_library targets whose linkopts come from pkg-config (the
headers are in /usr/include, which the auto-configured toolchain already
searches); protoc and grpc_cpp_plugin become executable targets; the
well-known, google.rpc and gRPC health .proto files become proto_library
targets. Target names follow the upstream repositories where there is one
(@com_google_protobuf//:protoc, :protobuf, :duration_proto, ...), so
magiclink.BUILD reads the same as against the real ones.
"""

_WELL_KNOWN_PROTOS = {
    # name: deps
    "any": [],
    "api": ["source_context", "type"],
    "descriptor": [],
    "duration": [],
    "empty": [],
    "field_mask": [],
    "source_context": [],
    "struct": [],
    "timestamp": [],
    "type": ["any", "source_context"],
    "wrappers": [],
}

def _pkg_config(rctx, what, modules):
    result = rctx.execute(["pkg-config", what] + modules)
    if result.return_code != 0:
        fail("pkg-config %s %s failed (run scripts/install-deps.sh --test):\n%s" %
             (what, " ".join(modules), result.stderr))
    return [flag for flag in result.stdout.strip().split(" ") if flag]

def _pkg_config_libs(rctx, modules):
    return _pkg_config(rctx, "--libs", modules)

def _pkg_config_library(rctx, name, modules):
    """A cc_library for pkg-config modules. Include folders other than
    /usr/include are linked into the repository and exported with `includes`,
    the Bazel way to put a folder on dependents' header search path."""
    includes = []
    defines = []
    for flag in _pkg_config(rctx, "--cflags", modules):
        if flag.startswith("-I") and flag[2:] not in ["/usr/include", "/usr/local/include"]:
            folder = "%s_include_%d" % (name, len(includes))
            rctx.symlink(flag[2:], folder)
            includes.append(folder)
        elif flag.startswith("-D"):
            defines.append(flag[2:])
    return ('cc_library(name = "%s", hdrs = glob(%s), includes = %s, defines = %s, linkopts = %s)' %
            (name, repr([f + "/**/*.h" for f in includes]), repr(includes), repr(defines),
             repr(_pkg_config_libs(rctx, modules))))

def _wrapper(rctx, name, binary):
    if not rctx.path(binary).exists:
        fail("%s not found (run scripts/install-deps.sh --test)" % binary)
    rctx.file(name + ".sh", "#!/bin/sh\nexec %s \"$@\"\n" % binary, executable = True)

def _system_protobuf_impl(rctx):
    _wrapper(rctx, "protoc", rctx.attr.protoc)
    build = [
        'package(default_visibility = ["//visibility:public"])',
        'sh_binary(name = "protoc", srcs = ["protoc.sh"])',
        "cc_library(name = \"protobuf\", linkopts = %s)" %
        repr(_pkg_config_libs(rctx, ["protobuf"])),
    ]
    for name, deps in _WELL_KNOWN_PROTOS.items():
        path = "google/protobuf/%s.proto" % name
        rctx.symlink("%s/%s" % (rctx.attr.include_dir, path), path)
        build.append('proto_library(name = "%s_proto", srcs = ["%s"], deps = %s)' %
                     (name, path, repr([":%s_proto" % d for d in deps])))
    rctx.file("WORKSPACE", 'workspace(name = "%s")\n' % rctx.name)
    rctx.file("BUILD.bazel", "\n".join(build) + "\n")

system_protobuf = repository_rule(
    implementation = _system_protobuf_impl,
    attrs = {
        "protoc": attr.string(default = "/usr/bin/protoc"),
        "include_dir": attr.string(default = "/usr/include"),
    },
    environ = ["PKG_CONFIG_PATH"],
    doc = "Debian's protobuf as @com_google_protobuf: protoc, the runtime, well-known protos.",
)

def _system_libraries_impl(rctx):
    _wrapper(rctx, "grpc_cpp_plugin", rctx.attr.grpc_cpp_plugin)
    build = [
        'package(default_visibility = ["//visibility:public"])',
        'sh_binary(name = "grpc_cpp_plugin", srcs = ["grpc_cpp_plugin.sh"])',
    ]
    for name, modules in rctx.attr.pkg_config.items():
        build.append(_pkg_config_library(rctx, name, modules))
    for name, flags in rctx.attr.plain_linkopts.items():
        build.append('cc_library(name = "%s", linkopts = %s)' % (name, repr(flags)))
    for name, spec in rctx.attr.protos.items():
        root, path = spec[0], spec[1]
        rctx.symlink("%s/%s" % (root, path), path)
        build.append('proto_library(name = "%s", srcs = ["%s"], deps = %s)' %
                     (name, path, repr(spec[2:])))
    rctx.file("WORKSPACE", 'workspace(name = "%s")\n' % rctx.name)
    rctx.file("BUILD.bazel", "\n".join(build) + "\n")

system_libraries = repository_rule(
    implementation = _system_libraries_impl,
    attrs = {
        "grpc_cpp_plugin": attr.string(default = "/usr/bin/grpc_cpp_plugin"),
        "pkg_config": attr.string_list_dict(
            doc = "cc_library name -> pkg-config modules whose --libs become its linkopts",
        ),
        "plain_linkopts": attr.string_list_dict(
            doc = "cc_library name -> linkopts, for libraries without a .pc file",
        ),
        "protos": attr.string_list_dict(
            doc = "proto_library name -> [import root, path under it, deps...]",
        ),
    },
    environ = ["PKG_CONFIG_PATH"],
    doc = "Debian's C++ libraries, grpc_cpp_plugin and shared .proto files.",
)
