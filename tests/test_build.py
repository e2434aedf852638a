"""The build hook: a platform wheel with the compiled stub, and a one-line stop without a C compiler."""

from __future__ import annotations

import stat
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from helpers import run

ROOT = Path(__file__).parent.parent


def test_wheel_holds_the_stub(tmp_path: Path) -> None:
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", tmp_path, ROOT])
    (wheel,) = tmp_path.glob("venvlink-*.whl")
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    assert wheel.name.endswith(f"-py3-none-{platform}.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = archive.getinfo("venvlink/_stub/venvlink-stub")
        assert archive.read(info)[:4] == b"\x7fELF"
        assert (info.external_attr >> 16) & stat.S_IXUSR
    assert not [n for n in names if n.endswith(".c")]
    assert (
        "Root-Is-Purelib: false"
        in zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/WHEEL"))).decode()
    )


def test_no_compiler_stops_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sys.path.insert(0, str(ROOT))
    try:
        from hatch_build import StubBuildHook  # noqa: PLC0415
    finally:
        sys.path.remove(str(ROOT))
    monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))
    hook = StubBuildHook(str(ROOT), {}, None, None, str(tmp_path), "wheel")  # type: ignore[arg-type]
    with pytest.raises(SystemExit) as stop:
        hook.initialize("standard", {"force_include": {}})
    message = str(stop.value.code)
    assert "\n" not in message
    assert message.startswith("venvlink: no C compiler")
    assert "apt install gcc" in message
