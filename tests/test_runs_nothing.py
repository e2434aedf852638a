"""venvlink runs no program it was not named to run: what an interpreter is, it reads. Under ``strace -f``, every
command's only program started, besides the Python running venvlink, is venvlink's own stub, explaining."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

from helpers import Interpreter, run, venvlink, wrapped_venv
from virtualenv_linkable import _stub

_EXECVE = re.compile(r'execve\("((?:[^"\\]|\\.)*)"')


def _started(command: list[str | Path], log: Path, **kwargs: object) -> list[str]:
    """The programs ``venvlink COMMAND`` started (execve, successful or not), the Python running it left out."""
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed (.ci/run installs it)")
    result = run(
        [strace, "-f", "-qq", "-e", "trace=execve", "-o", log, sys.executable, "-m", "virtualenv_linkable", *command],
        check=False,
        **kwargs,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return [path for path in _EXECVE.findall(log.read_text()) if path != sys.executable]


def test_no_program_runs_but_the_stub(current: Interpreter, tmp_path: Path) -> None:
    """convert, export, doctor (and --fix), list and which, on a venv whose base is a #! wrapper that leaves a
    mark whenever it runs: the mark stays away, and strace sees no other program than the stub."""
    mark = tmp_path / "ran"
    venv = wrapped_venv(current, tmp_path, first=f'echo ran >> "{mark}"\n')
    wrapper = tmp_path / "wrapped" / "bin" / current.versioned_name
    mark.unlink(missing_ok=True)
    gone = tmp_path / "gone"  # a venv whose interpreter was removed: doctor names a candidate for it
    run([current.path, "-m", "venv", "--without-pip", gone])
    log = tmp_path / "strace.log"
    stub = str(_stub.template())
    commands: list[list[str | Path]] = [
        ["convert", venv],
        ["export", venv, tmp_path / "tool"],
        ["convert", "--revert", venv],
        ["doctor", "--fix"],  # converts it again
        ["convert", gone],
        ["list"],
        ["which", tmp_path / "tool"],
        ["doctor"],
        ["convert", "--python", current.real, venv],  # named by the user, and read all the same
    ]
    for command in commands:
        if command == ["convert", gone]:
            (gone / "bin" / "python").unlink()
            (gone / "bin" / "python").symlink_to(tmp_path / "removed" / "python3")
        started = _started(command, log)
        assert set(started) <= {stub}, (command, started)
        assert not mark.exists(), command
    assert venvlink("convert", "--python", wrapper, venv)[0] == 0
    run([tmp_path / "tool", "-c", "pass"])
    assert mark.exists(), "the mark works"
