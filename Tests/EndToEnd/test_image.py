"""The container image's binary: linked with the static Swift standard library, it runs in a bare root holding only
the binary and the system libraries `ldd` names (glibc, libstdc++, libgcc, zlib), without the Swift toolchain.
There is no container engine on the build machines; this chroot is the closest honest check."""
import os
import pathlib
import shutil
import subprocess


from conftest import ROOT

STATIC = os.environ.get("LLMESH_STATIC_BIN", str(ROOT / ".build-static" / "debug" / "llmesh"))


def libraries(binary):
    output = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    paths = []
    for line in output.splitlines():
        parts = line.split()
        if "=>" in parts and len(parts) > 2 and parts[2].startswith("/"):
            paths.append(parts[2])
        elif parts and parts[0].startswith("/"):
            paths.append(parts[0])
    return paths


def test_static_binary_needs_no_swift_runtime_and_runs_in_a_bare_root(tmp_path):
    assert pathlib.Path(STATIC).exists(), f"{STATIC} is missing: scripts/test builds it with --static-swift-stdlib"
    needed = libraries(STATIC)
    assert not [path for path in needed if "swift" in path], needed
    assert {pathlib.Path(path).name.split(".so")[0] for path in needed} <= {"libc", "libm", "libstdc++", "libgcc_s", "libz", "ld-linux-x86-64", "ld-linux-aarch64", "libpthread", "libdl", "librt"}
    root = tmp_path / "root"
    for path in needed:
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    shutil.copy2(STATIC, root / "llmesh")
    # A container has /proc (the Swift runtime reads the command line there); mount one, in a private mount
    # namespace so nothing outlives the test.
    (root / "proc").mkdir()
    script = f"mount -t proc proc {root}/proc && exec chroot {root} /llmesh version"
    result = subprocess.run(["unshare", "--mount", "--pid", "--fork", "sh", "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("llmesh ")
    size = pathlib.Path(STATIC).stat().st_size / 1048576
    print(f"static debug binary {size:.1f} MiB; libraries needed: {', '.join(sorted(pathlib.Path(p).name for p in needed))}")
