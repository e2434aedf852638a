"""Faults the shared table cannot describe: privileges, races, and the stub under sanitizers and valgrind."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from venvlink._install import stub_path

NOBODY = 65534


@pytest.fixture
def world_readable_dir() -> Iterator[Path]:
    """A temporary directory another user can enter (pytest's own are private to us)."""
    directory = Path(tempfile.mkdtemp(prefix="venvlink-"))
    directory.chmod(0o755)
    yield directory
    shutil.rmtree(directory)


@pytest.mark.skipif(os.geteuid() != 0, reason="running a set-uid program as another user needs root")
def test_set_uid_is_refused(world_readable_dir: Path) -> None:
    (world_readable_dir / "v" / "bin").mkdir(parents=True)
    stub = world_readable_dir / "v" / "bin" / "python"
    shutil.copy(stub_path(), stub)
    (world_readable_dir / "v" / "pyvenv.cfg").write_text("home = /usr/bin\nvenvlink-executable = /bin/true\n")
    stub.chmod(0o4755)
    result = subprocess.run([stub, "-c", "pass"], user=NOBODY, capture_output=True, text=True, check=False)
    assert result.returncode == 127
    assert result.stderr == f"venvlink: refusing to run set-uid or set-gid; remove the bit: chmod ug-s {stub}\n"
    stub.chmod(0o755)
    result = subprocess.run([stub, "-c", "pass"], user=NOBODY, capture_output=True, text=True, check=False)
    assert result.returncode == 0, "the same stub runs for that user without the bit"


def test_link_replaced_during_the_walk(tmp_path: Path) -> None:
    """A link flipped between two venvs while the stub walks it: each run ends in one of them, or a clean error."""
    venvs = []
    for name in ("a", "b"):
        (tmp_path / name / "bin").mkdir(parents=True)
        shutil.copy(stub_path(), tmp_path / name / "bin" / "python")
        (tmp_path / name / "pyvenv.cfg").write_text(
            f"home = /usr/bin\nvenvlink-executable = /bin/echo\nname = {name}\n"
        )
        venvs.append(str(tmp_path / name / "bin" / "python"))
    tool = tmp_path / "tool"
    tool.symlink_to(venvs[0])
    stop = threading.Event()

    def flip() -> None:
        flips = 0
        while not stop.is_set():
            temporary = tmp_path / f".tool{flips}"
            temporary.symlink_to(venvs[flips % 2])
            temporary.replace(tool)
            flips += 1

    flipper = threading.Thread(target=flip)
    flipper.start()
    try:
        outcomes = [subprocess.run([tool, "x"], capture_output=True, text=True, check=False) for _ in range(300)]
    finally:
        stop.set()
        flipper.join()
    for outcome in outcomes:
        assert outcome.returncode in {0, 127}, outcome
        if outcome.returncode == 0:
            assert outcome.stdout == "x\n"
        else:
            assert outcome.stderr.startswith("venvlink: ")
            assert outcome.stderr.count("\n") == 1
