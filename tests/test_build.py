"""The build hook: a stripped, static stub in a wheel PyPI accepts; CC, CFLAGS and LDFLAGS honoured; a failing
or missing compiler stops with one line that says what to do."""

from __future__ import annotations

import platform
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from helpers import ARM64, X86_64, macho, run
from virtualenv_linkable import _macho, _stub

ROOT = Path(__file__).parent.parent


def build_script() -> Any:  # hatch_build.py, imported as hatchling imports it
    sys.path.insert(0, str(ROOT))
    try:
        import hatch_build  # noqa: PLC0415
    finally:
        sys.path.remove(str(ROOT))
    return hatch_build


def hook(root: Path) -> Any:  # hatchling's hook class, imported from the build script
    hook_class = build_script().StubBuildHook
    return hook_class(str(root), {}, None, None, str(root / "build"), "wheel")


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A copy of what the hook reads, so that a build here never replaces the stub the other tests use."""
    for relative in ("src/virtualenv_linkable/__init__.py", "src/virtualenv_linkable/_stub/stub.c"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / relative, tmp_path / relative)
    return tmp_path


def build(source: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[dict[str, Any], Path]:
    for name in ("CC", "CFLAGS", "LDFLAGS", "VENVLINK_WERROR", "VENVLINK_STRIP"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    build_data: dict[str, Any] = {"force_include": {}}
    hook(source).initialize("standard", build_data)
    return build_data, source / "src" / "virtualenv_linkable" / "_stub" / "venvlink-stub"


def test_wheel_holds_the_stub(our_wheel: Path) -> None:
    wheel = our_wheel
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = archive.getinfo("virtualenv_linkable/_stub/venvlink-stub")
        assert archive.read(info)[:4] == (b"\xcf\xfa\xed\xfe" if sys.platform == "darwin" else b"\x7fELF")
        assert (info.external_attr >> 16) & stat.S_IXUSR
        wheel_file = archive.read(next(n for n in names if n.endswith(".dist-info/WHEEL"))).decode()
    assert not [n for n in names if n.endswith(".c")]
    assert "Root-Is-Purelib: false" in wheel_file
    if shutil.which("musl-gcc"):  # a static stub: one wheel for every Linux of this architecture
        assert wheel.name.endswith("-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.musllinux_1_1_x86_64.whl")


def test_static_and_stripped(source: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not shutil.which("musl-gcc") or not shutil.which("readelf"):
        pytest.skip("needs musl-gcc (Debian: musl-tools) and readelf (binutils)")
    build_data, stub = build(source, monkeypatch)
    sections = run(["readelf", "-S", "-W", stub]).stdout
    assert ".symtab" not in sections, "stripped"
    assert "INTERP" not in run(["readelf", "-l", "-W", stub]).stdout, "static: no dynamic loader"
    assert build_data["tag"] == "py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.musllinux_1_1_x86_64"
    _, unstripped = build(source, monkeypatch, VENVLINK_STRIP="0")
    assert ".symtab" in run(["readelf", "-S", "-W", unstripped]).stdout


def test_dynamic_build_is_tagged_for_this_linux_only(source: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    build_data, _ = build(source, monkeypatch, CC=cc)
    assert build_data["tag"] == f"py3-none-linux_{platform.machine()}"


def test_cflags_and_ldflags_reach_the_compiler(source: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SystemExit) as stop:
        build(source, monkeypatch, CC="cc", CFLAGS="-include /no/such/venvlink-cflags.h")
    assert "failed to compile" in str(stop.value.code)
    with pytest.raises(SystemExit) as stop:
        build(source, monkeypatch, CC="cc", LDFLAGS="-lno-such-venvlink-ldflags")
    assert "failed to compile" in str(stop.value.code)


def test_warnings_are_errors_only_when_asked(source: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Packagers' compilers warn about things ours do not: -Werror is for development and CI only."""
    warn = "-Wlarger-than=4096"  # the stub's static buffers are larger: a warning, not a bug
    cc = shutil.which("cc") or "cc"
    output = subprocess.run(
        [cc, warn, "-fsyntax-only", source / "src/virtualenv_linkable/_stub/stub.c"], capture_output=True, check=False
    )
    assert b"warning" in output.stderr, "the flag must make the compiler warn, or this test proves nothing"
    build(source, monkeypatch, CC="cc", CFLAGS=warn)
    with pytest.raises(SystemExit):
        build(source, monkeypatch, CC="cc", CFLAGS=warn, VENVLINK_WERROR="1")


@pytest.mark.parametrize(
    ("cc", "message"),
    [
        (
            "false",
            "venvlink: false failed to compile {source} (exit status 1, no output); set CC to a working C compiler",
        ),
        ("{tmp}/no-such-cc", "venvlink: no C compiler ({tmp}/no-such-cc) to build the stub; install one"),
    ],
)
def test_a_failing_or_missing_compiler_says_what_to_do(
    cc: str, message: str, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SystemExit) as stop:
        build(source, monkeypatch, CC=cc.format(tmp=source))
    said = str(stop.value.code)
    assert "\n" not in said
    assert said.startswith(message.format(tmp=source, source=source / "src/virtualenv_linkable/_stub/stub.c"))
    assert not (source / "src/virtualenv_linkable/_stub/venvlink-stub").exists(), "no half-built stub left"


@pytest.mark.parametrize(
    ("binary", "target", "tag"),
    [
        ((ARM64, None), None, "macosx_11_0_arm64"),
        ((X86_64, None), None, "macosx_11_0_x86_64"),
        ((X86_64, "10.13"), "10.13", "macosx_10_13_x86_64"),
        ((ARM64, "11.0"), "10.13", "macosx_11_0_arm64"),  # arm64 macOS begins with 11
        ((ARM64, "11.0"), "12.0", "macosx_12_0_arm64"),
        ((ARM64, "15.0"), None, "macosx_15_0_arm64"),  # zig's default: never claim an older macOS than the binary
        ((X86_64, "11.3"), None, "macosx_12_0_x86_64"),  # tags name 11, 12 ...: 11_3 would match no pip
    ],
)
def test_macos_tag_is_read_from_the_binary(
    binary: tuple[int, str | None], target: str | None, tag: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cputype and LC_BUILD_VERSION (the Mach-O header) and MACOSX_DEPLOYMENT_TARGET make a macOS wheel's tag."""
    cputype, minos = binary
    monkeypatch.delenv("MACOSX_DEPLOYMENT_TARGET", raising=False)
    if target:
        monkeypatch.setenv("MACOSX_DEPLOYMENT_TARGET", target)
    (tmp_path / "stub").write_bytes(macho(cputype, minos=minos))
    assert build_script().macho_platform(tmp_path / "stub") == tag
    (tmp_path / "elf").write_bytes(b"\x7fELF" + bytes(60))
    assert build_script().macho_platform(tmp_path / "elf") is None


@pytest.mark.parametrize(("target", "arch"), [("aarch64-macos.11.0", "arm64"), ("x86_64-macos.11.0", "x86_64")])
def test_macos_stub_cross_built_by_zig(target: str, arch: str, source: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stub compiles for macOS (zig, as tox -e dist builds it); its note is where venvlink and the stub look,
    and its ad-hoc signature (arm64) stays valid when the creator records an interpreter in it."""
    pytest.importorskip("ziglang", reason="needs zig (pip install ziglang; tox -e dist has it)")
    monkeypatch.delenv("MACOSX_DEPLOYMENT_TARGET", raising=False)
    build_data, stub = build(
        source, monkeypatch, CC=f"{sys.executable} -m ziglang cc -target {target}", VENVLINK_WERROR="1"
    )
    data = stub.read_bytes()
    assert build_data["tag"] == f"py3-none-macosx_11_0_{arch}"
    assert _macho.note(data) is not None
    assert _macho.note(data) >= 4096, "if a linker ever puts it in the first 4 KiB, stub.c's comment is wrong"
    assert _stub.version(data) == __import__("virtualenv_linkable").__version__
    recorded = _stub.with_recorded(data, "/Library/Frameworks/Python.framework/Versions/3.13/bin/python3.13")
    assert _stub.recorded(recorded) == "/Library/Frameworks/Python.framework/Versions/3.13/bin/python3.13"
    assert _macho.signed(data) == (arch == "arm64"), "zig signs arm64 executables ad hoc, as Apple's linker does"
    assert _macho.signature_valid(data)
    assert _macho.signature_valid(recorded)
