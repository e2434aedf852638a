"""A fault between any two steps of convert, export and creation leaves the old state or the new one.

Every step that changes a file is a rename (``os.replace``). A driver runs the real command with the k-th
rename failing (an exception) or killing the process (``os._exit``: no clean-up runs), for every k until the
command gets through; after each fault the venv must start, and pyvenv.cfg and the registry must parse.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import Interpreter, run, snapshot, sys_info
from virtualenv_linkable import _pyvenv_cfg
from virtualenv_linkable._stub import is_stub

DRIVER = """
import os, sys
fault_at, how, tool = int(sys.argv[1]), sys.argv[2], sys.argv[3]
renames = 0
rename = os.replace
def faulty(*args, **kwargs):
    global renames
    renames += 1
    if renames - 1 == fault_at:  # once: what runs after the fault (an undo) renames for real
        if how == "kill":
            os._exit(137)
        raise OSError(5, "Input/output error (injected)")
    return rename(*args, **kwargs)
os.replace = faulty
if tool == "venvlink":
    from virtualenv_linkable.__main__ import main
    sys.exit(main(sys.argv[4:]))
from virtualenv.__main__ import run_with_catch
run_with_catch(sys.argv[4:])
"""
MAX_STEPS = 20


@pytest.fixture(autouse=True)
def _own_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def with_faults(how: str, tool: str, *args: str | Path) -> Iterator[int]:
    """Yield after each run that hit its fault; stop once the command gets through without one."""
    for fault_at in range(MAX_STEPS):
        result = run([sys.executable, "-c", DRIVER, fault_at, how, tool, *args], check=False)
        if result.returncode == 0:
            return
        said = result.stdout + result.stderr
        assert "Traceback" not in said, said
        if how == "kill":
            assert result.returncode == 137, said
        else:
            assert result.returncode == 1, said
            assert "injected" in said
            if tool == "venvlink":  # virtualenv reports through its own logger, on stdout
                assert result.stderr.count("\n") == 1, said
        yield fault_at
    pytest.fail(f"{tool} {args} did not finish within {MAX_STEPS} steps")


def assert_starts(venv: Path) -> None:
    assert sys_info(venv / "bin" / "python")["prefix"] == str(venv)
    assert _pyvenv_cfg.read(venv / "pyvenv.cfg")["home"]


def stdlib_venv(interpreter: Interpreter, dest: Path, *options: str) -> Path:
    run([interpreter.path, "-m", "venv", "--without-pip", *options, dest])
    return dest


@pytest.mark.parametrize("copies", [False, True], ids=["links", "copies"])
@pytest.mark.parametrize("how", ["raise", "kill"])
def test_convert_and_revert(current: Interpreter, tmp_path: Path, how: str, copies: bool) -> None:
    venv = stdlib_venv(current, tmp_path / "venv", *(["--copies"] if copies else []))
    before = snapshot(venv)
    faults = 0
    for _ in with_faults(how, "venvlink", "convert", venv):
        faults += 1
        assert_starts(venv)
        run([sys.executable, "-m", "virtualenv_linkable", "convert", "--revert", venv])  # back to the start, every time
        assert_starts(venv)
        assert snapshot(venv) == before
    assert faults >= 4, "pyvenv.cfg and three interpreters: four renames"
    assert is_stub(venv / "bin" / "python")
    converted = snapshot(venv)
    for _ in with_faults(how, "venvlink", "convert", "--revert", venv):
        assert_starts(venv)
        run([sys.executable, "-m", "virtualenv_linkable", "convert", venv])
        assert snapshot(venv) == converted
    assert snapshot(venv) == before


@pytest.mark.parametrize("how", ["raise", "kill"])
def test_export_over_a_file(current: Interpreter, tmp_path: Path, how: str) -> None:
    venv = stdlib_venv(current, tmp_path / "venv")
    dest = tmp_path / "tool"
    registry = tmp_path / "state" / "venvlink" / "exports.json"
    dest.write_text("the old tool")
    for _ in with_faults(how, "venvlink", "export", "--force", venv, dest):
        assert_starts(venv)
        if dest.is_symlink():  # the new state
            assert os.readlink(dest) == str(venv / "bin" / "python")
        else:  # the old state
            assert dest.read_text() == "the old tool"
        exports = json.loads(registry.read_text())["exports"] if registry.exists() else {}
        assert set(exports) <= {str(dest)}
        if how == "raise":  # an error undoes everything: nothing recorded, the venv as it was
            assert exports == {}
            assert (venv / "bin" / "python").is_symlink()
        # the next try starts from the old state again
        dest.unlink()
        dest.write_text("the old tool")
        run([sys.executable, "-m", "virtualenv_linkable", "convert", "--revert", venv])
        registry.unlink(missing_ok=True)
    assert sys_info(dest)["prefix"] == str(venv)
    assert list(json.loads(registry.read_text())["exports"]) == [str(dest)]


@pytest.mark.parametrize("how", ["raise", "kill"])
def test_creation(current: Interpreter, tmp_path: Path, how: str) -> None:
    venv = tmp_path / "venv"
    faults = 0
    for _ in with_faults(how, "virtualenv", "--no-seed", "--clear", "--creator", "linkable", "-p", current.path, venv):
        faults += 1
        if os.path.lexists(venv / "bin" / "python"):
            assert_starts(venv)
    assert faults >= 3, "three stubs: three renames"
    assert is_stub(venv / "bin" / "python")
    assert_starts(venv)


def test_no_space_left(current: Interpreter, tmp_path: Path) -> None:
    """Writing fails with ENOSPC (each temporary file is /dev/full in disguise): one line, the venv untouched."""
    venv = stdlib_venv(current, tmp_path / "venv")
    code = (
        "import os, sys\n"
        "real = os.open\n"
        "def full(path, flags, *args, **kwargs):\n"
        "    fd = real(path, flags, *args, **kwargs)\n"
        "    if str(path).endswith('.venvlink'):\n"
        "        os.dup2(real('/dev/full', os.O_WRONLY), fd)\n"
        "    return fd\n"
        "os.open = full\n"
        "from virtualenv_linkable.__main__ import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    result = run([sys.executable, "-c", code, "convert", venv], check=False)
    assert result.returncode == 1
    assert result.stderr == (
        f"venvlink: error: cannot write {venv / 'pyvenv.cfg'}: No space left on device; nothing was changed\n"
    )
    assert (venv / "bin" / "python").is_symlink()
    assert "venvlink" not in (venv / "pyvenv.cfg").read_text()
    assert not [p for p in venv.rglob(".*venvlink*")]


@pytest.fixture
def without_override() -> list[str]:
    """A command prefix that drops root's power to ignore file modes, so a 0555 directory refuses writes."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv (util-linux) to take away CAP_DAC_OVERRIDE")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]


def venvlink_without(prefix: list[str], *args: str | Path, **kwargs: object) -> tuple[int, str]:
    result = run([*prefix, sys.executable, "-m", "virtualenv_linkable", *args], check=False, **kwargs)  # type: ignore[arg-type]
    return result.returncode, result.stderr


def test_permission_denied_on_dest(current: Interpreter, tmp_path: Path, without_override: list[str]) -> None:
    venv = make_linkable(current, tmp_path / "venv")
    (tmp_path / "bin").mkdir(mode=0o555)
    code, err = venvlink_without(without_override, "export", venv, tmp_path / "bin" / "tool")
    assert code == 1
    assert err == f"venvlink: error: cannot write {tmp_path / 'bin' / 'tool'}: Permission denied; nothing was changed\n"
    assert not list((tmp_path / "bin").iterdir())
    registry = json.loads((tmp_path / "state" / "venvlink" / "exports.json").read_text())
    assert registry["exports"] == {}, "nothing recorded"


def test_permission_denied_on_registry(current: Interpreter, tmp_path: Path, without_override: list[str]) -> None:
    venv = make_linkable(current, tmp_path / "venv")
    shutil.rmtree(tmp_path / "state")  # the creator remembered the venv there
    (tmp_path / "state").mkdir(mode=0o555)
    code, err = venvlink_without(without_override, "export", venv, tmp_path / "tool")
    assert code == 1
    assert (
        err == f"venvlink: error: cannot create {tmp_path / 'state' / 'venvlink'} for the registry: Permission denied\n"
    )
    assert not os.path.lexists(tmp_path / "tool")


def test_permission_denied_on_bin(current: Interpreter, tmp_path: Path, without_override: list[str]) -> None:
    venv = stdlib_venv(current, tmp_path / "venv")
    before = (venv / "pyvenv.cfg").read_text()
    venv.chmod(0o555)
    (venv / "bin").chmod(0o555)
    code, err = venvlink_without(without_override, "convert", venv)
    venv.chmod(0o755)
    (venv / "bin").chmod(0o755)
    assert code == 1
    assert err == f"venvlink: error: cannot write {venv / 'pyvenv.cfg'}: Permission denied; nothing was changed\n"
    assert (venv / "pyvenv.cfg").read_text() == before
    assert (venv / "bin" / "python").is_symlink()


def make_linkable(interpreter: Interpreter, dest: Path) -> Path:
    run([sys.executable, "-m", "virtualenv", "-q", "--no-seed", "--creator", "linkable", "-p", interpreter.path, dest])
    return dest
