# SPDX-License-Identifier: BSD-2-Clause
"""The C toolchain of --config=aarch64: Debian's gcc-aarch64-linux-gnu, nothing downloaded.

The flags mirror what Bazel's own Linux toolchain gives the host build, so that the two builds
differ only in the target: -O2 -DNDEBUG and section garbage collection in opt mode (the
catalog's default, .bazelrc), -g in dbg mode, C++ linked with -lstdc++.
"""

load("@bazel_tools//tools/build_defs/cc:action_names.bzl", "ACTION_NAMES")
load(
    "@bazel_tools//tools/cpp:cc_toolchain_config_lib.bzl",
    "feature",
    "flag_group",
    "flag_set",
    "tool_path",
)

# libcriterion3:arm64 cannot be installed beside the amd64 one (their libnanomsg5 builds carry
# different Debian versions), so tools/aarch64/test.sh unpacks it here; everything else comes
# from Debian's multiarch directories.
CRITERION_LIBDIR = "/opt/teardown-aarch64/usr/lib/aarch64-linux-gnu"

_COMPILE = [
    ACTION_NAMES.assemble,
    ACTION_NAMES.preprocess_assemble,
    ACTION_NAMES.c_compile,
    ACTION_NAMES.cpp_compile,
    ACTION_NAMES.cpp_header_parsing,
]

_LINK = [
    ACTION_NAMES.cpp_link_executable,
    ACTION_NAMES.cpp_link_dynamic_library,
    ACTION_NAMES.cpp_link_nodeps_dynamic_library,
]

def _flags(actions, flags):
    return flag_set(actions = actions, flag_groups = [flag_group(flags = flags)])

def _impl(ctx):
    tools = ["ar", "cpp", "gcc", "gcov", "ld", "nm", "objcopy", "objdump", "strip"]
    features = [
        feature(name = "supports_pic", enabled = True),
        feature(name = "supports_dynamic_linker", enabled = True),
        feature(
            name = "default_flags",
            enabled = True,
            flag_sets = [
                _flags(_COMPILE, ["-fno-omit-frame-pointer", "-Wall"]),
                _flags(_LINK, [
                    "-Wl,-z,relro,-z,now",
                    "-L" + CRITERION_LIBDIR,
                    # DT_RPATH, not DT_RUNPATH: it also serves libcriterion's own libnanomsg.
                    "-Wl,--disable-new-dtags",
                    "-Wl,-rpath," + CRITERION_LIBDIR,
                    "-Wl,-rpath-link,/usr/lib/aarch64-linux-gnu",
                    "-lstdc++",
                    "-lm",
                ]),
            ],
        ),
        feature(name = "dbg", flag_sets = [_flags(_COMPILE, ["-g"])]),
        feature(
            name = "opt",
            flag_sets = [
                _flags(_COMPILE, ["-g0", "-O2", "-DNDEBUG", "-ffunction-sections",
                                  "-fdata-sections"]),
                _flags(_LINK, ["-Wl,--gc-sections"]),
            ],
        ),
        # After the flags above, as in Bazel's own toolchain, so that a target's linkopts have
        # the last word (//third_party:criterion's -Wl,--no-gc-sections).
        feature(
            name = "user_link_flags",
            enabled = True,
            flag_sets = [flag_set(actions = _LINK, flag_groups = [flag_group(
                flags = ["%{user_link_flags}"],
                iterate_over = "user_link_flags",
                expand_if_available = "user_link_flags",
            )])],
        ),
    ]
    return cc_common.create_cc_toolchain_config_info(
        ctx = ctx,
        features = features,
        cxx_builtin_include_directories = [
            "/usr/lib/gcc-cross/aarch64-linux-gnu/12/include",
            "/usr/aarch64-linux-gnu/include",
            "/usr/include/aarch64-linux-gnu",
            "/usr/include",
        ],
        toolchain_identifier = "aarch64-linux-gnu-gcc",
        host_system_name = "x86_64-linux-gnu",
        target_system_name = "aarch64-linux-gnu",
        target_cpu = "aarch64",
        target_libc = "glibc",
        compiler = "gcc",
        abi_version = "aarch64",
        abi_libc_version = "glibc",
        tool_paths = [
            tool_path(name = t, path = "/usr/bin/aarch64-linux-gnu-" + t)
            for t in tools
        ],
    )

cc_toolchain_config = rule(implementation = _impl, attrs = {}, provides = [CcToolchainConfigInfo])
