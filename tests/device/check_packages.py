"""Checks what ava3-decoder-ffi/packaging/package.sh produced, as an app
build would consume it (run by tests/device.sh):

    python3 tests/device/check_packages.py OUT_DIR

- the .aar: AndroidManifest.xml, proguard.txt, classes.jar with
  com.ava.ava3.Ava3Model (whose native methods are exactly the functions of
  packaging/android/jni/ava3_jni.c and the JNI exports of libava3_jni.so),
  its Requirements and Ava3Exception, and
  jni/<abi>/ libraries of the right machine that export the whole C ABI of
  include/ava3.h, need only bionic's libc/libdl/libm/liblog (and
  libava3_decoder.so for the glue), and leave nothing undefined that the link
  did not record;
- the static libraries of every Android ABI;
- the .xcframework: Info.plist slices that exist, headers equal to
  include/ava3.h, a module map for `import Ava3`, static libraries of the
  right architectures and platform;
- Package.swift pointing at the framework;
- on ARM64 (the Android .so and the iOS device slice): AES and SHA-256 on
  the ARMv8 instructions (aese, sha256h) and the NEON shuffle (tbl).
Prints 'N passed, N failed'.
"""
import glob
import os
import plistlib
import re
import subprocess
import sys
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The Rust toolchain's own LLVM tools (rustup component llvm-tools) read the
# objects of Rust's std, which carry bitcode of a newer LLVM than Debian's.
RUST_LLVM = os.path.join(subprocess.run(["rustc", "--print", "sysroot"], capture_output=True, text=True).stdout.strip(),
                         "lib/rustlib/x86_64-unknown-linux-gnu/bin")
TOOLS = {t: os.path.join(RUST_LLVM, t) for t in ("llvm-nm", "llvm-objdump", "llvm-readobj")}
passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL", what)


def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


HEADER = open(os.path.join(ROOT, "ava3-decoder-ffi/include/ava3.h")).read()
C_API = sorted(set(re.findall(r"\b(ava3_[a-z_0-9]+)\(", HEADER)))
GLUE = open(os.path.join(ROOT, "ava3-decoder-ffi/packaging/android/jni/ava3_jni.c")).read()
GLUE_NATIVES = sorted(set(re.findall(r"\bAVA3_JNI\((\w+)\)\(", GLUE)))
ARM_INSNS = ("aese", "sha256h", "tbl")


def arm_insns(path):
    dis = run(TOOLS["llvm-objdump"], "-d", "--no-show-raw-insn", "--mattr=+aes,+sha2", path)
    return {i: len(re.findall(r"^\s*[0-9a-f]+:\s+%s[\s.]" % i, dis, re.M)) for i in ARM_INSNS}


def check_so(path, machine, needed_ok, exports):
    hdr = run(TOOLS["llvm-readobj"], "--elf-output-style=GNU", "-h", "-d", path)
    check(re.search(r"Machine:\s+" + machine, hdr) is not None, f"{path}: machine {machine}")
    check("Type:                              DYN" in hdr, f"{path}: shared object")
    needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", hdr))
    check(needed <= needed_ok, f"{path}: needs {sorted(needed - needed_ok)}")
    defined = set(run(TOOLS["llvm-nm"], "-D", "--defined-only", "--format=just-symbols", path).split())
    missing = [s for s in exports if s not in defined]
    check(not missing, f"{path}: does not export {missing[:5]}")
    stray = [s for s in defined if not (s.startswith("ava3_") or s.startswith("Java_"))]
    check(not stray, f"{path}: exports more than the API: {stray[:5]}")
    return defined


def main(out):
    a = os.path.join(out, "android")
    aars = glob.glob(os.path.join(a, "*.aar"))
    check(len(aars) == 1, "one .aar")
    with zipfile.ZipFile(aars[0]) as z, tempfile.TemporaryDirectory() as t:
        names = set(z.namelist())
        for n in ("AndroidManifest.xml", "classes.jar", "proguard.txt"):
            check(n in names, f"aar: {n}")
        z.extractall(t)
        manifest = open(os.path.join(t, "AndroidManifest.xml")).read()
        check('package="com.ava.ava3"' in manifest, "aar: manifest package")
        javap = run("javap", "-p", "-cp", os.path.join(t, "classes.jar"), "com.ava.ava3.Ava3Model")
        natives = sorted(re.findall(r"native \S+ (\w+)\(", javap))
        check(len(natives) > 4 and natives == GLUE_NATIVES, f"classes.jar natives {natives} vs ava3_jni.c {GLUE_NATIVES}")
        classes = set(run("jar", "tf", os.path.join(t, "classes.jar")).split())
        for c in ("Ava3Model", "Ava3Model$Requirements", "Ava3Exception"):
            check(f"com/ava/ava3/{c}.class" in classes, f"classes.jar: com.ava.ava3.{c}")
        rules = open(os.path.join(t, "proguard.txt")).read()
        check("com.ava.ava3.Ava3Model" in rules and "com.ava.ava3.Ava3Exception" in rules, "aar: proguard.txt keeps the JNI classes")
        abis = sorted(os.listdir(os.path.join(t, "jni")))
        check("arm64-v8a" in abis and "x86_64" in abis, f"aar ABIs {abis}")
        machines = {"arm64-v8a": "AArch64", "x86_64": "Advanced Micro Devices X86-64", "armeabi-v7a": "ARM"}
        system = {"libc.so", "libdl.so", "libm.so", "liblog.so"}
        for abi in abis:
            d = os.path.join(t, "jni", abi)
            check_so(os.path.join(d, "libava3_decoder.so"), machines[abi], system, C_API)
            jni = check_so(os.path.join(d, "libava3_jni.so"), machines[abi], system | {"libava3_decoder.so"},
                           [f"Java_com_ava_ava3_Ava3Model_{n}" for n in natives])
            check(sorted(s.rsplit("_", 1)[1] for s in jni if s.startswith("Java_")) == natives,
                  f"{abi}: JNI exports match the class")
            jnilib = os.path.join(a, "jniLibs", abi, "libava3_decoder.so")
            check(open(jnilib, "rb").read() == open(os.path.join(d, "libava3_decoder.so"), "rb").read(),
                  f"jniLibs/{abi} equals the aar's")
            if abi == "arm64-v8a":
                n = arm_insns(os.path.join(d, "libava3_decoder.so"))
                print(f"android arm64-v8a libava3_decoder.so: {n}")
                check(all(n[i] > 0 for i in ARM_INSNS), f"arm64-v8a: ARMv8 AES/SHA-256 and NEON tbl {n}")
    for abi in ("arm64-v8a", "armeabi-v7a", "x86_64"):
        lib = os.path.join(a, "static", abi, "libava3_decoder.a")
        syms = set(run(TOOLS["llvm-nm"], "--defined-only", "--format=just-symbols", lib).split())
        check(all(s in syms for s in C_API), f"static/{abi}: the whole C API")
    check(open(os.path.join(a, "include", "ava3.h")).read() == HEADER, "android include/ava3.h is current")

    x = os.path.join(out, "ios", "Ava3.xcframework")
    info = plistlib.load(open(os.path.join(x, "Info.plist"), "rb"))
    check(info.get("CFBundlePackageType") == "XFWK", "xcframework: package type")
    slices = {s["LibraryIdentifier"]: s for s in info["AvailableLibraries"]}
    check(set(slices) == {"ios-arm64", "ios-arm64_x86_64-simulator"}, f"xcframework slices {sorted(slices)}")
    for ident, s in slices.items():
        lib = os.path.join(x, ident, s["LibraryPath"])
        hdrs = os.path.join(x, ident, s["HeadersPath"])
        check(os.path.isfile(lib), f"{ident}: library")
        check(open(os.path.join(hdrs, "ava3.h")).read() == HEADER, f"{ident}: ava3.h is current")
        mm = open(os.path.join(hdrs, "module.modulemap")).read()
        check("module Ava3" in mm and 'header "ava3.h"' in mm, f"{ident}: module map")
        check(s["SupportedPlatform"] == "ios", f"{ident}: platform")
        check((s.get("SupportedPlatformVariant") == "simulator") == ident.endswith("simulator"), f"{ident}: variant")
        hdr = run(TOOLS["llvm-objdump"], "--macho", "--private-headers", "--arch=all", lib)
        platforms = set(re.findall(r"platform (\S+)", hdr))
        want = {"iossimulator"} if ident.endswith("simulator") else {"ios"}
        check(platforms == want, f"{ident}: Mach-O platform {platforms}")
        archs = set(re.findall(r"^\S+\(.*\) \(architecture (\S+)\):", hdr, re.M)) or {"arm64"}
        check(archs == set(s["SupportedArchitectures"]), f"{ident}: architectures {archs}")
        syms = set(run(TOOLS["llvm-nm"], "--defined-only", "--format=just-symbols", "--arch=all", lib).split())
        check(all("_" + f in syms for f in C_API), f"{ident}: the whole C API")
        if ident == "ios-arm64":
            n = arm_insns(lib)
            print(f"ios-arm64 libava3_decoder.a: {n}")
            check(all(n[i] > 0 for i in ARM_INSNS), f"ios-arm64: ARMv8 AES/SHA-256 and NEON tbl {n}")
    pkg = open(os.path.join(out, "ios", "Package.swift")).read()
    check('.binaryTarget(name: "Ava3", path: "Ava3.xcframework")' in pkg, "Package.swift binary target")
    print(f"packages: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
