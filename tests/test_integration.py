"""venvlink used through the tools people already run: tox, pip, the stdlib's venv."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from helpers import Interpreter, build_demo_wheel, make_venv, run
from virtualenv_linkable.__main__ import main
from virtualenv_linkable._stub import is_stub


@pytest.fixture(autouse=True)
def _own_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def test_tox_creates_linkable_envs(current: Interpreter, demo_wheel: Path, tmp_path: Path) -> None:
    """A project tested by tox with VIRTUALENV_CREATOR=linkable: its env is linkable, and exported, imports it."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "tox.ini").write_text(
        "[tox]\nenv_list = py\nno_package = true\n\n"
        f"[testenv]\nbase_python = {current.path}\ndeps = {demo_wheel}\n"
        'commands = python -c "import linkdemo, sys; print(sys.prefix)"\n'
    )
    env = {**os.environ, "VIRTUALENV_CREATOR": "linkable"}
    result = run([sys.executable, "-m", "tox", "-c", project / "tox.ini", "-e", "py"], env=env, cwd=project)
    env_dir = project / ".tox" / "py"
    assert str(env_dir) in result.stdout
    assert is_stub(env_dir / "bin" / "python")
    assert main(["export", str(env_dir), str(tmp_path / "tool")]) == 0
    assert run([tmp_path / "tool", "-c", "import linkdemo, sys; print(sys.prefix)"]).stdout.strip() == str(env_dir)


def test_pip_lifecycle_through_symlinks(current: Interpreter, tmp_path: Path) -> None:
    """Install, upgrade and uninstall with pip run through an exported interpreter; console scripts keep up."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    old, new = build_demo_wheel(wheels, "1.0"), build_demo_wheel(wheels, "2.0")
    venv = make_venv(current, tmp_path / "venv", pip=True)
    tool = tmp_path / "bin" / "tool"
    (tmp_path / "bin").mkdir()
    assert main(["export", str(venv), str(tool)]) == 0
    script = tmp_path / "bin" / "linkdemo"
    script.symlink_to(venv / "bin" / "linkdemo")
    version = [tool, "-c", "import linkdemo; print(linkdemo.VERSION)"]

    run([tool, "-m", "pip", "install", "--no-deps", old])
    assert run(version).stdout.strip() == "1.0"
    assert run([script]).stdout.strip() == str(venv)
    assert "linkdemo" in run([tool, "-m", "pip", "list"]).stdout

    run([tool, "-m", "pip", "install", "--no-deps", "--upgrade", new])
    assert run(version).stdout.strip() == "2.0"
    assert run([script]).stdout.strip() == str(venv)

    run([tool, "-m", "pip", "uninstall", "--yes", "linkdemo"])
    assert run(version, check=False).returncode != 0
    assert not (venv / "bin" / "linkdemo").exists()
    assert is_stub(venv / "bin" / "python"), "pip leaves the interpreters alone"
