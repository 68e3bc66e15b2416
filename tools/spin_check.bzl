# SPDX-License-Identifier: BSD-2-Clause
"""spin_model_test: one version of a Spin model, checked for its expected verdict.

Each call is one sh_test that runs tools/spin_check.sh (its header documents the options):

    spin_model_test(
        name = "rundown_fix",              # also the version name the runner prints
        model = "rundown.pml",
        expect = "holds",                  # or "violates"
        defines = ["-DFIX"],               # the model's version switches
        why = "assertion violated",        # with violates: the error pan must report
        mode = "safety",                   # or "np" (non-progress cycles) or "ltl:NAME"
    )
"""

# Weak fairness for the liveness searches of models whose threads spin in a loop; NFAIR is
# pan's fairness bookkeeping, for this many processes' worth of turns.
SPIN_FAIR = ["--fair", "--cc", "-DNFAIR=3"]

# The x86-TSO memory model the store-buffering models include.
SPIN_TSO = "//patterns/common/model:tso.pml"

def spin_models(model, versions, data = [], prefix = ""):
    """A model's table of versions, one spin_model_test each, named prefix + name.

    versions: (name, expected verdict, the model's switches, the error pan must report, mode)
    tuples, with an optional sixth element: more runner options (e.g. SPIN_FAIR).
    """
    for version in versions:
        name, expect, defines, why, mode = version[:5]
        spin_model_test(
            name = prefix + name,
            model = model,
            expect = expect,
            defines = defines,
            why = why,
            mode = mode,
            options = version[5] if len(version) > 5 else [],
            data = data,
        )

def spin_model_test(
        name,
        model,
        expect,
        defines = [],
        why = None,
        mode = "safety",
        options = [],
        data = [],
        size = "small",
        tags = []):
    """One model version as an sh_test; data: files the model #includes."""
    args = ["$(rootpath %s)" % model, expect, "--label", name]
    if mode == "np":
        args.append("--np")
    elif mode.startswith("ltl:"):
        args += ["--ltl", mode[len("ltl:"):]]
    elif mode != "safety":
        fail("spin_model_test: mode must be safety, np or ltl:NAME, not " + mode)
    if why:
        args += ["--why", "'%s'" % why]
    native.sh_test(
        name = name,
        srcs = ["//tools:spin_check.sh"],
        args = args + options + defines,
        data = [model] + data,
        size = size,
        tags = tags + ["spin"],
    )
