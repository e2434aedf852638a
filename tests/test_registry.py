"""The registry: concurrent exports lose nothing; a corrupt file is reported, never reset."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import Interpreter, make_venv, run


@pytest.fixture(autouse=True)
def _own_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def test_sixteen_concurrent_exports(current: Interpreter, tmp_path: Path) -> None:
    venv = make_venv(current, tmp_path / "venv")
    (tmp_path / "bin").mkdir()
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "venvlink", "export", str(venv), str(tmp_path / "bin" / f"tool{i}")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(16)
    ]
    for process in processes:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    exports = json.loads((tmp_path / "state" / "venvlink" / "exports.json").read_text())["exports"]
    assert sorted(exports) == sorted(str(tmp_path / "bin" / f"tool{i}") for i in range(16))


@pytest.mark.parametrize("content", ["{not json", '{"format": 1}', '{"format": 1, "exports": {"x": {"a": 1}}}', "[]"])
def test_corrupt_registry_is_reported(current: Interpreter, tmp_path: Path, content: str) -> None:
    registry = tmp_path / "state" / "venvlink" / "exports.json"
    registry.parent.mkdir(parents=True)
    registry.write_text(content)
    venv = make_venv(current, tmp_path / "venv")
    for command in (["list"], ["doctor"], ["export", str(venv), str(tmp_path / "tool")]):
        result = run([sys.executable, "-m", "venvlink", *command], check=False)
        assert result.returncode == 1
        assert result.stderr.startswith(f"venvlink: error: the registry {registry} is corrupt")
        assert "Traceback" not in result.stderr
        assert result.stderr.count("\n") == 1
    assert registry.read_text() == content
    assert not (tmp_path / "tool").exists()


def test_newer_format_is_not_overwritten(tmp_path: Path) -> None:
    registry = tmp_path / "state" / "venvlink" / "exports.json"
    registry.parent.mkdir(parents=True)
    registry.write_text('{"format": 2, "exports": {}}')
    result = run([sys.executable, "-m", "venvlink", "list"], check=False)
    assert result.returncode == 1
    assert "has format 2; upgrade venvlink" in result.stderr
