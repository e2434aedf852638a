"""The ``linkable`` creator inside virtualenv: its options behave as cpython3-posix's, and nothing else changes."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

try:
    from python_discovery import PythonInfo
except ImportError:  # virtualenv before 21 (tox -e virtualenv-oldest)
    from virtualenv.discovery.py_info import PythonInfo  # type: ignore[no-redef]

from helpers import DEPLOY, NOBODY, PYENV_ROOT, Interpreter, as_user, find_interpreters, make_venv, run, sys_info
from virtualenv_linkable import __version__, _stub
from virtualenv_linkable._creator import LinkableCreator

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


@pytest.fixture(autouse=True)
def _own_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def virtualenv(*args: str | Path, **kwargs: object) -> str:
    return run([sys.executable, "-m", "virtualenv", *args], **kwargs).stdout  # type: ignore[arg-type]


def is_stub(path: Path) -> bool:
    """The installed stub, with an interpreter recorded in it."""
    data = path.read_bytes()
    return not path.is_symlink() and _stub.is_current(data) and _stub.recorded(data) != ""


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
    keys = [line.partition("=")[0].strip() for line in (tmp_path / "venv" / "pyvenv.cfg").read_text().splitlines()]
    assert not [key for key in keys if key.startswith("venvlink")]  # virtualenv's "command" may name any path


def test_creator_from_environment_variable(current: Interpreter, tmp_path: Path) -> None:
    env = {**os.environ, "VIRTUALENV_CREATOR": "linkable"}
    virtualenv("--no-seed", "-p", current.path, tmp_path / "venv", env=env)
    assert is_stub(tmp_path / "venv" / "bin" / "python")


def test_pyvenv_cfg_keys(current: Interpreter, tmp_path: Path) -> None:
    venv = make_venv(current, tmp_path / "venv")
    lines = (venv / "pyvenv.cfg").read_text().splitlines()
    assert f"venvlink = {__version__}" in lines
    assert f"venvlink-executable = {current.real}" in lines
    restore = json.loads(next(line for line in lines if line.startswith("venvlink-restore = ")).split(" = ", 1)[1])
    assert restore["entries"]["python"] == {"link": str(current.real)}, "what the builtin made, for --revert"
    # what cpython3-posix writes is all there
    for key in ("home", "implementation", "version_info", "base-prefix", "base-executable", "virtualenv"):
        assert any(line.startswith(f"{key} = ") for line in lines), key
    assert _stub.recorded((venv / "bin" / "python").read_bytes()) == str(current.real)


def test_no_temporary_files_left(current: Interpreter, tmp_path: Path) -> None:
    venv = make_venv(current, tmp_path / "venv")
    assert not [p for p in (venv / "bin").iterdir() if p.name.startswith(".")]


def test_prompt_and_bash_activation(current: Interpreter, tmp_path: Path) -> None:
    venv = make_venv(current, tmp_path / "venv", "--prompt", "hello")
    lines = (venv / "pyvenv.cfg").read_text().splitlines()
    assert {'prompt = "hello"', "prompt = hello"} & set(lines)  # virtualenv quotes it since 20.26
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


def test_declines_other_implementations(monkeypatch: pytest.MonkeyPatch) -> None:
    info = copy.copy(PythonInfo.current_system())  # a copy: some virtualenv versions cache and share the object
    info.implementation = "GraalPy"
    monkeypatch.delenv("VIRTUALENV_CREATOR", raising=False)
    monkeypatch.setattr(sys, "argv", ["virtualenv", "env"])
    meta = LinkableCreator.can_create(info)
    assert meta is not None
    assert meta.error is not None
    assert "CPython 3.8+ or PyPy 3.9+" in meta.error
    assert "is GraalPy" in meta.error


def test_declined_interpreter_says_why(tmp_path: Path) -> None:
    """Asked for by name, for an interpreter it cannot serve, the creator says why, not argparse's "invalid
    choice": here a CPython 3.7 (virtualenv still creates those, with its builtin creator)."""
    old = sorted(PYENV_ROOT.glob("versions/3.7*/bin/python3.7"))
    if not old:
        pytest.skip("needs a CPython 3.7 (pyenv) to be declined")
    result = run(
        [sys.executable, "-m", "virtualenv", "--no-seed", "--creator", "linkable", "-p", old[0], tmp_path / "v"],
        check=False,
    )
    assert result.returncode != 0
    assert "needs CPython 3.8+ or PyPy 3.9+" in result.stdout + result.stderr
    assert f"{old[0]} is CPython 3.7" in result.stdout + result.stderr
    assert "invalid choice" not in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


PYPY = [i for i in find_interpreters() if i.implementation == "PyPy"]


@pytest.mark.parametrize("pypy", PYPY or [None], ids=[i.id for i in PYPY] or ["no-pypy"])
def test_pypy(pypy: Interpreter | None, tmp_path: Path) -> None:
    if pypy is None:
        pytest.skip("no PyPy found (Debian: apt install pypy3; or list it in VENVLINK_TEST_PYTHONS)")
    venv = make_venv(pypy, tmp_path / "venv")
    names = sorted(
        p.name for p in (venv / "bin").iterdir() if not p.name.startswith(("activate", "Activate", "deactivate"))
    )
    assert "pypy3" in names
    for name in names:
        if name.startswith(("pypy", "python")):
            assert is_stub(venv / "bin" / name), name
    assert "implementation = PyPy" in (venv / "pyvenv.cfg").read_text()
    (tmp_path / "tool").symlink_to(venv / "bin" / "python")
    assert sys_info(tmp_path / "tool")["prefix"] == str(venv)
    # and virtualenv's defaults stay: builtin is PyPy's own
    text = " ".join(virtualenv("--help", "-p", pypy.path).split())
    assert "(builtin = pypy3-posix)" in text


def test_every_interpreter_entry_is_a_stub(
    current: Interpreter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Free-threaded builds get a python3.Xt entry from virtualenv: the creator stubs whatever interpreters the
    builtin made, found as convert finds them (faked here where no free-threaded build is installed)."""
    from virtualenv import cli_run  # noqa: PLC0415
    from virtualenv.create.via_global_ref.builtin.cpython.cpython3 import CPython3Posix  # noqa: PLC0415

    builtin_create = CPython3Posix.create
    free_threaded = "python{}.{}t".format(*current.version)

    def create_with_free_threaded(self: CPython3Posix) -> None:
        builtin_create(self)
        (self.bin_dir / free_threaded).symlink_to("python")

    monkeypatch.setattr(CPython3Posix, "create", create_with_free_threaded)
    cli_run(["-q", "--no-seed", "--creator", "linkable", "-p", str(current.path), str(tmp_path / "venv")])
    entry = tmp_path / "venv" / "bin" / free_threaded
    assert is_stub(entry)
    restore = (tmp_path / "venv" / "pyvenv.cfg").read_text()
    assert f'"{free_threaded}": {{"link": "python"}}' in restore


def system_cpython() -> Interpreter:
    """A CPython in /usr/bin: one another user can run."""
    system = [i for i in find_interpreters() if i.origin == "system" and i.implementation == "CPython"]
    if not system:
        pytest.skip("needs a CPython in /usr/bin, which another user can run")
    return system[0]


@contextlib.contextmanager
def umask(value: int) -> Iterator[None]:
    """``value`` as this process's umask, for a virtualenv run in-process."""
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


def fingerprint(path: Path) -> tuple[int, str]:
    return path.stat().st_mode, hashlib.sha256(path.read_bytes()).hexdigest()


def modes(top: Path) -> dict[str, int]:
    """The mode of every entry under ``top`` but links, by relative path ("." is ``top``)."""
    found = {}
    for directory, _, names in os.walk(top):
        for path in (Path(directory), *(Path(directory, name) for name in names)):
            if not path.is_symlink():
                found[str(path.relative_to(top))] = stat.S_IMODE(path.stat().st_mode)
    return found


def after(monkeypatch: pytest.MonkeyPatch, owner: type, method: str, then: Callable[[Any], None]) -> None:
    """Run ``then(self)`` after ``owner.method``, for one test."""
    original = getattr(owner, method)

    def wrapped(self: Any, *args: Any) -> Any:
        result = original(self, *args)
        then(self)
        return result

    monkeypatch.setattr(owner, method, wrapped)


def test_umask_000_makes_a_venv_that_runs_for_everyone(world_readable_dir: Path) -> None:
    """Under umask 000 virtualenv makes a venv every user can write (pyvenv.cfg 0666, directories 0777), which the
    stub refuses (anyone could choose what it runs, or add code): the creator takes others' write bit off all it
    made, and the venv runs for its owner and for another user; --export, whose check runs the stub while DEST is
    still private, works too."""
    system = system_cpython()
    venv, tool = world_readable_dir / "venv", world_readable_dir / "tool"
    cmd = [sys.executable, "-m", "virtualenv", "-q", "--no-seed", "--creator", "linkable", "-p", system.path, venv]
    subprocess.run([*cmd, "--export", tool], check=True, preexec_fn=lambda: os.umask(0))  # the umask, in the child
    writable = [str(p) for p in (venv, *venv.rglob("*")) if not p.is_symlink() and p.stat().st_mode & 0o002]
    assert writable == [], "nobody else can change what the venv runs, or add code to it"
    assert stat.S_IMODE(venv.stat().st_mode) == 0o775, "what umask 000 asks for, less others' write"
    assert sys_info(venv / "bin" / "python")["prefix"] == str(venv)
    other = run([*as_user(NOBODY), venv / "bin" / "python", "-c", "import sys; print(sys.prefix)"])
    assert other.stdout.strip() == str(venv)
    assert sys_info(tool)["prefix"] == str(venv)


def test_umask_000_parents_and_a_dest_others_could_swap(world_readable_dir: Path) -> None:
    """Under umask 000, DEST's missing parents were made 0777: another user renamed DEST away while virtualenv
    filled it by path, and put a directory of their own there (6 tries in 7). Parents are made without others'
    write bit now, and a DEST in a directory others can write (not sticky) is refused before anything is made."""
    system = system_cpython()
    cmd = [sys.executable, "-m", "virtualenv", "-q", "--no-seed", "--creator", "linkable", "-p", system.path]
    venv = world_readable_dir / "new" / "parents" / "venv"
    subprocess.run([*cmd, venv], check=True, preexec_fn=lambda: os.umask(0))
    for made in (venv.parent.parent, venv.parent):
        assert stat.S_IMODE(made.stat().st_mode) == 0o775, made
    shared = world_readable_dir / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    result = run([*cmd, shared / "venv"], check=False, preexec_fn=lambda: os.umask(0))
    assert result.returncode != 0
    assert f"refusing to make a venv at {shared / 'venv'}: every user can write {shared}" in (
        result.stderr + result.stdout
    )
    assert list(shared.iterdir()) == []


def test_umask_000_an_existing_dest_refused_keeps_its_mode(world_readable_dir: Path) -> None:
    """An existing venv of root's (0755, used by others) in a directory a group can write, given as DEST under
    umask 000: refused, and its mode is what it was (venvlink 0.3.0 made it 0700 first, locking everyone out)."""
    if os.geteuid() != 0:
        pytest.skip("a directory of a group root is not in needs root to make")
    system = system_cpython()
    shared = world_readable_dir / "shared"
    (shared / "venv").mkdir(parents=True)
    os.chown(shared, 0, NOBODY)
    shared.chmod(0o2775)
    cmd = [sys.executable, "-m", "virtualenv", "-q", "--no-seed", "--creator", "linkable", "-p", system.path]
    result = run([*cmd, shared / "venv"], check=False, preexec_fn=lambda: os.umask(0))
    assert result.returncode != 0
    assert f"refusing to make a venv at {shared / 'venv'}: every member of group " in (result.stderr + result.stdout)
    assert stat.S_IMODE((shared / "venv").stat().st_mode) == 0o755


@pytest.mark.parametrize("umask", [0o000, 0o022])
def test_an_existing_dest_others_could_fill_is_refused(umask: int, current: Interpreter, tmp_path: Path) -> None:
    """An existing DEST every user could write: what is in it may be another user's (a .pth put in lib/ before the
    venv was made), and while virtualenv fills it by path, they could swap ``DEST/bin`` for a link to a directory
    of yours, where it then deletes and links (the eighth review, under umask 022). Refused, its mode and contents
    as they were."""
    venv = tmp_path / "venv"
    (venv / "lib").mkdir(parents=True)
    (venv / "lib" / "planted.pth").write_text("import os\n")
    venv.chmod(0o777)
    cmd = [sys.executable, "-m", "virtualenv", "-q", "--no-seed", "--creator", "linkable", "-p", current.path, venv]
    result = run(cmd, check=False, preexec_fn=lambda: os.umask(umask))
    assert result.returncode != 0
    assert f"refusing to make a venv at {venv}: every user can write {venv}, so " in result.stdout + result.stderr
    assert stat.S_IMODE(venv.stat().st_mode) == 0o777
    assert [p.name for p in venv.rglob("*")] == ["lib", "planted.pth"]


def test_a_directory_in_an_existing_dest_others_can_change_is_refused(current: Interpreter, tmp_path: Path) -> None:
    """virtualenv writes into an existing DEST (no ``--clear``) by path: a directory in it that others can write,
    or that is another user's, or another user's link, would let them choose where."""
    venv = tmp_path / "venv"
    run([current.path, "-m", "venv", "--without-pip", venv])
    site_packages = next(venv.glob("lib/*/site-packages"))
    site_packages.chmod(0o777)
    cmd = [sys.executable, "-m", "virtualenv", "-q", "--no-seed", "--creator", "linkable", "-p", current.path, venv]
    result = run(cmd, check=False)
    assert result.returncode != 0
    assert f"refusing to make a venv at {venv}: every user can write {site_packages}, so " in result.stderr
    assert not is_stub(venv / "bin" / "python")


def test_a_dest_another_user_could_change_is_refused_before_anything_is_made(
    current: Interpreter, world_readable_dir: Path
) -> None:
    """Root making a venv in a directory a group it is not in can write: refused before virtualenv makes anything
    (venvlink 0.3.0 refused after, leaving half a venv), and the message says how to trust the directory."""
    if os.geteuid() != 0:
        pytest.skip("a directory of a group root is not in needs root to make")
    lab = world_readable_dir / "lab"
    lab.mkdir()
    os.chown(lab, 0, NOBODY)
    lab.chmod(0o2775)
    cmd = [sys.executable, "-m", "virtualenv", "-q", "--no-seed", "--creator", "linkable", "-p", current.path]
    result = run([*cmd, lab / "venv"], check=False)
    assert result.returncode != 0
    assert f"refusing to make a venv at {lab / 'venv'}: every member of group " in result.stdout + result.stderr
    assert "VENVLINK_SAFE_DIRECTORIES" in result.stdout + result.stderr
    assert not (lab / "venv").exists()
    trusted = run([*cmd, lab / "venv"], check=False, env={**os.environ, "VENVLINK_SAFE_DIRECTORIES": str(lab)})
    assert trusted.returncode == 0, trusted.stdout + trusted.stderr
    assert is_stub(lab / "venv" / "bin" / "python")


def test_a_link_another_user_made_in_dest_is_refused_before_clear(
    current: Interpreter, world_readable_dir: Path
) -> None:
    """The seventh review: a team member's link ``/srv/team/proj -> /root/project`` made root's ``--clear`` delete
    ``/root/project/venv`` (virtualenv resolves DEST before any creator sees it, and clears before ``create``):
    DEST is checked as given, while virtualenv parses it, before anything is deleted or made."""
    if os.geteuid() != 0:
        pytest.skip("a link another user owns, in a directory of a group root is not in, needs root to make")
    private = world_readable_dir / "private"
    (private / "venv").mkdir(parents=True, mode=0o700)
    (private / "venv" / "data.txt").write_text("precious")
    team = world_readable_dir / "team"
    team.mkdir()
    os.chown(team, 0, NOBODY)
    team.chmod(0o2775)
    (team / "proj").symlink_to(private)
    os.lchown(team / "proj", NOBODY, NOBODY)
    cmd = [sys.executable, "-m", "virtualenv", "-q", "--no-seed", "--creator", "linkable", "--clear", "-p"]
    result = run([*cmd, current.path, team / "proj" / "venv"], check=False)
    assert result.returncode != 0
    said = result.stdout + result.stderr
    assert f"refusing to make a venv at {team / 'proj' / 'venv'}: every member of group " in said
    assert "Traceback" not in said
    assert (private / "venv" / "data.txt").read_text() == "precious"
    assert sorted(p.name for p in (private / "venv").iterdir()) == ["data.txt"]


def one_error_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    """What a refusal of the creator prints, as argparse prints a bad argument: one line on standard error (no usage
    text, no traceback, nothing on standard output), and the exit status ``code``; that line."""
    said = result.stdout + result.stderr
    assert result.returncode == code, said
    assert "usage:" not in said
    assert "Traceback" not in said
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, said
    assert lines[0].startswith("venvlink: error: "), said
    return lines[0]


@contextlib.contextmanager
def fresh_in_tmp() -> Iterator[str]:
    """A name in /tmp (every user can write it, sticky) that nothing has yet: ``mkdtemp``'s name, plus ``.d``."""
    base = tempfile.mkdtemp(prefix="venvlink-", dir="/tmp")
    try:
        yield f"{base}.d"
    finally:
        shutil.rmtree(base)
        shutil.rmtree(f"{base}.d", ignore_errors=True)


@pytest.mark.parametrize("where", ["NEW/venv", "NEW"])
@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_a_venv_in_tmp(where: str, umask: int, current: Interpreter) -> None:
    """``virtualenv --creator linkable /tmp/x/venv`` (or ``/tmp/venv``), as ``python -m venv`` then ``venvlink
    convert`` would: the creator makes DEST's missing directories itself, yours in a directory where nobody else can
    take or replace them (sticky), and without others' write bit whatever the umask. Before, it refused: every user
    can write /tmp, where they would be."""
    with fresh_in_tmp() as new:
        venv = Path(where.replace("NEW", new))
        cmd = [sys.executable, "-m", "virtualenv", "-q", "--no-seed", "--creator", "linkable", "-p", current.path]
        result = run([*cmd, venv], check=False, preexec_fn=lambda: os.umask(umask))
        assert result.returncode == 0, result.stdout + result.stderr
        assert is_stub(venv / "bin" / "python")
        assert sys_info(venv / "bin" / "python")["prefix"] == str(venv)
        for made in (Path(new), venv):
            assert made.stat().st_uid == os.geteuid()
            assert stat.S_IMODE(made.stat().st_mode) == 0o777 & ~(umask | stat.S_IWOTH), made
        assert not [str(p) for p in venv.rglob("*") if not p.is_symlink() and p.stat().st_mode & stat.S_IWOTH]


@pytest.mark.parametrize("dest", ["theirs", "theirs/venv"])
def test_a_dest_in_tmp_another_user_made_first_is_refused(dest: str, current: Interpreter) -> None:
    """Another user (uid 65534) made the directory in /tmp first: refused in one line whose way out needs nobody
    (a private directory of your own: ``mktemp -d``), never a chmod of their directory, and nothing made in it,
    though root could."""
    if os.geteuid() != 0:
        pytest.skip("a directory of another user's needs root to make")
    with fresh_in_tmp() as new:
        theirs = Path(new)
        theirs.mkdir(mode=0o755)
        os.chown(theirs, NOBODY, NOBODY)
        venv = theirs.parent / dest.replace("theirs", theirs.name)
        cmd = [sys.executable, "-m", "virtualenv", "-q", "--no-seed", "--creator", "linkable", "-p", current.path]
        line = one_error_line(run([*cmd, venv], check=False), 2)
        assert line.startswith(f"venvlink: error: refusing to make a venv at {venv}: every user can write /tmp, ")
        assert "make a private directory first (mktemp -d)" in line
        assert "chmod" not in line
        assert list(theirs.iterdir()) == []
        found = theirs.stat()
        assert (found.st_uid, stat.S_IMODE(found.st_mode)) == (NOBODY, 0o755)


PLANT_AFTER_CLEAR = """
import os, sys
import virtualenv.create.creator
planted, victim = sys.argv[1], sys.argv[2]
delete = virtualenv.create.creator.safe_delete
def delete_then_plant(dest):
    delete(dest)  # --clear: DEST is gone, and whoever can write its directory can put something there
    if planted == "link":
        os.symlink(victim, dest)
        os.lchown(dest, 65534, 65534)
    else:
        os.mkdir(dest)
        os.chown(dest, 65534, 65534)
        os.chmod(dest, 0o777)
virtualenv.create.creator.safe_delete = delete_then_plant
from virtualenv.__main__ import run_with_catch
run_with_catch(sys.argv[3:])
"""


@pytest.mark.parametrize("planted", ["link", "directory"])
def test_what_another_user_puts_at_dest_after_clear_is_never_filled(
    planted: str, current: Interpreter, world_readable_dir: Path
) -> None:
    """virtualenv's ``--clear`` deletes DEST before the creator runs; in a directory every user can write (sticky,
    as /tmp), another user can then put a link to a directory of yours at DEST, or a directory of theirs: the
    builtin, writing by path, filled what the link led to, or their directory. The creator claims DEST itself
    before anything is written (``mkdir``, never through a link): what is there instead is refused, in one line,
    nothing followed or written."""
    if os.geteuid() != 0:
        pytest.skip("planting as another user needs root")
    shared = world_readable_dir / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    victim = world_readable_dir / "victim"
    victim.mkdir()
    (victim / "data.txt").write_text("precious")
    venv = shared / "venv"
    cmd = ["-q", "--no-seed", "--clear", "--creator", "linkable", "-p", current.path, venv]
    result = run([sys.executable, "-c", PLANT_AFTER_CLEAR, planted, victim, *cmd], check=False)
    assert sorted(p.name for p in victim.iterdir()) == ["data.txt"], "nothing written through the link"
    if planted == "link":
        assert os.readlink(venv) == str(victim)
    else:
        assert list(venv.iterdir()) == [], "nothing written in their directory"
    line = one_error_line(result, 1)
    assert line.startswith(f"venvlink: error: refusing to make a venv at {venv}: ")
    assert (f"it is now a symlink (to {victim}) of nobody" if planted == "link" else "it belongs to nobody") in line
    assert "mktemp -d" in line


def test_refusals_are_one_line_and_an_exception_in_process(
    current: Interpreter, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every refusal of the creator is one line, ``venvlink: error: ...``, exit 2 for an argument (as argparse), 1
    otherwise; virtualenv printed its usage text and ``argument dest: ...`` before, or ``VenvlinkError: ...`` on
    standard output. A program calling virtualenv's cli_run (tox, hatch) still gets an exception: SystemExit(2),
    as for argparse's errors, the line said on standard error first, as argparse says its own."""
    from virtualenv import cli_run  # noqa: PLC0415

    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    (tmp_path / "file").write_text("x")
    cmd = [sys.executable, "-m", "virtualenv", "--no-seed", "--creator", "linkable", "-p", current.path]
    line = one_error_line(run([*cmd, shared / "venv"], check=False), 2)
    assert f"refusing to make a venv at {shared / 'venv'}: every user can write {shared}, where " in line
    assert f"chmod o-w {shared}" in line, "the caller's own directory"
    line = one_error_line(run([*cmd, tmp_path / "file"], check=False), 2)  # virtualenv's own check
    assert "already exists and is not a directory" in line or "already exists and is a file" in line
    line = one_error_line(run([*cmd, "--export", tmp_path / "nodir" / "t", tmp_path / "v"], check=False), 2)
    assert "create it first: mkdir -p " in line
    with pytest.raises(SystemExit) as refused:
        cli_run(["-q", "--no-seed", "--creator", "linkable", "-p", str(current.path), str(shared / "venv")])
    assert refused.value.code == 2
    assert str(refused.value).startswith(f"refusing to make a venv at {shared / 'venv'}: every user can write ")
    assert capsys.readouterr().err.splitlines()[-1:] == [f"venvlink: error: {refused.value}"]


@pytest.mark.parametrize("problem", ["missing directory", "existing", "in DEST/bin", "given twice", "later argument"])
def test_export_problems_are_refused_before_anything_is_made(
    problem: str, current: Interpreter, tmp_path: Path
) -> None:
    """``--export PATH`` that ``venvlink export`` (without ``--force``, which the creator does not have) would
    refuse, refused before the venv is made: it was made, then the export failed. DEST's missing directories,
    which the creator makes while virtualenv reads its arguments, are taken back, as after an argument virtualenv
    refuses after DEST (at exit)."""
    venv = tmp_path / "new" / "venv"
    tool = {
        "missing directory": tmp_path / "nodir" / "tool",
        "existing": tmp_path / "tool",
        "in DEST/bin": venv / "bin" / "tool",
        "given twice": tmp_path / "tool",
        "later argument": tmp_path / "tool",
    }[problem]
    if problem == "existing":
        tool.write_text("the user's")
    options = ["--export", tool] * (2 if problem == "given twice" else 1)
    options += ["--no-such-option"] if problem == "later argument" else []
    cmd = [sys.executable, "-m", "virtualenv", "--no-seed", "--creator", "linkable", "-p", current.path]
    result = run([*cmd, *options, venv], check=False)
    if problem == "later argument":
        assert result.returncode == 2
        assert "unrecognized arguments: --no-such-option" in result.stderr
    else:
        line = one_error_line(result, 2)
        assert line.startswith(f"venvlink: error: cannot --export {tool}: "), line
        expected = {
            "missing directory": f"{tool.parent} does not exist; create it first: mkdir -p {tool.parent}",
            "existing": f"{tool} already exists, and the creator replaces nothing; remove it first",
            "in DEST/bin": f"it is inside the venv {venv}",
            "given twice": "it is given twice",
        }[problem]
        assert expected in line
    assert not (tmp_path / "new").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == (["state"] * (tmp_path / "state").exists()) + (
        ["tool"] if problem == "existing" else []
    )


@pytest.mark.parametrize("seeder", ["app-data", "pip"])
def test_umask_000_nobody_else_writes_into_the_venv_while_it_is_made(
    seeder: str, world_readable_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack review's plant: under umask 000 virtualenv makes every directory 0777 as it goes, and uid 1000,
    looping on open(site-packages/zz_evil.pth, O_CREAT), got a .pth of theirs in before the creator took others'
    write bit off, which the venv's owner (root) then ran. DEST is now 0700 until virtualenv's last write of
    pyvenv.cfg: uid 1000 tries to create a file in every directory of the venv at each step, before each write of
    pyvenv.cfg (the builtin's, its directories made; the session's last, after the activators), after the builtin
    and after seeding (pip, from app-data's wheels or by pip, which runs the venv's stub), and fails. Every mode
    is then umask 000's less others' write, and the base interpreter is untouched."""
    from virtualenv import cli_run  # noqa: PLC0415
    from virtualenv.create.pyenv_cfg import PyEnvCfg  # noqa: PLC0415
    from virtualenv.create.via_global_ref.builtin.cpython.cpython3 import CPython3Posix  # noqa: PLC0415
    from virtualenv.run.session import Session  # noqa: PLC0415

    attacker = as_user(DEPLOY)
    system = system_cpython()
    if system.version < (3, 9):
        pytest.skip("virtualenv 21 seeds Python 3.9+ only")
    venv = world_readable_dir / "venv"
    planted: dict[str, list[str]] = {}

    def plant(when: str) -> None:
        directories = [d for d, _, _ in os.walk(venv)]
        name = f"zz_evil_{len(planted)}.pth"  # a new file each time: the attacker's own are theirs to rewrite anyway
        # true, not ':': a failed redirection of a special builtin ends sh
        script = f'for d; do true 2>/dev/null > "$d/{name}" && echo "$d"; done'
        done = run([*attacker, "sh", "-c", script, "sh", *directories], check=False).stdout.split()
        where = [os.path.relpath(d, venv) for d in done]
        mode = stat.S_IMODE(venv.stat().st_mode)
        planted[f"{when} (DEST {mode:o})"] = where[:3] + [f"{len(where)} in all"] * (len(where) > 3)

    write = PyEnvCfg.write
    writes = iter(("before the builtin's pyvenv.cfg", "before the last pyvenv.cfg"))

    def plant_then_write(cfg: PyEnvCfg) -> None:
        plant(next(writes))
        write(cfg)

    monkeypatch.setattr(PyEnvCfg, "write", plant_then_write)
    after(monkeypatch, CPython3Posix, "create", lambda _: plant("created"))
    after(monkeypatch, Session, "_seed", lambda _: plant("seeded"))
    base = fingerprint(system.real)
    with umask(0):
        cli_run(["-q", "--creator", "linkable", "--seeder", seeder, "-p", str(system.path), str(venv)])
    assert planted == {
        "before the builtin's pyvenv.cfg (DEST 700)": [],
        "created (DEST 700)": [],
        "seeded (DEST 700)": [],
        "before the last pyvenv.cfg (DEST 700)": [],
    }, "where uid 1000 created a file"
    found = modes(venv)
    assert found["."] == 0o775, "DEST: what umask 000 asks for, less others' write"
    assert not [path for path, mode in found.items() if mode & stat.S_IWOTH]
    assert found["lib/python{}.{}/site-packages".format(*system.version)] == 0o775, "the group's write, as asked"
    assert "pip" in run([venv / "bin" / "python", "-m", "pip", "--version"]).stdout
    assert fingerprint(system.real) == base


def test_umask_000_walk_never_follows_a_symlink_swapped_in(
    current: Interpreter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk that takes others' write bit off, at the end, goes by descriptors: a directory of the venv swapped
    for a link to another one while the walk is in it, a link to a file or a directory outside: nothing outside
    changes (by path, the walk took the bit off what the swapped link pointed to), nor the base interpreter."""
    from virtualenv import cli_run  # noqa: PLC0415
    from virtualenv.run.session import Session  # noqa: PLC0415

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "file").write_text("x")
    outside.chmod(0o777)
    (outside / "file").chmod(0o666)
    venv = tmp_path / "venv"
    victims: list[Path] = []

    def add_victims(session: Session) -> None:  # in the venv, 0777 and 0666 (umask 000), just before the walk
        site_packages = Path(session.creator.purelib)
        (site_packages / "victim").mkdir()
        (site_packages / "victim" / "file").write_text("x")
        (site_packages / "file-link").symlink_to(outside / "file")
        (site_packages / "dir-link").symlink_to(outside)
        victims.append(site_packages / "victim")

    def swapping(walk: Callable[..., Iterator[tuple[Any, ...]]]) -> Callable[..., Iterator[tuple[Any, ...]]]:
        def walk_and_swap(*args: Any, **kwargs: Any) -> Iterator[tuple[Any, ...]]:
            for entry in walk(*args, **kwargs):
                if os.path.basename(entry[0]) == "victim":  # listed: now a link to outside in its place
                    victims[0].rename(victims[0].with_name("moved"))
                    victims[0].symlink_to(outside)
                yield entry

        return walk_and_swap

    after(monkeypatch, Session, "_activate", add_victims)
    monkeypatch.setattr(os, "walk", swapping(os.walk))
    monkeypatch.setattr(os, "fwalk", swapping(os.fwalk))
    base = fingerprint(current.real)
    with umask(0):
        cli_run(["-q", "--no-seed", "--creator", "linkable", "-p", str(current.path), str(venv)])
    assert victims[0].is_symlink(), "the swap happened"
    assert modes(outside) == {".": 0o777, "file": 0o666}
    assert stat.S_IMODE(victims[0].with_name("moved").joinpath("file").stat().st_mode) == 0o664
    assert fingerprint(current.real) == base


@pytest.mark.parametrize("owner", ["yours", "another user's"])
def test_umask_000_into_an_existing_directory(owner: str, current: Interpreter, tmp_path: Path) -> None:
    """DEST there already, empty: made private while virtualenv fills it, then given back its mode, if it is
    yours; another user's is refused before anything is written in it (they could change what is in it)."""
    venv = tmp_path / "venv"
    venv.mkdir()
    venv.chmod(0o751)
    if owner != "yours":
        as_user(DEPLOY)  # skips unless root
        os.chown(venv, DEPLOY, DEPLOY)
    cmd = [sys.executable, "-m", "virtualenv", "-q", "--no-seed", "--creator", "linkable", "-p", current.path, venv]
    result = run(cmd, check=False, preexec_fn=lambda: os.umask(0))
    if owner == "yours":
        assert result.returncode == 0, result.stdout + result.stderr
        assert stat.S_IMODE(venv.stat().st_mode) == 0o751
        assert is_stub(venv / "bin" / "python")
    else:
        assert result.returncode != 0
        assert f"refusing to make a venv at {venv}: {venv} belongs to " in result.stdout + result.stderr
        owner = rf"(\S+ )?\(?uid {DEPLOY}\)?"
        trust = rf", or, if you trust {owner}, run: export VENVLINK_SAFE_DIRECTORIES={re.escape(str(venv))}"
        way_out = rf"; ask its owner, {owner}{trust}, or make a private directory first"
        assert re.search(way_out, result.stderr), result.stderr
        assert "Traceback" not in result.stdout + result.stderr
        assert list(venv.iterdir()) == []
        assert stat.S_IMODE(venv.stat().st_mode) == 0o751


def test_umask_000_creation_that_fails_is_left_private_and_says_so(current: Interpreter, tmp_path: Path) -> None:
    """virtualenv fails after the creator made DEST private (here its seeding step): DEST stays 0700, as a venv
    that others may have written into would be worse, and a note after virtualenv's one-line error says so."""
    venv = tmp_path / "venv"
    failing = (
        "import sys\n"
        "from virtualenv.run.session import Session\n"
        "def fail(self): raise RuntimeError('the seeder failed')\n"
        "Session._seed = fail\n"
        "from virtualenv.__main__ import run_with_catch\n"
        "run_with_catch(sys.argv[1:])\n"
    )
    cmd = [sys.executable, "-c", failing, "-q", "--no-seed", "--creator", "linkable", "-p", current.path, venv]
    result = run(cmd, check=False, preexec_fn=lambda: os.umask(0))
    assert result.returncode == 1
    assert "RuntimeError: the seeder failed" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.splitlines()[-1:] == [
        f"note: {venv} is left private to you (mode 0700), as its creation did not finish; remove it, or run "
        "virtualenv again with --clear"
    ]
    assert stat.S_IMODE(venv.stat().st_mode) == 0o700


def test_umask_002_group_venv_as_the_umask_makes_it(
    current: Interpreter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """umask 002 is how a group shares a venv: others cannot write, the group can, from start to end; the creator
    changes no mode."""
    from virtualenv import cli_run  # noqa: PLC0415
    from virtualenv.run.session import Session  # noqa: PLC0415

    venv = tmp_path / "venv"
    during: list[int] = []
    after(monkeypatch, Session, "_activate", lambda _: during.append(stat.S_IMODE(venv.stat().st_mode)))
    with umask(0o002):
        cli_run(["-q", "--no-seed", "--creator", "linkable", "-p", str(current.path), str(venv)])
    assert during == [0o775]
    found = modes(venv)
    assert found["."] == 0o775
    assert found["bin"] == 0o775
    assert found[".gitignore"] == 0o664


def test_export_at_creation(current: Interpreter, tmp_path: Path) -> None:
    """`virtualenv --creator linkable --export PATH`: create and export in one call, repeatable; the venv is
    remembered for doctor --fix, the exports recorded."""
    venv, one, two = tmp_path / "venv", tmp_path / "one", tmp_path / "two"
    virtualenv("--no-seed", "--creator", "linkable", "-p", current.path, "--export", one, "--export", two, venv)
    for link in (one, two):
        assert sys_info(link)["prefix"] == str(venv)
    registry = json.loads((tmp_path / "state" / "venvlink" / "exports.json").read_text())
    assert sorted(registry["exports"]) == [str(one), str(two)]
    assert list(registry["venvs"]) == [str(venv)]


@pytest.mark.parametrize("activators", ["bash", "bash,python"])
def test_export_whatever_the_activators(activators: str, current: Interpreter, tmp_path: Path) -> None:
    """--export is the creator's option: an explicit list of activators (command line, VIRTUALENV_ACTIVATORS or
    virtualenv.ini) does not make it vanish."""
    venv, tool = tmp_path / "venv", tmp_path / "tool"
    virtualenv(
        "--no-seed", "--creator", "linkable", "-p", current.path, "--activators", activators, "--export", tool, venv
    )
    assert sys_info(tool)["prefix"] == str(venv)
    env = {**os.environ, "VIRTUALENV_ACTIVATORS": activators}
    virtualenv(
        "--no-seed", "--creator", "linkable", "-p", current.path, "--export", tmp_path / "t2", tmp_path / "v2", env=env
    )
    assert sys_info(tmp_path / "t2")["prefix"] == str(tmp_path / "v2")


def test_default_activators_unchanged(current: Interpreter) -> None:
    """Installing venvlink adds no activator: virtualenv's default list is what it was."""
    text = " ".join(virtualenv("--help", "-p", current.path).split())
    listed = re.search(r"default is all supported \(default: ([^)]+)\)", text)
    assert listed is not None, text
    names = listed.group(1).replace(" ", "").split(",")
    assert "bash" in names
    assert "export" not in names


@pytest.mark.parametrize("creator", ["venv", "builtin"])
def test_export_is_an_option_of_the_linkable_creator(creator: str, current: Interpreter, tmp_path: Path) -> None:
    result = run(
        [
            sys.executable,
            "-m",
            "virtualenv",
            "--no-seed",
            "--creator",
            creator,
            "-p",
            current.path,
            "--export",
            tmp_path / "tool",
            tmp_path / "v",
        ],
        check=False,
    )
    assert result.returncode == 2
    assert "unrecognized arguments: --export" in result.stderr
    assert not (tmp_path / "v").exists()
    assert not (tmp_path / "tool").exists()


def test_no_extra_files(current: Interpreter, tmp_path: Path) -> None:
    """The creator adds nothing to the venv beyond its stubs and keys, whatever the activators."""
    found = importlib.metadata.entry_points()
    group = found.select(group="virtualenv.activate") if hasattr(found, "select") else found["virtualenv.activate"]
    posix = {"bash", "cshell", "fish", "nushell", "powershell", "python", "xonsh"}
    others = ",".join(sorted(posix & {e.name for e in group}))  # those this virtualenv has (xonsh: not 20.25)
    virtualenv("--no-seed", "--creator", "linkable", "-p", current.path, tmp_path / "a")
    virtualenv("--no-seed", "--creator", "linkable", "-p", current.path, "--activators", others, tmp_path / "b")
    files = [sorted(str(p.relative_to(tmp_path / v)) for p in (tmp_path / v).rglob("*")) for v in ("a", "b")]
    assert files[0] == files[1]
