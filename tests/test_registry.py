"""The registry: concurrent exports lose nothing; a held lock is named; writes are durable; a corrupt file is
reported, never reset."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import DEPLOY, Interpreter, as_user, make_venv, run
from virtualenv_linkable import _registry, _stub, _trust
from virtualenv_linkable._atomic import Directory
from virtualenv_linkable._registry import Converted, Export, Registry
from virtualenv_linkable.exceptions import VenvlinkError


@pytest.fixture(autouse=True)
def _own_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def test_sixteen_concurrent_exports(current: Interpreter, tmp_path: Path) -> None:
    venv = make_venv(current, tmp_path / "venv")
    (tmp_path / "bin").mkdir()
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "virtualenv_linkable", "export", str(venv), str(tmp_path / "bin" / f"tool{i}")],
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


@contextlib.contextmanager
def _lock_held() -> Iterator[subprocess.Popen[str]]:
    """Another venvlink holding the registry's lock, until the block ends."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from virtualenv_linkable._registry import Registry\n"
            "with Registry().change():\n    print('held', flush=True); time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        yield holder
    finally:
        holder.kill()
        holder.wait()


def test_a_held_lock_is_named_and_waited_for_with_a_limit(current: Interpreter, tmp_path: Path) -> None:
    venv = make_venv(current, tmp_path / "venv")
    with _lock_held() as holder:
        start = time.monotonic()
        env = {**os.environ, "VENVLINK_LOCK_TIMEOUT": "1"}
        result = run(
            [sys.executable, "-m", "virtualenv_linkable", "export", venv, tmp_path / "tool"], check=False, env=env
        )
        assert time.monotonic() - start < 30
    registry = tmp_path / "state" / "venvlink" / "exports.json"
    assert result.returncode == 1
    assert result.stderr == (
        f"venvlink: error: another venvlink (PID {holder.pid}) holds the lock on the registry {registry}; "
        "waited 1 s; try again when it is done\n"
    )
    assert not os.path.lexists(tmp_path / "tool")
    assert run([sys.executable, "-m", "virtualenv_linkable", "export", venv, tmp_path / "tool"]).returncode == 0, (
        "released"
    )


def test_writes_are_durable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """fsync of the new file before its rename, and of the directory after it."""
    synced: list[str] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    registry = Registry(tmp_path / "venvlink" / "exports.json")
    with registry.change() as records:
        records.exports["/x"] = Export("/x", "/v", "/v/bin/python", "python", "2026-11-22T00:00:00+00:00")
    assert len(synced) == 2
    assert Path(synced[0]).name.startswith(".exports.json.")  # the new file, under its temporary name
    assert synced[1] == str(tmp_path / "venvlink")


@pytest.mark.parametrize("content", ["{not json", '{"format": 1}', "[]", '{"format": 1, "exports": []}'])
def test_corrupt_registry_is_reported(current: Interpreter, tmp_path: Path, content: str) -> None:
    registry = tmp_path / "state" / "venvlink" / "exports.json"
    registry.parent.mkdir(parents=True, exist_ok=True)
    registry.write_text(content)
    venv = make_venv(current, tmp_path / "venv")
    for command in (["list"], ["doctor"], ["export", str(venv), str(tmp_path / "tool")]):
        result = run([sys.executable, "-m", "virtualenv_linkable", *command], check=False)
        assert result.returncode == 1
        assert result.stderr.startswith(f"venvlink: error: the registry {registry} is corrupt")
        assert "Traceback" not in result.stderr
        assert result.stderr.count("\n") == 1
    assert registry.read_text() == content
    assert not (tmp_path / "tool").exists()


def test_newer_format_is_not_overwritten(tmp_path: Path) -> None:
    registry = tmp_path / "state" / "venvlink" / "exports.json"
    registry.parent.mkdir(parents=True, exist_ok=True)
    registry.write_text('{"format": 3, "exports": {}}')
    result = run([sys.executable, "-m", "virtualenv_linkable", "list"], check=False)
    assert result.returncode == 1
    assert "has format 3; upgrade venvlink" in result.stderr
    assert registry.read_text() == '{"format": 3, "exports": {}}'


def test_a_registry_of_venvlink_0_2_is_read(current: Interpreter, tmp_path: Path) -> None:
    """The import package was renamed after 0.2; the registry stayed where it was, in the same format."""
    venv = make_venv(current, tmp_path / "venv")
    dest = tmp_path / "tool"
    dest.symlink_to(venv / "bin" / "python")
    registry = tmp_path / "state" / "venvlink" / "exports.json"
    registry.parent.mkdir(parents=True, exist_ok=True)
    entry = {"created": "2026-11-20T10:00:00+00:00", "dest": str(dest), "name": "python"}
    entry |= {"target": str(venv / "bin" / "python"), "venv": str(venv)}
    registry.write_text(json.dumps({"format": 1, "exports": {str(dest): entry}}, indent=2) + "\n")  # as 0.2 wrote it
    listed = json.loads(run([sys.executable, "-m", "virtualenv_linkable", "list", "--json"]).stdout)["exports"]
    assert [(e["dest"], e["venv"], e["state"]) for e in listed] == [(str(dest), str(venv), "ok")]
    run([sys.executable, "-m", "virtualenv_linkable", "remove", dest])
    assert not os.path.lexists(dest)


SPY = "#!/bin/sh\necho ran >> {marker}\n"


@pytest.mark.parametrize("command", ["list", "doctor", "remove", "export"])
@pytest.mark.parametrize("where", ["HOME", "XDG_STATE_HOME"])
def test_another_users_registry_is_refused(
    command: str, where: str, current: Interpreter, world_readable_dir: Path, tmp_path: Path
) -> None:
    """Root with another user's HOME or XDG_STATE_HOME (``sudo -E``, ``env_keep+=HOME``): venvlink runs the venvs
    a registry names, so it refuses one that is not root's own, before running or writing anything."""
    as_user(DEPLOY)  # skips unless root
    home = world_readable_dir / "alice"
    state = home / ".local" / "state"
    (state / "venvlink").mkdir(parents=True)
    marker = world_readable_dir / "ran"
    theirs = home / "venv"
    (theirs / "bin").mkdir(parents=True)
    (theirs / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (theirs / "bin" / "python").write_text(SPY.format(marker=marker))
    (theirs / "bin" / "python").chmod(0o755)
    (home / "tool").symlink_to(theirs / "bin" / "python")
    entry = {"dest": str(home / "tool"), "venv": str(theirs), "target": str(theirs / "bin" / "python")}
    entry |= {"name": "python", "created": "2026-11-20T10:00:00+00:00"}
    registry = state / "venvlink" / "exports.json"
    registry.write_text(json.dumps({"format": 1, "exports": {entry["dest"]: entry}}))
    for path in (home, *home.rglob("*")):
        os.lchown(path, DEPLOY, DEPLOY)
    env = {**os.environ, "HOME": str(home)}
    env.pop("XDG_STATE_HOME")
    if where == "XDG_STATE_HOME":
        env = {**os.environ, "XDG_STATE_HOME": str(state)}
    args = {"list": [], "doctor": [], "remove": [home / "tool"]}
    args["export"] = [make_venv(current, tmp_path / "v"), tmp_path / "t"]
    result = run([sys.executable, "-m", "virtualenv_linkable", command, *args[command]], check=False, env=env)
    assert result.returncode == 1
    assert result.stderr.startswith(f"venvlink: error: refusing the registry {registry}: {home} belongs to ")
    assert f"(uid {DEPLOY}), and doctor --fix changes the venvs a registry names" in result.stderr
    assert result.stderr.count("\n") == 1
    assert not marker.exists()
    assert os.path.lexists(home / "tool")
    assert not os.path.lexists(tmp_path / "t")


@pytest.mark.parametrize("victim_exists", [True, False], ids=["victim", "dangling"])
def test_a_symlink_at_the_lock_file_is_refused_and_never_followed(tmp_path: Path, victim_exists: bool) -> None:
    """filelock reopened ``exports.json.lock`` by path: root, with a user's ``XDG_STATE_HOME``, truncated and
    chmod'ed the file a link there named, or created one where a dangling link pointed."""
    state = tmp_path / "state" / "venvlink"
    state.mkdir(parents=True, mode=0o700)
    victim = tmp_path / "victim"
    if victim_exists:
        victim.write_bytes(b"the victim's own\n")
        victim.chmod(0o600)
    (state / "exports.json.lock").symlink_to(victim)
    with pytest.raises(VenvlinkError) as raised, Registry().change() as records:
        records.venvs["/v"] = Converted("/v", "2026-11-22T00:00:00+00:00")
    lock = state / "exports.json.lock"
    assert str(raised.value) == (
        f"refusing the lock file {lock}: it is a symlink, and venvlink locks only a regular file of your own; "
        "move it away, then run this again"
    )
    if victim_exists:
        assert victim.read_bytes() == b"the victim's own\n"
        assert stat.S_IMODE(victim.stat().st_mode) == 0o600
    else:
        assert not os.path.lexists(victim)
    assert os.readlink(lock) == str(victim)
    assert not (state / "exports.json").exists()


def test_the_lock_is_taken_in_the_directory_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The state directory's path swapped for a link to another directory once the registry has opened (and checked)
    it: the lock, as the records, stay in the directory checked; nothing is made in the other."""
    state = tmp_path / "state"
    elsewhere = tmp_path / "elsewhere"  # a root-owned directory, in the attack
    elsewhere.mkdir()
    opened = Registry._state

    def open_then_swap(registry: Registry, *, create: bool) -> Directory | None:
        directory = opened(registry, create=create)
        (state / "venvlink").rename(state / "checked")
        (state / "venvlink").symlink_to(elsewhere)
        return directory

    monkeypatch.setattr(Registry, "_state", open_then_swap)
    with Registry().change() as records:
        records.venvs["/v"] = Converted("/v", "2026-11-22T00:00:00+00:00")
        fd = os.open(state / "checked" / "exports.json.lock", os.O_RDONLY)
        try:  # the lock held is the checked directory's file's (another description of it cannot take it)
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
    assert os.listdir(elsewhere) == []
    assert sorted(os.listdir(state / "checked")) == ["exports.json", "exports.json.lock"]
    assert "/v" in json.loads((state / "checked" / "exports.json").read_text())["venvs"]


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_a_lock_file_that_is_not_a_regular_file_is_refused(tmp_path: Path, kind: str) -> None:
    """Never waited on (a FIFO), never locked in place of the file (a directory)."""
    state = tmp_path / "state" / "venvlink"
    state.mkdir(parents=True, mode=0o700)
    lock = state / "exports.json.lock"
    if kind == "fifo":
        os.mkfifo(lock)
    else:
        lock.mkdir()
    what = {"fifo": "not a regular file", "directory": "a directory"}[kind]
    with pytest.raises(VenvlinkError) as raised, Registry().change():
        pass
    assert str(raised.value).startswith(f"refusing the lock file {lock}: it is {what}, and venvlink locks only ")


def test_another_users_lock_file_is_refused(tmp_path: Path) -> None:
    """A lock file in the user's own directory that is not theirs (root's directory, a file another user made):
    venvlink writes its PID in the file it locks, so it locks only a file of the user's own."""
    as_user(DEPLOY)  # skips unless root
    state = tmp_path / "state" / "venvlink"
    state.mkdir(parents=True, mode=0o700)
    lock = state / "exports.json.lock"
    lock.write_bytes(b"theirs\n")
    os.chown(lock, DEPLOY, DEPLOY)
    with pytest.raises(VenvlinkError) as raised, Registry().change():
        pass
    assert str(raised.value) == (
        f"refusing the lock file {lock}: it is owned by uid {DEPLOY}, and venvlink locks only a regular file of "
        "your own; move it away, then run this again"
    )
    assert lock.read_bytes() == b"theirs\n"


def test_no_registry_is_made_where_another_user_chooses(
    current: Interpreter, world_readable_dir: Path, tmp_path: Path
) -> None:
    """Root with another user's HOME and no registry yet: the state directory would be made by path, inside a
    directory that user can change (a link flipped there could send root's mkdir anywhere): refused, nothing made."""
    as_user(DEPLOY)  # skips unless root
    home = world_readable_dir / "alice"
    home.mkdir()
    os.chown(home, DEPLOY, DEPLOY)
    env = {key: value for key, value in os.environ.items() if key != "XDG_STATE_HOME"} | {"HOME": str(home)}
    venv = make_venv(current, tmp_path / "v")
    result = run([sys.executable, "-m", "virtualenv_linkable", "export", venv, tmp_path / "t"], check=False, env=env)
    assert result.returncode == 1
    assert result.stderr == (
        f"venvlink: error: refusing to create {home / '.local' / 'state'} for the registry: {home} belongs to "
        f"{_trust.user(DEPLOY)}, and doctor --fix changes the venvs a registry names; set XDG_STATE_HOME to a "
        "directory of your own (sudo: -H, not -E)\n"
    )
    assert list(home.iterdir()) == []
    assert not os.path.lexists(tmp_path / "t")


def test_a_lock_timeout_that_is_not_a_number(current: Interpreter, tmp_path: Path) -> None:
    venv = make_venv(current, tmp_path / "v")
    env = {**os.environ, "VENVLINK_LOCK_TIMEOUT": "ten"}
    result = run([sys.executable, "-m", "virtualenv_linkable", "export", venv, tmp_path / "t"], check=False, env=env)
    assert (result.returncode, result.stderr) == (
        1,
        "venvlink: error: VENVLINK_LOCK_TIMEOUT is 'ten', not a number of seconds; set it to one, such as 10\n",
    )


def test_a_registry_directory_others_can_write_is_refused(current: Interpreter, tmp_path: Path) -> None:
    """Whoever can write the registry's directory can swap its files (with hard links allowed, make the lock file
    one of yours): every user, a group you are not in, or a user named in its ACL."""
    state = tmp_path / "state"
    (state / "venvlink").mkdir(parents=True)
    (state / "venvlink").chmod(0o777)
    env = {**os.environ, "XDG_STATE_HOME": str(state)}
    result = run([sys.executable, "-m", "virtualenv_linkable", "list"], check=False, env=env)
    assert (result.returncode, result.stderr) == (
        1,
        f"venvlink: error: refusing the registry {state / 'venvlink' / 'exports.json'}: every user can write "
        f"{state / 'venvlink'}; run: chmod go-w {state / 'venvlink'}\n",
    )


def test_a_revert_the_registry_cannot_forget_is_an_error(current: Interpreter, tmp_path: Path) -> None:
    """``convert --revert`` while another venvlink holds the registry's lock: the venv is reverted, but still
    remembered, and the next ``doctor --fix`` would convert it again. It said nothing and exited 0; now it exits 1
    with one line saying so, and what forgets it."""
    venv = make_venv(current, tmp_path / "venv")  # converted by the creator, and remembered
    registry = tmp_path / "state" / "venvlink" / "exports.json"
    assert str(venv) in json.loads(registry.read_text())["venvs"]
    with _lock_held() as holder:
        env = {**os.environ, "VENVLINK_LOCK_TIMEOUT": "0.2"}
        result = run([sys.executable, "-m", "virtualenv_linkable", "convert", "--revert", venv], check=False, env=env)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"venvlink: error: reverted {venv}, but could not forget it in the registry {registry}, so doctor --fix "
        f"would convert it again: another venvlink (PID {holder.pid}) holds its lock (waited 0.2 s); when it is "
        f"done, run: venvlink remove --forget {venv}\n"
    )
    assert not _stub.is_stub(venv / "bin" / "python"), "reverted all the same"
    assert str(venv) in json.loads(registry.read_text())["venvs"]
    done = run([sys.executable, "-m", "virtualenv_linkable", "remove", "--forget", venv])
    assert done.returncode == 0
    assert json.loads(registry.read_text())["venvs"] == {}


def test_the_registry_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    """exports.json lists a user's venvs and links: 0600, as its directory is 0700; one a venvlink before 0.3 wrote
    0644 becomes 0600 at its next write (a new file renamed over it, never a chmod through a path)."""
    path = tmp_path / "venvlink" / "exports.json"
    registry = Registry(path)
    with registry.change() as records:
        records.exports["/x"] = Export("/x", "/v", "/v/bin/python", "python", "2026-11-22T00:00:00+00:00")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    path.chmod(0o644)
    with registry.change() as records:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, "read as it is"
        records.venvs["/v"] = Converted("/v", "2026-11-22T00:00:00+00:00")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(json.loads(path.read_text())["venvs"]) == ["/v"]


@pytest.mark.parametrize("state", [None, "", "  ", "/srv/state", "relative"])
def test_the_registry_is_where_platformdirs_puts_state(state: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """venvlink finds its state directory without importing platformdirs on Linux: the same answer."""
    import platformdirs  # noqa: PLC0415

    if state is None:
        monkeypatch.delenv("XDG_STATE_HOME")
    else:
        monkeypatch.setenv("XDG_STATE_HOME", state)
    assert _registry.default_path() == platformdirs.user_state_path("venvlink", appauthor=False) / "exports.json"
