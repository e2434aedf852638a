"""The ``linkable`` creator inside virtualenv: its options behave as cpython3-posix's, and nothing else changes."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
from python_discovery import PythonInfo

from helpers import Interpreter, make_venv, run, sys_info
from venvlink import __version__
from venvlink._creator import LinkableCreator
from venvlink._install import stub_path


def virtualenv(*args: str | Path, **kwargs: object) -> str:
    return run([sys.executable, "-m", "virtualenv", *args], **kwargs).stdout  # type: ignore[arg-type]


def is_stub(path: Path) -> bool:
    return not path.is_symlink() and path.read_bytes() == stub_path().read_bytes()


def test_help_lists_linkable_and_keeps_builtin(current: Interpreter) -> None:
    text = " ".join(virtualenv("--help", "-p", current.path).split())
    assert "(builtin = cpython3-posix)" in text
    assert re.search(r"--creator \{builtin,[^}]*\blinkable\b", text)


@pytest.mark.parametrize("creator", [None, "builtin", "venv"])
def test_other_creators_unchanged(current: Interpreter, tmp_path: Path, creator: str | None) -> None:
    options = ["--no-seed", "-p", str(current.path)] + ([] if creator is None else ["--creator", creator])
    virtualenv(*options, tmp_path / "venv")
    python = tmp_path / "venv" / "bin" / "python"
    assert python.is_symlink()
    assert not is_stub(python)
    assert "venvlink" not in (tmp_path / "venv" / "pyvenv.cfg").read_text()


def test_creator_from_environment_variable(current: Interpreter, tmp_path: Path) -> None:
    env = {**os.environ, "VIRTUALENV_CREATOR": "linkable"}
    virtualenv("--no-seed", "-p", current.path, tmp_path / "venv", env=env)
    assert is_stub(tmp_path / "venv" / "bin" / "python")


def test_pyvenv_cfg_keys(current: Interpreter, tmp_path: Path) -> None:
    venv = make_venv(current, tmp_path / "venv")
    lines = (venv / "pyvenv.cfg").read_text().splitlines()
    assert f"venvlink = {__version__}" in lines
    assert f"venvlink-executable = {current.real}" in lines
    # what cpython3-posix writes is all there
    for key in ("home", "implementation", "version_info", "base-prefix", "base-executable", "virtualenv"):
        assert any(line.startswith(f"{key} = ") for line in lines), key


def test_no_temporary_files_left(current: Interpreter, tmp_path: Path) -> None:
    venv = make_venv(current, tmp_path / "venv")
    assert not [p for p in (venv / "bin").iterdir() if p.name.startswith(".")]


def test_prompt_and_bash_activation(current: Interpreter, tmp_path: Path) -> None:
    venv = make_venv(current, tmp_path / "venv", "--prompt", "hello")
    assert 'prompt = "hello"' in (venv / "pyvenv.cfg").read_text().splitlines()
    script = f'. "{venv}/bin/activate" && command -v python && python -c "import sys; print(sys.prefix)"'
    where, prefix = run(["bash", "-c", script]).stdout.split()
    assert where == str(venv / "bin" / "python")
    assert prefix == str(venv)


def test_system_site_packages(current: Interpreter, tmp_path: Path) -> None:
    venv = make_venv(current, tmp_path / "venv", "--system-site-packages")
    assert "include-system-site-packages = true" in (venv / "pyvenv.cfg").read_text()
    info = sys_info(venv / "bin" / "python")
    assert any(p.startswith(str(current.base_prefix)) and p.endswith("-packages") for p in info["path"])


def test_clear(current: Interpreter, tmp_path: Path) -> None:
    venv = make_venv(current, tmp_path / "venv")
    (venv / "leftover").write_text("x")
    make_venv(current, venv, "--clear")
    assert not (venv / "leftover").exists()
    assert is_stub(venv / "bin" / "python")


@pytest.mark.parametrize("seeder", ["app-data", "pip"])
def test_seeders(current: Interpreter, tmp_path: Path, seeder: str) -> None:
    if current.version < (3, 9):
        pytest.skip("virtualenv 21 seeds Python 3.9+ only")
    venv = tmp_path / "venv"
    virtualenv("--creator", "linkable", "--seeder", seeder, "-p", current.path, venv)
    assert is_stub(venv / "bin" / "python")
    pip = run([venv / "bin" / "pip", "--version"]).stdout
    assert str(venv) in pip


def test_declines_other_implementations() -> None:
    info = PythonInfo.current_system()
    info.implementation = "PyPy"
    meta = LinkableCreator.can_create(info)
    assert meta is not None
    assert meta.error is not None
    assert "CPython 3" in meta.error
