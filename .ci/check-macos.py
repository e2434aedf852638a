#!/usr/bin/env python3
"""The macOS wheels in DIST, checked as files, since no macOS runs here: each is tagged macosx_<X>_<Y>_<arch>; its
stub is an executable Mach-O file of that architecture for that macOS; venvlink (_stub.py) and the Linux stub
(stub.c, in explain mode) find its identity note and recorded slot through its load commands; and an arm64 stub's
ad-hoc signature is valid, before and after an interpreter is recorded in it.

    python .ci/check-macos.py DIST [MACOSX_DEPLOYMENT_TARGET]      (run by .ci/dist, with venvlink installed)
"""

from __future__ import annotations

import os
import struct
import sys
import tempfile
import zipfile
from pathlib import Path

from virtualenv_linkable import __version__, _macho, _stub

CPU_TYPES = {"x86_64": 0x01000007, "arm64": 0x0100000C}
STUB = "virtualenv_linkable/_stub/venvlink-stub"


def require(condition: object, message: str) -> None:
    if not condition:
        raise SystemExit(f"check-macos: {message}")


def minos(data: bytes) -> tuple[int, int] | None:
    """The oldest macOS the binary says it runs on (LC_BUILD_VERSION, platform macOS)."""
    (commands,) = struct.unpack_from("<I", data, 16)
    at = 32
    for _ in range(commands):
        cmd, size = struct.unpack_from("<II", data, at)
        if cmd == 0x32:
            platform, packed = struct.unpack_from("<II", data, at + 8)
            return (packed >> 16, packed >> 8 & 0xFF) if platform == 1 else None
        at += size
    return None


def check(wheel: Path, arch: str, target: tuple[int, int], work: Path) -> str:
    version = max(target, (11, 0)) if arch == "arm64" else target
    tag = f"macosx_{version[0]}_{0 if version[0] >= 11 else version[1]}_{arch}"
    require(wheel.name.endswith(f"-py3-none-{tag}.whl"), f"{wheel.name}: not tagged {tag}")
    with zipfile.ZipFile(wheel) as archive:
        info = archive.getinfo(STUB)
        data = archive.read(info)
        require((info.external_attr >> 16) & 0o111, f"{wheel.name}: the stub is not executable")
        wheel_file = archive.read(next(n for n in archive.namelist() if n.endswith(".dist-info/WHEEL"))).decode()
    require(f"Tag: py3-none-{tag}" in wheel_file.splitlines(), f"{wheel.name}: its WHEEL file says another tag")
    magic, cputype, _, filetype = struct.unpack_from("<IiiI", data, 0)
    require((magic, filetype) == (0xFEEDFACF, 2), f"{wheel.name}: not a 64-bit Mach-O executable")
    require(cputype == CPU_TYPES[arch], f"{wheel.name}: cputype {cputype:#x}, not {arch}'s")
    require(minos(data) == version, f"{wheel.name}: built for macOS {minos(data)}, tagged {tag}")

    note = _macho.note(data)
    require(note is not None, f"{wheel.name}: no section __TEXT,__venvlink")
    require(_stub.version(data) == __version__, f"{wheel.name}: the identity note says {_stub.version(data)!r}")
    require(_stub.recorded(data) == "", f"{wheel.name}: an interpreter is recorded in the released stub")
    interpreter = os.path.realpath(sys.executable)
    recorded = _stub.with_recorded(data, interpreter)
    require(_stub.recorded(recorded) == interpreter, "recording an interpreter and reading it back differ")
    if arch == "arm64":  # arm64 macOS kills a process whose pages do not match its signature
        require(_macho.signed(data), f"{wheel.name}: an arm64 stub without a code signature")
    require(_macho.signature_valid(data), f"{wheel.name}: its signature does not match its pages")
    require(_macho.signature_valid(recorded), f"{wheel.name}: recording an interpreter broke its signature")

    # the stub of this machine reads the macOS stub as a macOS stub would read itself: through the load commands
    copy = work / arch / "python"
    copy.parent.mkdir()
    copy.write_bytes(recorded)
    copy.chmod(0o755)
    (explained,) = _stub.explain([str(copy)])
    require(
        (explained.found, explained.executable) == ("recorded", interpreter),
        f"the Linux stub reads {copy} as {explained}",
    )

    signature = "ad-hoc signature valid before and after recording" if _macho.signed(data) else "unsigned"
    return (
        f"{wheel.name}: Mach-O {arch} executable for macOS {version[0]}.{version[1]}; identity note at "
        f"{note:#x} (found through the load commands, by venvlink and by the Linux stub); {signature}"
    )


def main() -> None:
    dist = Path(sys.argv[1])
    target = tuple(int(part) for part in (sys.argv[2] if len(sys.argv) > 2 else "11.0").split(".")[:2])
    with tempfile.TemporaryDirectory() as work:
        for arch in CPU_TYPES:
            wheels = sorted(dist.glob(f"*-py3-none-macosx_*_{arch}.whl"))
            require(len(wheels) == 1, f"{dist}: {len(wheels)} macOS {arch} wheels")
            print(check(wheels[0], arch, (target[0], target[1] if len(target) > 1 else 0), Path(work)))


if __name__ == "__main__":
    main()
