"""virtualenv --export PATH: create a linkable venv and export it in one call."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from helpers import Interpreter, run, sys_info


@pytest.fixture(autouse=True)
def _own_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def virtualenv(*args: str | Path) -> tuple[int, str]:
    result = run([sys.executable, "-m", "virtualenv", "--no-seed", *args], check=False)
    return result.returncode, result.stdout + result.stderr


def test_export_at_creation(current: Interpreter, tmp_path: Path) -> None:
    venv, one, two = tmp_path / "venv", tmp_path / "one", tmp_path / "two"
    code, output = virtualenv("--creator", "linkable", "-p", current.path, "--export", one, "--export", two, venv)
    assert code == 0, output
    for link in (one, two):
        assert sys_info(link)["prefix"] == str(venv)
    exports = json.loads((tmp_path / "state" / "venvlink" / "exports.json").read_text())["exports"]
    assert sorted(exports) == [str(one), str(two)]


@pytest.mark.parametrize("creator", ["venv", "builtin"])
def test_export_needs_linkable(current: Interpreter, tmp_path: Path, creator: str) -> None:
    code, output = virtualenv("--creator", creator, "-p", current.path, "--export", tmp_path / "tool", tmp_path / "v")
    assert code != 0
    assert f"--export needs --creator linkable (this run uses {creator})" in output
    assert "Traceback" not in output
    assert not (tmp_path / "v").exists()
    assert not (tmp_path / "tool").exists()


def test_no_extra_files_without_export(current: Interpreter, tmp_path: Path) -> None:
    others = "bash,cshell,fish,nushell,powershell,python,xonsh"
    assert virtualenv("--creator", "linkable", "-p", current.path, tmp_path / "a")[0] == 0
    assert virtualenv("--creator", "linkable", "-p", current.path, "--activators", others, tmp_path / "b")[0] == 0
    files = [sorted(str(p.relative_to(tmp_path / v)) for p in (tmp_path / v).rglob("*")) for v in ("a", "b")]
    assert files[0] == files[1]
