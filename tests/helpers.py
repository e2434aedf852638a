"""Shared helpers of the test suite: interpreters, venvs, processes, a wheel built without a backend."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Sequence

# before the suite moves HOME into a temporary directory (conftest.py)
PYENV_ROOT = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
NOBODY = 65534
DEPLOY = 1000  # another user: who owns a shared venv, or who attacks
# what site.py and getpath.py strip off pyvenv.cfg's keys and values, str.strip(): Unicode's whitespace
SPACES = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
SYS_INFO = (
    "import json, sys; print(json.dumps({'prefix': sys.prefix, 'exec_prefix': sys.exec_prefix, "
    "'base_prefix': sys.base_prefix, 'executable': sys.executable, 'path': sys.path}))"
)


@dataclass(frozen=True)
class Interpreter:
    path: Path
    real: Path
    implementation: str
    version: tuple[int, int]
    full_version: str
    base_prefix: Path
    origin: str
    machine: str = ""  # platform.machine() as the interpreter says it: x86_64, aarch64

    @property
    def id(self) -> str:
        return f"{self.implementation.lower()}{self.full_version}-{self.origin}"

    @property
    def versioned_name(self) -> str:
        """The name of the venv's entry the stub passes as argv[0] (the interpreter's own name)."""
        return self.real.name

    @classmethod
    def probe(cls, path: Path, origin: str = "env") -> Interpreter | None:
        code = (
            "import json, platform, sys; print(json.dumps([platform.python_implementation(), "
            "list(sys.version_info[:3]), sys.base_prefix, platform.machine()]))"
        )
        try:
            out = subprocess.run([str(path), "-I", "-c", code], capture_output=True, text=True, timeout=60, check=True)
            implementation, version, prefix, machine = json.loads(out.stdout)
        except (OSError, subprocess.SubprocessError, ValueError):
            return None
        if implementation not in {"CPython", "PyPy"} or tuple(version[:2]) < (3, 8):
            return None
        return cls(
            path=path,
            real=Path(os.path.realpath(path)),
            implementation=implementation,
            version=(version[0], version[1]),
            full_version=".".join(map(str, version)),
            base_prefix=Path(prefix),
            origin=origin,
            machine=machine,
        )


def find_interpreters() -> list[Interpreter]:
    """Every CPython 3.8+ and PyPy 3 of pyenv's, the system's, and those listed in ``VENVLINK_TEST_PYTHONS``."""
    candidates: list[tuple[Path, str]] = []
    candidates += [(p, "pyenv") for p in sorted(PYENV_ROOT.glob("versions/*/bin/python3.*"))]
    candidates += [(p, "system") for p in sorted(Path("/usr/bin").glob("python3.*"))]
    candidates += [(p, "system") for p in sorted(Path("/usr/bin").glob("pypy3*"))]
    candidates += [(Path(p), "env") for p in os.environ.get("VENVLINK_TEST_PYTHONS", "").split(os.pathsep) if p]
    found: dict[Path, Interpreter] = {}
    for path, origin in candidates:
        suffix = path.name.removeprefix("python3.").removeprefix("pypy3").removeprefix(".")
        if origin != "env" and suffix.rstrip("t") and not suffix.rstrip("t").isdigit():
            continue  # python3.X-config, python3.Xm, python3.X-gdb.py
        if not os.access(path, os.X_OK) or Path(os.path.realpath(path)) in found:
            continue
        interpreter = Interpreter.probe(path, origin)
        if interpreter is not None:
            found[interpreter.real] = interpreter
    return sorted(found.values(), key=lambda i: (i.implementation, i.version, i.origin))


def as_user(uid: int, groups: Sequence[int] = ()) -> list[str]:
    """A command prefix that runs as ``uid``, its group ``uid`` too (a user's own group, as Debian gives each), with
    ``groups`` as its supplementary groups, none by default (util-linux setpriv)."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("running as another user needs root and setpriv (util-linux)")
    supplementary = f"--groups={','.join(map(str, groups))}" if groups else "--clear-groups"
    return [setpriv, f"--reuid={uid}", f"--regid={uid}", supplementary, "--"]


def run(cmd: list[Any], *, check: bool = True, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a command, and on an unexpected exit show what it printed."""
    result = subprocess.run(
        [os.fsdecode(c) if isinstance(c, (bytes, os.PathLike)) else str(c) for c in cmd],
        capture_output=True,
        text=True,
        errors="surrogateescape",
        timeout=300,
        check=False,
        **kwargs,
    )
    if check and result.returncode != 0:
        msg = f"{cmd} exited {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
        raise AssertionError(msg)
    return result


def venvlink(*args: Any, **kwargs: Any) -> tuple[int, str, str]:
    """The venvlink command in a process of its own, as users run it; never a traceback."""
    result = run([sys.executable, "-m", "virtualenv_linkable", *args], check=False, **kwargs)
    assert "Traceback" not in result.stderr
    return result.returncode, result.stdout, result.stderr


def sys_info(python: Path | str, **kwargs: Any) -> dict[str, Any]:
    """What ``sys`` says when ``python`` runs, as started by that exact path."""
    info: dict[str, Any] = json.loads(run([python, "-c", SYS_INFO], **kwargs).stdout)
    return info


def make_venv(
    interpreter: Interpreter, dest: Path, *options: str, pip: bool = False, creator: str = "linkable"
) -> Path:
    """Create a venv with virtualenv; with ``pip``, one that has pip (the CPython's own for 3.8, which
    virtualenv 21 cannot seed)."""
    seed = pip and interpreter.version >= (3, 9)
    cmd = [sys.executable, "-m", "virtualenv", "-q", "--creator", creator, "-p", interpreter.path, *options]
    run([*cmd, *([] if seed else ["--no-seed"]), dest])
    if pip and not seed:
        run([dest / "bin" / "python", "-m", "ensurepip", "--default-pip"])
    return dest


def stdlib_of(interpreter: Interpreter | Path) -> Path:
    """The interpreter's standard library directory (``/usr/lib/python3.11``)."""
    python = interpreter.path if isinstance(interpreter, Interpreter) else interpreter
    return Path(run([python, "-I", "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"]).stdout.strip())


def wrapped_venv(interpreter: Interpreter, where: Path, first: str = "") -> Path:
    """``where/venv``, made by a base "interpreter" that is a #! wrapper running ``first`` (shell), then
    ``exec -a "$0" real-python "$@"``, as nixpkgs' makeWrapper and HPC modules write them: an installation of its
    own, ``where/wrapped`` (``bin/``, and ``lib/`` linking to the standard library, where CPython looks up from
    the venv's ``home``, as it does in nixpkgs' wrapped Pythons; not up to ``/tmp``, where anyone could put one)."""
    wrapper = where / "wrapped" / "bin" / interpreter.versioned_name
    wrapper.parent.mkdir(parents=True)
    (where / "wrapped" / "lib").mkdir()
    stdlib = stdlib_of(interpreter)
    (where / "wrapped" / "lib" / stdlib.name).symlink_to(stdlib)
    wrapper.write_text(f'#!/bin/bash\n{first}exec -a "$0" {interpreter.real} "$@"\n')
    wrapper.chmod(0o755)
    run([wrapper, "-m", "venv", "--without-pip", where / "venv"])
    return where / "venv"


def make_stale(venv: Path) -> None:
    """The venv's stubs as another venvlink version made them."""
    from virtualenv_linkable import _stub  # noqa: PLC0415

    for entry in (venv / "bin").iterdir():
        if _stub.is_stub(entry):
            old = bytearray(entry.read_bytes())
            at = old.find(_stub.IDENTITY)
            old[at + 32 : at + 64] = b"0.1.9".ljust(32, b"\0")
            entry.write_bytes(bytes(old))


def snapshot(venv: Path) -> dict[str, tuple[str, ...]]:
    """Everything in the venv that convert may touch: each entry's kind, link text or content and mode."""
    found: dict[str, tuple[str, ...]] = {}
    for path in sorted(venv.rglob("*")):
        relative = str(path.relative_to(venv))
        if "__pycache__" in relative or "site-packages" in relative or path.name.endswith(".venvlink"):
            continue  # a kill can leave venvlink's temporary file (docs/failures.rst); it never takes a real name
        if path.is_symlink():
            found[relative] = ("link", os.readlink(path))
        elif path.is_dir():
            found[relative] = ("dir",)
        else:
            found[relative] = ("file", hashlib.sha256(path.read_bytes()).hexdigest(), oct(path.stat().st_mode))
    return found


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(directory: Path, name: str, version: str, files: dict[str, str], entry_points: str = "") -> Path:
    """A pure wheel of ``files`` (path in the wheel: text), written directly: no build backend, no network."""
    info = f"{name}-{version}.dist-info"
    files = {
        **files,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: venvlink-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        **({f"{info}/entry_points.txt": entry_points} if entry_points else {}),
    }
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        record = []
        for path, text in files.items():
            archive.writestr(path, text)
            record.append(_record_line(path, text.encode()))
        record.append(f"{info}/RECORD,,")
        archive.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return wheel


def build_demo_wheel(directory: Path, version: str = "1.0") -> Path:
    """A wheel of ``linkdemo`` with a console script that prints ``sys.prefix``; ``linkdemo.VERSION`` is the
    version."""
    code = f"import sys\n\nVERSION = {version!r}\n\n\ndef main():\n    print(sys.prefix)\n"
    return build_wheel(
        directory, "linkdemo", version, {"linkdemo/__init__.py": code}, "[console_scripts]\nlinkdemo = linkdemo:main\n"
    )


ARM64, X86_64 = 0x0100000C, 0x01000007  # Mach-O cputype


def macho_note(recorded: str = "", version: str = "0.2.0") -> bytes:
    """A macOS stub's identity note (stub.c's struct identity_note, PATH_MAX 1024)."""
    return (
        struct.pack("<III", 9, 64 + 1024, 1)
        + b"venvlink".ljust(12, b"\0")
        + b"venvlink resolving stub".ljust(32, b"\0")
        + version.encode().ljust(32, b"\0")
        + os.fsencode(recorded).ljust(1024, b"\0")
    )


def macho(cputype: int, *, minos: str | None = None, note: bytes | None = None, signature: str | None = None) -> bytes:
    """A small 64-bit Mach-O executable as the linkers lay one out: a __TEXT segment whose section __venvlink holds
    ``note`` at 8 KiB, past the first 4 KiB; LC_BUILD_VERSION for ``minos``; with ``signature`` "adhoc" or "cms", a
    code signature of 4 KiB pages (SHA-256) after the rest, as zig and ld64 sign arm64 executables."""
    note_at = 0x2000
    sections = [] if note is None else [(b"__venvlink", note_at, len(note))]
    segment = [0x19, 72 + 80 * len(sections), b"__TEXT", 1 << 32, 0x4000, 0, 0x4000, 5, 5, len(sections), 0]
    commands = [
        struct.pack("<II16sQQQQiiII", *segment)
        + b"".join(
            struct.pack("<16s16sQQIIIIIIII", name, b"__TEXT", (1 << 32) + at, size, at, 2, 0, 0, 0, 0, 0, 0)
            for name, at, size in sections
        )
    ]
    if minos is not None:
        major, minor = (int(part) for part in minos.split("."))
        commands.append(struct.pack("<IIIIII", 0x32, 24, 1, major << 16 | minor << 8, 15 << 16, 0))
    if signature is not None:
        commands.append(struct.pack("<IIII", 0x1D, 16, 0x4000, 0))  # LC_CODE_SIGNATURE, filled in below
    header = struct.pack("<IiiIIIII", 0xFEEDFACF, cputype, 0, 2, len(commands), sum(map(len, commands)), 0, 0)
    data = bytearray((header + b"".join(commands)).ljust(0x4000, b"\0"))
    if note is not None:
        data[note_at : note_at + len(note)] = note
    if signature is not None:
        data[32 + sum(map(len, commands[:-1])) + 12 : 32 + sum(map(len, commands))] = struct.pack(
            "<I", len(_superblob(bytes(data), signature))
        )
        data += _superblob(bytes(data), signature)
    return bytes(data)


def _superblob(signed: bytes, signature: str) -> bytes:
    """An embedded signature for the file ``signed`` (up to it): a CodeDirectory of its 4 KiB pages, ad hoc, as
    linkers make it; with ``signature`` "cms", also a CMS blob, as signing with an identity adds."""
    ident = b"venvlink-stub\0"
    pages = [hashlib.sha256(signed[at : at + 0x1000]).digest() for at in range(0, len(signed), 0x1000)]
    fields = [0xFADE0C02, 88 + len(ident) + 32 * len(pages), 0x20400, 0x20002, 88 + len(ident), 88, 0, len(pages)]
    fields += [len(signed), 32, 2, 0, 12, 0, 0, 0, 0, 0, 0, 0x4000, 1]
    directory = struct.pack(">9I4B4I4Q", *fields) + ident + b"".join(pages)
    blobs = [(0, directory)]
    if signature == "cms":
        blobs.append((0x10000, struct.pack(">II", 0xFADE0B01, 16) + b"a signer"))
    index, body = b"", b""
    for slot, blob in blobs:
        index += struct.pack(">II", slot, 12 + 8 * len(blobs) + len(body))
        body += blob
    return struct.pack(">III", 0xFADE0CC0, 12 + len(index) + len(body), len(blobs)) + index + body


STUB_SOURCE = Path(__file__).parent.parent / "src" / "virtualenv_linkable" / "_stub" / "stub.c"


def compiler() -> str:
    """The C compiler for test programs and test builds of the stub; the test is skipped without one."""
    cc = shutil.which(os.environ.get("CC", "cc"))
    if cc is None:
        pytest.skip("no C compiler (cc) to build a test program")
    return cc
