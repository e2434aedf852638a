"""Compile venvlink's resolving stub into the package when a wheel (or an editable install) is built.

Environment: ``CC``, ``CFLAGS`` and ``LDFLAGS`` as usual; ``VENVLINK_WERROR=1`` turns warnings into errors (CI and
development); ``VENVLINK_STRIP=0`` keeps the symbols (packagers who strip, and keep debug info, themselves).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import struct
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

STUB_DIR = Path("src", "virtualenv_linkable", "_stub")
FLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra"]
# ELF e_machine -> the architecture's name in wheel platform tags
MACHINES = {3: "i686", 40: "armv7l", 62: "x86_64", 183: "aarch64", 21: "ppc64le", 22: "s390x", 243: "riscv64"}
MANYLINUX = "manylinux_2_17_{arch}.manylinux2014_{arch}"  # a static binary needs no glibc symbol at all
MUSLLINUX = "musllinux_1_1_{arch}"
# Mach-O cputype -> the architecture's name in wheel platform tags
CPU_TYPES = {0x01000007: "x86_64", 0x0100000C: "arm64"}
MACOS_DEFAULT = "11.0"  # the oldest macOS the wheels claim, unless MACOSX_DEPLOYMENT_TARGET says otherwise


def compilers() -> list[list[str]]:
    """The compile commands to try, best first.

    ``$CC`` when set, and then only it. Otherwise a static build with musl when ``musl-gcc`` is installed: no
    dynamic loader runs, which is most of the stub's start-up cost (benchmarks/), and the wheel runs on every
    Linux. Then the C compiler Python was built with.
    """
    if os.environ.get("CC"):
        return [shlex.split(os.environ["CC"])]
    found = [["musl-gcc", "-static"]] if shutil.which("musl-gcc") else []
    return [*found, shlex.split(sysconfig.get_config_var("CC") or "cc")]


def version(root: Path) -> str:
    text = (root / "src" / "virtualenv_linkable" / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE)
    if found is None:
        raise SystemExit("venvlink: no __version__ in src/virtualenv_linkable/__init__.py")
    return found.group(1)


def command(cc: list[str], source: Path, output: Path, root: Path) -> list[str]:
    werror = ["-Werror"] if os.environ.get("VENVLINK_WERROR") == "1" else []
    strip = [] if os.environ.get("VENVLINK_STRIP") == "0" else ["-s"]
    return [
        *cc,
        *FLAGS,
        *werror,
        *shlex.split(os.environ.get("CFLAGS", "")),
        f'-DVENVLINK_VERSION="{version(root)}"',
        "-o",
        str(output),
        str(source),
        *shlex.split(os.environ.get("LDFLAGS", "")),
        *strip,
    ]


def elf_platform(binary: Path) -> str | None:
    """The wheel platform tag a Linux stub earns: manylinux and musllinux when it is static (no PT_INTERP, so no
    libc of the system is loaded), else ``linux_<arch>``; None when it is not an ELF file (macOS)."""
    data = binary.read_bytes()
    if data[:4] != b"\x7fELF":
        return None
    wide, little = data[4] == 2, data[5] == 1
    order = "<" if little else ">"
    machine = struct.unpack_from(order + "H", data, 18)[0]
    arch = MACHINES.get(machine, f"elf{machine}")
    if arch == "ppc64le" and not little:
        arch = "ppc64"
    if wide:
        (phoff,) = struct.unpack_from(order + "Q", data, 32)
        phentsize, phnum = struct.unpack_from(order + "HH", data, 54)
    else:
        (phoff,) = struct.unpack_from(order + "I", data, 28)
        phentsize, phnum = struct.unpack_from(order + "HH", data, 42)
    types = [struct.unpack_from(order + "I", data, phoff + i * phentsize)[0] for i in range(phnum)]
    if 3 in types:  # PT_INTERP: dynamically linked against this system's libc
        return f"linux_{arch}"
    return f"{MANYLINUX.format(arch=arch)}.{MUSLLINUX.format(arch=arch)}"


def macho_platform(binary: Path) -> str | None:
    """The wheel platform tag a macOS stub earns: ``macosx_<X>_<Y>_<arch>``, the architecture from the Mach-O
    header, the version the latest of MACOSX_DEPLOYMENT_TARGET (default 11.0), the oldest macOS the binary says it
    runs on (LC_BUILD_VERSION; zig's default is its newest SDK's) and, for arm64, 11.0; None when it is not a 64-bit
    Mach-O file of x86_64 or arm64."""
    data = binary.read_bytes()
    if data[:4] != b"\xcf\xfa\xed\xfe":  # MH_MAGIC_64, little-endian
        return None
    cputype, _, _, commands = struct.unpack_from("<iiII", data, 4)
    if cputype not in CPU_TYPES:
        return None
    target = (os.environ.get("MACOSX_DEPLOYMENT_TARGET") or MACOS_DEFAULT).split(".")
    versions = [(int(target[0]), int(target[1]) if len(target) > 1 else 0)]
    if CPU_TYPES[cputype] == "arm64":
        versions.append((11, 0))
    at = 32
    for _ in range(commands):
        cmd, size = struct.unpack_from("<II", data, at)
        if cmd in {0x32, 0x24}:  # LC_BUILD_VERSION (minos after platform), LC_VERSION_MIN_MACOSX (version first)
            (packed,) = struct.unpack_from("<I", data, at + (12 if cmd == 0x32 else 8))
            versions.append((packed >> 16, packed >> 8 & 0xFF))
        at += size
    major, minor = max(versions)
    if major >= 11:  # from macOS 11 on, wheel tags name major versions only: 11.3 needs macosx_12_0
        major, minor = major + (minor > 0), 0
    return f"macosx_{major}_{minor}_{CPU_TYPES[cputype]}"


class StubBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        source = root / STUB_DIR / "stub.c"
        target = root / STUB_DIR / "venvlink-stub"
        partial = target.with_name(f".{target.name}.{os.getpid()}")
        candidates = [cc for cc in compilers() if cc and shutil.which(cc[0])]
        if not candidates:
            # SystemExit prints one line and no traceback through any build frontend.
            raise SystemExit(
                f"venvlink: no C compiler ({' '.join(compilers()[-1]) or 'cc'}) to build the stub; install one "
                "(Debian/Ubuntu: apt install gcc, Fedora: dnf install gcc, macOS: xcode-select --install) "
                "or set CC; or install a wheel built where there is one (tox -e dist builds them), which needs none"
            )
        for cc in candidates:
            result = subprocess.run(command(cc, source, partial, root), capture_output=True, text=True, check=False)
            if result.returncode == 0:
                break
            partial.unlink(missing_ok=True)
        else:
            said = (result.stdout + result.stderr).strip()
            sys.stderr.write(said + "\n" if said else "")
            raise SystemExit(
                f"venvlink: {' '.join(cc)} failed to compile {source} "
                f"(exit status {result.returncode}{', output above' if said else ', no output'}); "
                "set CC to a working C compiler"
            )
        partial.replace(target)

        # The stub does not use Python's ABI: one wheel serves every Python 3 on this platform.
        platform = elf_platform(target) or macho_platform(target)
        platform = platform or sysconfig.get_platform().replace("-", "_").replace(".", "_")
        build_data["pure_python"] = False
        build_data["tag"] = f"py3-none-{platform}"
        if version != "editable":  # an editable install runs the stub from the source tree
            build_data["force_include"][str(target)] = "virtualenv_linkable/_stub/venvlink-stub"
