"""Paths another user could change (``_trust``): what venvlink refuses to run or change through them, and files
opened only when they are regular. The attacks are those of docs/failures.rst's "Attacks tried", with uid 65534
as the other user."""

from __future__ import annotations

import errno
import os
import shutil
import stat
import struct
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from helpers import Interpreter, compiler, make_venv, run, stdlib_of, venvlink, wrapped_venv
from virtualenv_linkable import _pyvenv_cfg, _stub, _trust
from virtualenv_linkable._interpreter import is_python

NOBODY = 65534
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="giving files to another user needs root")


def test_your_own_path_is_yours(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "link").symlink_to("a/b")
    assert _trust.others_can_change(tmp_path / "a" / "b") is None
    assert _trust.others_can_change(tmp_path / "link" / ".." / "b") is None
    assert _trust.others_can_change(tmp_path / "missing" / "file") is None, "nobody else can create it"


def test_a_directory_every_user_can_write(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    (shared / "venv").mkdir(parents=True)
    shared.chmod(0o777)
    assert _trust.others_can_change(shared / "venv") == f"every user can write {shared}, where {shared / 'venv'} is"
    shared.chmod(0o1777)  # sticky, as /tmp: only an entry's owner (or the directory's) can replace it
    assert _trust.others_can_change(shared / "venv") is None
    assert (
        _trust.others_can_change(shared / "missing")
        == f"every user can write {shared}, where {shared / 'missing'} would be"
    )
    (shared / "venv").chmod(0o777)
    assert _trust.others_can_change(shared / "venv") == f"every user can write {shared / 'venv'}"


def test_more_links_than_the_kernel_follows(tmp_path: Path) -> None:
    (tmp_path / "loop").symlink_to("loop")
    reason = _trust.others_can_change(tmp_path / "loop")
    assert reason == f"cannot check {tmp_path / 'loop'}: Too many levels of symbolic links"


@needs_root
def test_another_users_directory_a_group_you_are_not_in_and_a_sticky_directory(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    (theirs / "venv").mkdir(parents=True)
    os.chown(theirs, NOBODY, -1)
    assert _trust.others_can_change(theirs / "venv") == f"{theirs} belongs to {_trust.user(NOBODY)}"
    team = tmp_path / "team"
    (team / "venv").mkdir(parents=True)
    os.chown(team, 0, NOBODY)
    team.chmod(0o2775)
    assert str(_trust.others_can_change(team / "venv")).startswith("every member of group ")
    os.chown(team, 0, os.getegid())
    assert _trust.others_can_change(team / "venv") is None, "a group you are in is trusted as you trust its members"
    drop = tmp_path / "drop"
    drop.mkdir()
    drop.chmod(0o1777)
    (drop / "planted").symlink_to(team)
    os.lchown(drop / "planted", NOBODY, -1)
    assert (
        _trust.others_can_change(drop / "planted" / "venv")
        == f"every user can write {drop}, where {drop / 'planted'} is"
    )


def test_open_regular_opens_no_fifo(tmp_path: Path) -> None:
    """A FIFO's writer stays blocked: it was never opened (a device's open, such as a watchdog's, would act)."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: os.close(os.open(fifo, os.O_WRONLY)), daemon=True)
    writer.start()
    with pytest.raises(OSError, match="not a regular file"):
        _trust.open_regular(fifo)
    writer.join(timeout=0.5)
    opened = not writer.is_alive()
    os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))  # lets the writer go
    writer.join()
    assert not opened
    (tmp_path / "file").write_bytes(b"contents")
    (tmp_path / "link").symlink_to("file")
    fd = _trust.open_regular(tmp_path / "link")
    assert os.read(fd, 100) == b"contents"
    os.close(fd)


def _attackers_program(tmp_path: Path, python: Interpreter) -> tuple[Path, Path]:
    """A program of the other user's that leaves a mark when it runs, then runs as ``python`` would."""
    mark = tmp_path / "ran"
    program = tmp_path / "theirs" / "python"
    program.parent.mkdir()
    program.write_text(f'#!/bin/bash\necho "ran as uid $(id -u)" >> {mark}\nexec -a "$0" {python.path} "$@"\n')
    program.chmod(0o755)
    for path in (program, program.parent):
        os.chown(path, NOBODY, NOBODY)
    return program, mark


@needs_root
@pytest.mark.parametrize("command", ["convert", "doctor --fix", "export"])
def test_a_venv_whose_path_a_group_can_point_elsewhere_is_refused(
    command: str, current: Interpreter, tmp_path: Path
) -> None:
    """Root's venv in a directory a group root is not in can write (``/srv/team``, 2775): a member renames it
    away, puts in its place a link to the directory itself, and a ``bin/python`` of their own there. venvlink
    0.3.0 ran it as root from convert, doctor --fix and export. Nothing is run now; and the ``bin/`` that would be
    written is the member's, which root was not told to trust."""
    team = tmp_path / "team"
    team.mkdir()
    venv = team / "app"
    run([current.path, "-m", "venv", "--without-pip", venv])
    assert venvlink("convert", venv)[0] == 0  # remembered, for doctor
    os.chown(team, 0, NOBODY)
    team.chmod(0o2775)
    program, mark = _attackers_program(tmp_path, current)
    venv.rename(team / "app.old")
    venv.symlink_to(team)
    (team / "bin").mkdir()
    (team / "bin" / "python").symlink_to(program)
    (team / "pyvenv.cfg").write_text(
        f"home = {program.parent}\nversion_info = {current.version[0]}.{current.version[1]}.0\n"
    )
    for planted in (venv, team / "bin", team / "bin" / "python", team / "pyvenv.cfg"):
        os.lchown(planted, NOBODY, NOBODY)
    arguments = {
        "convert": ["convert", venv],
        "doctor --fix": ["doctor", "--fix"],
        "export": ["export", venv, tmp_path / "tool"],
    }
    code, out, err = venvlink(*arguments[command])
    assert not mark.exists(), mark.read_text()  # venvlink runs nothing of a venv
    assert code == 1
    assert f"refusing to change {venv}: {venv / 'bin'} belongs to {_trust.user(NOBODY)}" in out + err


def _marked_venv(python: Interpreter, tmp_path: Path) -> tuple[Path, Path]:
    """A converted venv of yours whose base interpreter is a #! wrapper (as nixpkgs makes) that leaves a mark
    whenever the venv's python runs, whatever flags it is given; and that mark, not there yet."""
    mark = tmp_path / "venv ran"
    venv = wrapped_venv(python, tmp_path, first=f'echo ran >> "{mark}"\n')
    assert venvlink("convert", venv)[0] == 0
    mark.unlink(missing_ok=True)
    return venv, mark


@needs_root
def test_export_runs_nothing_through_a_path_another_user_can_change(current: Interpreter, tmp_path: Path) -> None:
    """``export THEIRS/v``, v a link another user can flip between your venv and theirs (renameat2 won that race
    on try 18 against venvlink 0.3.0, which ran the venv's python when the venv, looked up by path, was yours):
    nothing is run through a path someone else can change."""
    venv, mark = _marked_venv(current, tmp_path)
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "v").symlink_to(venv)  # as it stands when the race is won
    os.lchown(theirs, NOBODY, NOBODY)
    code, _, err = venvlink("export", theirs / "v", tmp_path / "tool")
    assert code == 0, err
    assert not mark.exists()
    run([tmp_path / "tool", "-c", "pass"])
    assert mark.exists(), "the mark works"


@needs_root
def test_interpreters_in_another_users_home_are_not_suggested(current: Interpreter, tmp_path: Path) -> None:
    """``sudo -E venvlink doctor``: HOME is another user's, whose ``~/.pyenv`` holds a ``python3.X``. To name a
    candidate for a venv whose Python is gone, venvlink 0.3.0 ran it as root; candidates are read now, never run,
    and one in a directory another user can change is not offered to root to rest a venv on."""
    xy = f"{current.version[0]}.{current.version[1]}"
    home = tmp_path / "theirs"
    versions = home / ".pyenv" / "versions" / f"{xy}.99" / "bin"
    versions.mkdir(parents=True)
    (versions / f"python{xy}").symlink_to(current.real)
    for path in [home, home / ".pyenv", *home.joinpath(".pyenv").rglob("*")]:
        os.lchown(path, NOBODY, NOBODY)
    venv = tmp_path / "venv"
    run([current.path, "-m", "venv", "--without-pip", venv])
    gone = Path("/nonexistent/bin")  # the venv's Python, removed
    cfg = (venv / "pyvenv.cfg").read_text()
    (venv / "pyvenv.cfg").write_text(cfg.replace(str(Path(current.path).parent), str(gone)))
    for entry in (venv / "bin").iterdir():
        if entry.is_symlink():
            target = os.readlink(entry)
            entry.unlink()
            entry.symlink_to(gone / Path(target).name if target.startswith("/") else target)
    env = {**os.environ, "HOME": str(home), "PATH": str(tmp_path / "nothing")}  # no python of root's found first
    env.pop("PYENV_ROOT", None)
    code, _, err = venvlink("convert", venv, env=env)
    assert code == 1
    assert str(versions) not in err
    for path in [home, home / ".pyenv", *home.joinpath(".pyenv").rglob("*")]:
        os.lchown(path, 0, 0)
    assert f"(found: {versions / f'python{xy}'})" in venvlink("convert", venv, env=env)[2], "root's own is searched"


def test_an_empty_file_is_not_read(tmp_path: Path) -> None:
    """procfs files say their size is 0 (root reading /proc/kmsg drains the kernel's log, then blocks): a file
    of size 0 reads as empty without being read."""
    (tmp_path / "empty").touch()
    with pytest.raises(OSError, match="not read") as raised:
        _trust.open_regular(tmp_path / "empty")
    assert raised.value.errno == errno.ENODATA
    assert _pyvenv_cfg.read_bytes(tmp_path / "empty") == b""
    assert not _stub.is_stub(tmp_path / "empty")
    assert not is_python(tmp_path / "empty")


def test_is_python_reads_a_bounded_start(tmp_path: Path) -> None:
    """A sparse "ELF" of terabytes is not read to its end: the entry point's name lies near the start."""
    far = tmp_path / "far"
    with far.open("wb") as stream:
        stream.write(b"\x7fELF")
        stream.seek(64 << 20)
        stream.write(b"Py_BytesMain")
    assert not is_python(far), "a marker 64 MiB in is not looked for"
    assert is_python(Path(sys.executable)), "a real one is read as one (tests/test_reading.py: each, and their bounds)"


def test_directories_venvlink_makes_are_not_writable_by_others(current: Interpreter, tmp_path: Path) -> None:
    """Under umask 000, ~/.local, ~/.local/state and ~/.local/bin made 0777 let any user add a .pth to the user
    site-packages, or replace an exported command: venvlink makes them without others' write bit."""
    home = tmp_path / "home"
    home.mkdir()
    venv = tmp_path / "venv"
    run([current.path, "-m", "venv", "--without-pip", venv])
    env = {key: value for key, value in os.environ.items() if not key.startswith("XDG_")} | {"HOME": str(home)}
    code, _, err = venvlink("export", venv, env=env, umask=0)
    assert code == 0, err
    made = [home / ".local", home / ".local" / "state", home / ".local" / "bin"]
    assert {str(path): oct(path.stat().st_mode & 0o777) for path in made} == {str(path): "0o775" for path in made}


@needs_root
@pytest.mark.parametrize("where", ["state", "bin"])
def test_links_in_another_users_home_choose_nothing_of_roots(
    where: str, current: Interpreter, world_readable_dir: Path, tmp_path: Path
) -> None:
    """``sudo -E``: another user's ``~/.local/state`` or ``~/.local/bin`` a link to a directory of root's (say
    /etc or /etc/sudoers.d): venvlink 0.3.0 made root's registry, or placed root's link, there."""
    home = world_readable_dir / "alice"
    (home / ".local").mkdir(parents=True)
    roots = tmp_path / "roots"
    roots.mkdir()
    (home / ".local" / where).symlink_to(roots)
    for path in (home, home / ".local", home / ".local" / where):
        os.lchown(path, NOBODY, NOBODY)
    venv = tmp_path / "venv"
    run([current.path, "-m", "venv", "--without-pip", venv])
    env = {key: value for key, value in os.environ.items() if not key.startswith("XDG_")} | {"HOME": str(home)}
    if where == "bin":  # the registry root's own; the link's default place is the other user's ~/.local/bin
        env["XDG_STATE_HOME"] = str(tmp_path / "state")
    code, _, err = venvlink("export", venv, *([tmp_path / "tool"] if where == "state" else []), env=env)
    assert code == 1
    what = (
        f"the registry {home}/.local/state/venvlink/exports.json"
        if where == "state"
        else f"to put the link in {home}/.local/bin"
    )
    assert err.startswith(f"venvlink: error: refusing {what}: {home} belongs to {_trust.user(NOBODY)}")
    assert list(roots.iterdir()) == []


def _acl_granting_write(uid: int) -> bytes:
    """A POSIX access ACL (system.posix_acl_access) that lets ``uid`` write: what ``setfacl -m u:UID:rwx`` sets."""
    entries = [
        (0x01, 7, 0xFFFFFFFF),
        (0x02, 7, uid),
        (0x04, 5, 0xFFFFFFFF),
        (0x10, 7, 0xFFFFFFFF),
        (0x20, 5, 0xFFFFFFFF),
    ]
    return struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *entry) for entry in entries)


@needs_root
def test_write_granted_by_an_acl_is_seen(tmp_path: Path) -> None:
    """``setfacl -m u:deploy:rwx /srv/app``: the mode shows only the group's write bit (the ACL's mask), and root
    is in the directory's group. venvlink 0.3.0 took that for a group you are in, and ran the program a user named
    in the ACL put there."""
    srv = tmp_path / "srv"
    (srv / "app").mkdir(parents=True)
    try:
        os.setxattr(srv, "system.posix_acl_access", _acl_granting_write(NOBODY))
    except OSError as error:
        pytest.skip(f"{tmp_path} takes no POSIX ACL: {error.strerror}")
    assert stat.S_IMODE(srv.stat().st_mode) & 0o070 == 0o070
    assert _trust.others_can_change(srv / "app") == (
        f"{_trust.user(NOBODY)}, named in its ACL, can write {srv}, where {srv / 'app'} is"
    )


@needs_root
def test_a_link_of_another_user_is_theirs(tmp_path: Path) -> None:
    """A link another user owns, in a directory only root can write now: they made it when they could write
    there (an ACL since removed, a group since left); what it names is theirs to choose, as far as venvlink knows."""
    (tmp_path / "real").mkdir()
    (tmp_path / "app").symlink_to("real")
    os.lchown(tmp_path / "app", NOBODY, NOBODY)
    assert _trust.others_can_change(tmp_path / "app") == f"{tmp_path / 'app'} belongs to {_trust.user(NOBODY)}"


@needs_root
def test_convert_python_takes_a_name_from_path_not_the_current_directory(current: Interpreter, tmp_path: Path) -> None:
    """``venvlink convert --python python3.X VENV`` as root in a directory another user can write: venvlink 0.3.0
    ran (and recorded) the ``python3.X`` found there, as if its path had been given."""
    program, mark = _attackers_program(tmp_path, current)
    shared = program.parent
    name = f"python{current.version[0]}.{current.version[1]}"
    (shared / name).symlink_to(program)
    venv = tmp_path / "venv"
    run([current.path, "-m", "venv", "--without-pip", venv])
    env = {**os.environ, "PATH": str(tmp_path / "nothing")}
    result = run(
        [sys.executable, "-m", "virtualenv_linkable", "convert", "--python", name, venv],
        check=False,
        env=env,
        cwd=shared,
    )
    assert (result.returncode, result.stderr) == (
        1,
        f"venvlink: error: {name} is not on PATH; give its path (./{name} for one in the current directory)\n",
    )
    assert not mark.exists()


@needs_root
@pytest.mark.parametrize("command", ["export", "export --force", "remove"])
def test_a_dest_whose_directory_another_user_can_point_elsewhere(
    command: str, current: Interpreter, tmp_path: Path
) -> None:
    """Root exported to the team's ``/srv/team/bin/tool`` (``/srv/team`` 2775, a group root is not in); a member
    replaced ``bin`` by a link to a directory of root's. venvlink 0.3.0 then removed, replaced or placed links in
    root's directory. DEST's own directory may be shared; the directories above it may not."""
    venv = make_venv(current, tmp_path / "venv")
    roots = tmp_path / "roots"
    roots.mkdir()
    (roots / "tool").write_text("root's own file")
    team = tmp_path / "team"
    (team / "bin").mkdir(parents=True)
    os.chown(team, 0, NOBODY)
    team.chmod(0o2775)
    if command == "remove":
        assert venvlink("export", venv, team / "bin" / "tool")[0] == 1, "refused already"
    (team / "bin").rename(team / "bin.old")
    (team / "bin").symlink_to(roots)
    os.lchown(team / "bin", NOBODY, NOBODY)
    args = {"export": ["export", venv], "export --force": ["export", "--force", venv], "remove": ["remove"]}[command]
    code, _, err = venvlink(*args, team / "bin" / "tool")
    assert code == 1
    assert err.startswith(f"venvlink: error: refusing {team / 'bin' / 'tool'}: ")
    assert (roots / "tool").read_text() == "root's own file"
    assert [p.name for p in roots.iterdir()] == ["tool"]


@needs_root
def test_a_venv_whose_bin_a_group_can_write_runs_nothing_when_converted(current: Interpreter, tmp_path: Path) -> None:
    """A lab's venv of root's whose bin/ the lab can write (root is not in it): a member pointed bin/python at a
    program of theirs, which venvlink 0.3.0's convert ran as root. Nothing is run now: the program is read, and
    the venv runs what its bin/python chose before, as it would have without venvlink."""
    program, mark = _attackers_program(tmp_path, current)
    venv = tmp_path / "venv"
    run([current.path, "-m", "venv", "--without-pip", venv])
    os.chown(venv / "bin", 0, NOBODY)
    (venv / "bin").chmod(0o2775)
    (venv / "bin" / "python").unlink()
    (venv / "bin" / "python").symlink_to(program)
    os.lchown(venv / "bin" / "python", NOBODY, NOBODY)
    code, _, err = venvlink("convert", venv)
    assert (code, err) == (0, "")
    assert not mark.exists()
    assert os.path.realpath(_pyvenv_cfg.read(venv / "pyvenv.cfg")["venvlink-executable"]) == str(program)


@needs_root
def test_a_venv_whose_lib_a_group_can_write_runs_nothing_when_converted(current: Interpreter, tmp_path: Path) -> None:
    """The ninth review: a ``--copies`` venv of an interpreter that finds its libraries at ``$ORIGIN/../lib``
    (conda's, uv's) loads them from the venv's ``lib/``, where a lab member put a library of theirs, which root's
    convert and export ran. Nothing of the venv is run now, and nothing in its ``lib/`` is written."""
    venv = tmp_path / "venv"
    run([current.path, "-m", "venv", "--without-pip", "--copies", venv])
    os.chown(venv / "lib", 0, NOBODY)
    (venv / "lib").chmod(0o2775)
    (venv / "lib" / "libtheirs.so").write_bytes(b"\x7fELF theirs")
    os.chown(venv / "lib" / "libtheirs.so", NOBODY, NOBODY)
    before = {path: path.read_bytes() for path in (venv / "lib").rglob("*") if path.is_file()}
    code, _, err = venvlink("convert", venv)
    assert (code, err) == (0, "")  # that no program is started at all: test_no_program_runs_but_the_stub
    assert {path: path.read_bytes() for path in (venv / "lib").rglob("*") if path.is_file()} == before


@needs_root
def test_convert_runs_no_base_interpreter_another_user_can_replace(current: Interpreter, tmp_path: Path) -> None:
    """The tenth review: root's venv of ``/srv/team/bin/python3.X`` (a team directory root is not in): a member
    replaced that file with a program of theirs, which root's convert ran to confirm what it is. It is read now;
    the venv runs what it ran before (the team chose its interpreter when root made the venv of theirs)."""
    team = tmp_path / "team"
    (team / "bin").mkdir(parents=True)
    base = team / "bin" / current.versioned_name
    base.symlink_to(current.real)
    venv = tmp_path / "venv"
    run([base, "-m", "venv", "--without-pip", venv])
    for directory in (team, team / "bin"):
        os.chown(directory, 0, NOBODY)
        directory.chmod(0o2775)
    program, mark = _attackers_program(tmp_path, current)
    base.unlink()
    shutil.copy2(program, base)  # renamed over it, as a member can
    os.chown(base, NOBODY, NOBODY)
    code, _, err = venvlink("convert", venv)
    assert (code, err) == (0, "")
    assert not mark.exists()


@needs_root
@pytest.mark.parametrize("layout", ["installed there", "a bin/ of links beside it", "its python3.X writable"])
def test_a_python_whose_lib_another_user_can_change_is_read_not_run(
    layout: str, current: Interpreter, tmp_path: Path
) -> None:
    """The eleventh review: root's venv of a Python installed in ``/srv/team/py``, whose ``lib/`` a team root is not
    in can write: a member put a ``python3X.zip`` there, first on ``sys.path`` even with ``-I -S``, and its
    ``encodings`` ran as root from convert, export and doctor --fix. The twelfth: a venv made through root's
    ``/srv/tools/bin/python3.X`` (a link to the system's) has ``home = /srv/tools/bin``, and a copy of the
    interpreter in the venv looks for its standard library up from there: in ``/srv/tools/lib``. The thirteenth:
    root's ``lib/``, but a ``lib/python3.X`` in it the team can write, where an ``os.pyc`` or a ``lib-dynload``
    makes it the prefix or the exec prefix (as Debian's ``/usr/local/lib/python3.X`` is for group staff). The
    installation getpath finds is judged before anything runs."""
    if current.implementation != "CPython":
        pytest.skip("CPython's getpath; a copy of PyPy's executable does not run without its libpypy beside it")
    team = tmp_path / "team"
    (team / "bin").mkdir(parents=True)
    (team / "lib").mkdir()
    python = team / "bin" / current.versioned_name
    (team / "lib" / stdlib_of(current).name).symlink_to(stdlib_of(current))  # else found up to /tmp/lib: refused
    writable = team / "lib"
    if layout == "installed there":
        shutil.copy2(current.real, python)
    elif layout == "its python3.X writable":  # team/tools/lib/python3.X, on the way up to team/lib's
        python = team / "tools" / "bin" / current.versioned_name
        writable = team / "tools" / "lib" / stdlib_of(current).name
        writable.mkdir(parents=True)
        python.parent.mkdir()
        python.symlink_to(current.real)
    else:
        python.symlink_to(current.real)
    venv = tmp_path / "venv"
    run([python, "-m", "venv", "--without-pip", *(["--copies"] if layout != "installed there" else []), venv])
    os.chown(writable, 0, NOBODY)
    writable.chmod(0o2775)
    mark = tmp_path / "ran"
    planted = writable / f"python{current.version[0]}{current.version[1]}.zip"
    with zipfile.ZipFile(planted, "w") as archive:  # first on sys.path, even under -I -S
        archive.writestr("encodings/__init__.py", f"open({str(mark)!r}, 'a').close()\n")
    os.chown(planted, NOBODY, NOBODY)
    code, _, err = venvlink("convert", venv)
    assert (code, err) == (0, "")
    assert not mark.exists(), "nothing of the installation ran"  # nor anything else: test_no_program_runs_...


@needs_root
def test_what_another_member_put_in_a_groups_venv_stops_no_conversion(current: Interpreter, tmp_path: Path) -> None:
    """The tenth review: a lab's venv, its site-packages writable by the lab, where another member installed a
    package (theirs): its owner may convert it (the ninth review's rule refused it), in the lab or not: converting
    runs nothing of site-packages and writes nothing there."""
    venv = tmp_path / "venv"
    run([current.path, "-m", "venv", "--without-pip", venv])
    site_packages = next(venv.glob("lib/*/site-packages"))
    os.chown(site_packages, 0, NOBODY)
    site_packages.chmod(0o2775)
    (site_packages / "theirs").mkdir()
    (site_packages / "theirs" / "__init__.py").write_text("")
    for path in (site_packages / "theirs", site_packages / "theirs" / "__init__.py"):
        os.chown(path, NOBODY, NOBODY)
    outsider = run([sys.executable, "-m", "virtualenv_linkable", "convert", venv], check=False)
    assert (outsider.returncode, outsider.stderr) == (0, ""), "nothing of site-packages is run, nor written"
    assert _stub.is_stub(venv / "bin" / "python")


@needs_root
def test_a_dest_given_with_dotdot_after_another_users_link_is_refused(current: Interpreter, tmp_path: Path) -> None:
    """The ninth review: ``export --force VENV /srv/team/tools/../bin/x``, ``tools`` a member's link to a directory
    beside root's ``bin/``: DEST was judged once resolved, and root's ``bin/x`` was replaced. Judged as given."""
    venv = make_venv(current, tmp_path / "venv")
    roots = tmp_path / "roots"
    (roots / "lib").mkdir(parents=True)
    (roots / "bin").mkdir()
    (roots / "bin" / "x").write_text("root's own file")
    team = tmp_path / "team"
    team.mkdir()
    os.chown(team, 0, NOBODY)
    team.chmod(0o2775)
    (team / "tools").symlink_to(roots / "lib")
    os.lchown(team / "tools", NOBODY, NOBODY)
    code, _, err = venvlink("export", "--force", venv, f"{team}/tools/../bin/x")
    assert code == 1
    assert "every member of group " in err
    assert (roots / "bin" / "x").read_text() == "root's own file"


@needs_root
def test_export_runs_no_code_of_the_venvs_site_directories(current: Interpreter, tmp_path: Path) -> None:
    """export ran the venv's python once for its sys.prefix: the ``.pth`` files and ``sitecustomize`` of its
    site-packages, or of Debian's ``dist-packages`` (which the sixth review's check left out), ran with it. The
    stub explains the link now, and nothing is run, whoever can write the venv's directories."""
    venv, ran = _marked_venv(current, tmp_path)
    mark = tmp_path / "site ran"
    code = f"import pathlib; pathlib.Path({str(mark)!r}).touch()\n"
    minor = f"python{current.version[0]}.{current.version[1]}"
    sites = [*venv.glob("lib/*/site-packages"), venv / "local" / "lib" / minor / "dist-packages"]
    for site in sites:
        site.mkdir(parents=True, exist_ok=True)
        (site / "zz.pth").write_text(code)
        (site / "sitecustomize.py").write_text(code)
    assert venvlink("export", venv, tmp_path / "tool")[0] == 0
    assert not ran.exists(), "the venv's python is not run: the stub explains the link"
    assert not mark.exists()
    for lab_writes in (sites[-1], venv / "lib"):
        os.chown(lab_writes, 0, NOBODY)
        lab_writes.chmod(0o2775)
        assert venvlink("export", "--force", venv, tmp_path / "tool")[0] == 0
        assert not ran.exists(), lab_writes
        lab_writes.chmod(0o755)


@needs_root
def test_export_runs_nothing_of_a_venv_whose_pyvenv_cfg_a_group_can_write(current: Interpreter, tmp_path: Path) -> None:
    """The seventh review: a lab member named a program in root's venv's group-writable pyvenv.cfg, and root's
    export ran it (convert refused that venv; export did not look at pyvenv.cfg). The program here is root's own,
    a native one that keeps ``argv[0]`` (the stub then explains a start in the venv): only pyvenv.cfg is theirs."""
    venv = make_venv(current, tmp_path / "venv")
    mark = tmp_path / "ran"
    program = tmp_path / "programs" / "python"
    program.parent.mkdir()
    source = tmp_path / "program.c"
    source.write_text(
        "#include <stdio.h>\n#include <unistd.h>\n"
        f'int main(int argc, char **argv) {{ FILE *f = fopen("{mark}", "a"); if (f) fclose(f); (void)argc; '
        f'execv("{current.real}", argv); return 127; }}\n'
    )
    run([compiler(), "-o", program, source])
    cfg = venv / "pyvenv.cfg"
    os.chown(cfg, 0, NOBODY)
    cfg.chmod(0o664)
    values = _pyvenv_cfg.parse(cfg.read_bytes())
    key = next(k for k in ("venvlink-executable", "base-executable") if k in values)
    cfg.write_text(cfg.read_text().replace(f"{key} = {values[key]}", f"{key} = {program}"))
    code, _, err = venvlink("export", venv, tmp_path / "tool")
    assert code == 0, err
    assert not mark.exists()
    run([tmp_path / "tool", "-c", "pass"])
    assert mark.exists(), "the program runs when the link is run"


def test_kernel_files_are_not_read(tmp_path: Path) -> None:
    """sysfs files say their size is 4096, and a read can clear a device's state or fail (EINVAL): venvlink
    reads none (``list`` and ``doctor`` stopped at one a user linked into a venv's bin/)."""
    sysfs = next((Path(p) for p in ("/sys/kernel/uevent_seqnum", "/sys/kernel/profiling") if Path(p).is_file()), None)
    if sysfs is None:
        pytest.skip("no /sys/kernel/uevent_seqnum or /sys/kernel/profiling here")
    with pytest.raises(OSError, match="a file of the kernel's, not read"):
        _trust.open_regular(sysfs)
    (tmp_path / "zz").symlink_to(sysfs)
    assert not _stub.is_stub(tmp_path / "zz")


@needs_root
def test_safe_directories_are_trusted_as_told(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A container's root on a workspace a user owns: refused, unless VENVLINK_SAFE_DIRECTORIES lists it, as git's
    safe.directory does; who can replace the listed directory itself is still asked."""
    workspace = tmp_path / "workspace"
    (workspace / "proj").mkdir(parents=True)
    os.chown(workspace, NOBODY, NOBODY)
    assert _trust.others_can_change(workspace / "proj") == f"{workspace} belongs to {_trust.user(NOBODY)}"
    monkeypatch.setenv("VENVLINK_SAFE_DIRECTORIES", f"/nonexistent{os.pathsep}{workspace}")
    assert _trust.others_can_change(workspace / "proj") is None
    tmp_path.chmod(0o777)  # whoever can write its parent could put another directory there
    assert _trust.others_can_change(workspace / "proj") == f"every user can write {tmp_path}, where {workspace} is"


@pytest.mark.parametrize("entry", ["proj", "./proj", "~/proj"])
def test_a_relative_safe_directory_is_refused(
    entry: str, current: Interpreter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As git's safe.directory: a relative entry of VENVLINK_SAFE_DIRECTORIES would name a directory relative to
    wherever venvlink runs (a shared one, as root), so it is refused, with one line, wherever it is read."""
    from virtualenv_linkable.exceptions import VenvlinkError  # noqa: PLC0415

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    venv = make_venv(current, tmp_path / "venv")  # remembered: the registry is there
    monkeypatch.setenv("VENVLINK_SAFE_DIRECTORIES", f"{tmp_path}{os.pathsep}{entry}")
    said = f"VENVLINK_SAFE_DIRECTORIES has a relative entry {entry!r}; give absolute paths"
    with pytest.raises(VenvlinkError) as raised:
        _trust.others_can_change(tmp_path / "venv")
    assert str(raised.value) == said
    for command in (["export", venv, tmp_path / "tool"], ["convert", venv], ["list"], ["doctor", "--fix"]):
        assert venvlink(*command, cwd=tmp_path) == (1, "", f"venvlink: error: {said}\n"), command
    assert not os.path.lexists(tmp_path / "tool")
    cmd = [sys.executable, "-m", "virtualenv", "-q", "--no-seed", "--creator", "linkable", "-p", current.path]
    result = run([*cmd, tmp_path / "other"], check=False, cwd=tmp_path)
    assert result.returncode != 0
    assert said in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "other").exists()


@needs_root
def test_a_wrapper_of_roots_that_runs_a_team_program_is_not_run(current: Interpreter, tmp_path: Path) -> None:
    """Root's venv whose interpreter is root's own ``#!`` wrapper, which execs a program in a directory a team
    root is not in can write: venvlink 0.3.0 judged the wrapper's path (root's), stopped there, and its convert ran
    the team member's program as root. Nothing is run now, whatever a wrapper execs."""
    program, mark = _attackers_program(tmp_path, current)
    team = program.parent
    os.chown(team, 0, NOBODY)
    team.chmod(0o2775)
    wrapper = tmp_path / "roots" / "bin" / current.versioned_name
    wrapper.parent.mkdir(parents=True)
    (wrapper.parent.parent / "lib").mkdir()
    (wrapper.parent.parent / "lib" / stdlib_of(current).name).symlink_to(stdlib_of(current))
    wrapper.write_text(f'#!/bin/bash\nexec -a "$0" {program} "$@"\n')
    wrapper.chmod(0o755)
    venv = tmp_path / "venv"
    run([wrapper, "-m", "venv", "--without-pip", venv])
    mark.unlink()
    own_registry = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}  # doctor --fix: this venv's only
    for command in (["convert", venv], ["export", venv, tmp_path / "tool"], ["doctor", "--fix"]):
        code, _, err = venvlink("-q", *command, env=own_registry)
        assert (code, err) == (0, ""), command
        assert not mark.exists(), command


@needs_root
def test_root_gives_what_it_makes_in_a_trusted_venv_only_through_descriptors(
    current: Interpreter, tmp_path: Path
) -> None:
    """The attack review of the principle: root gave the links and directories it made in another user's venv
    (under VENVLINK_SAFE_DIRECTORIES) to that user by name, a moment after making them; the user swapped the name
    for a hard link to root's /etc/shadow, which became theirs. Only what root holds open is given now: no
    chown of a name, by convert (which makes libexec/ for a wrapper), --revert (links) or export --force."""
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed (.ci/run installs it)")
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    venv = wrapped_venv(current, workspace)  # a #! base: converting makes libexec/ and a link in it
    for path in [workspace, *workspace.rglob("*")]:
        os.lchown(path, NOBODY, NOBODY)
    env = {**os.environ, "VENVLINK_SAFE_DIRECTORIES": str(workspace)}
    log = tmp_path / "strace.log"
    for command in (["convert", venv], ["export", "--force", venv, workspace / "tool"], ["convert", "--revert", venv]):
        traced = [strace, "-f", "-qq", "-e", "trace=chown,lchown,fchownat", "-o", log, sys.executable, "-m"]
        result = run([*traced, "virtualenv_linkable", *command], check=False, env=env)
        assert result.returncode == 0, result.stderr
        assert "chown" not in log.read_text(), (command, log.read_text())
    assert (venv / "pyvenv.cfg").stat().st_uid == NOBODY, "given back through its descriptor"


@needs_root
def test_a_stub_is_writable_by_a_group_only_where_the_group_can_write_bin(current: Interpreter, tmp_path: Path) -> None:
    """The attack review of the principle: root's venv in a setgid directory of a group that cannot write its bin/,
    converted under umask 002: the stubs were made group-writable, and a member's program then ran as root."""
    lab = tmp_path / "lab"
    lab.mkdir()
    os.chown(lab, 0, NOBODY)
    lab.chmod(0o2755)
    venv = lab / "venv"
    run([current.path, "-m", "venv", "--without-pip", venv])
    umask = os.umask(0o002)
    try:
        assert venvlink("-q", "convert", venv)[0] == 0
    finally:
        os.umask(umask)
    assert stat.S_IMODE((venv / "bin" / "python").stat().st_mode) == 0o755


@needs_root
def test_a_safe_directory_turned_into_a_link_trusts_nothing_more(current: Interpreter, tmp_path: Path) -> None:
    """The second attack review of the principle: root listed a user's workspace in VENVLINK_SAFE_DIRECTORIES;
    the user, who owns its parent, made it a link to ``/``, and every path was trusted: root's export --force placed
    a link in /usr/local/bin through a directory of theirs. A listed entry that a link leads through is an error."""
    venv = make_venv(current, tmp_path / "venv")
    home = tmp_path / "home"
    (home / "ws").mkdir(parents=True)
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    roots = tmp_path / "roots"
    roots.mkdir()
    (theirs / "bin").symlink_to(roots)
    for path in (home, home / "ws", theirs, theirs / "bin"):
        os.lchown(path, NOBODY, NOBODY)
    env = {**os.environ, "VENVLINK_SAFE_DIRECTORIES": str(home / "ws")}
    code, _, err = venvlink("export", "--force", venv, theirs / "bin" / "tool", env=env)
    assert (code, err.startswith(f"venvlink: error: refusing {theirs / 'bin' / 'tool'}: ")) == (1, True)
    (home / "ws").rmdir()
    (home / "ws").symlink_to("/")
    code, _, err = venvlink("export", "--force", venv, theirs / "bin" / "tool", env=env)
    assert (code, err) == (
        1,
        f"venvlink: error: VENVLINK_SAFE_DIRECTORIES lists {home / 'ws'}, which a link makes /; list the directory "
        "itself (whoever made the link could make it lead elsewhere)\n",
    )
    assert list(roots.iterdir()) == []
