"""What the shared table cannot describe: other users, privileges, races, a system without /proc."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from helpers import DEPLOY, NOBODY, as_user
from virtualenv_linkable._stub import template as stub_path


def stub_venv(directory: Path, owner: int) -> Path:
    """A linkable venv whose interpreter is /bin/echo (it prints its arguments), owned by ``owner``."""
    (directory / "venv" / "bin").mkdir(parents=True)
    stub = directory / "venv" / "bin" / "python"
    shutil.copy(stub_path(), stub)
    (directory / "venv" / "pyvenv.cfg").write_text("home = /bin\nvenvlink-executable = /bin/echo\n")
    for path in (directory / "venv", directory / "venv" / "bin", stub, directory / "venv" / "pyvenv.cfg"):
        os.chown(path, owner, owner)
    return directory / "venv"


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


def test_a_shared_venv_runs_for_every_user(world_readable_dir: Path) -> None:
    """A deploy user's venv, run by others and by root, directly and through links: as CPython would."""
    venv = stub_venv(world_readable_dir, DEPLOY)
    (world_readable_dir / "tool").symlink_to(venv / "bin" / "python")
    for uid in (NOBODY, 0, DEPLOY):
        for path in (venv / "bin" / "python", world_readable_dir / "tool"):
            result = subprocess.run([*as_user(uid), path, "hello"], capture_output=True, text=True, check=False)
            assert (result.returncode, result.stdout, result.stderr) == (0, "hello\n", ""), (uid, path)


@pytest.mark.parametrize("planted", ["a link to the victim's own pyvenv.cfg", "a pyvenv.cfg of the attacker's"])
def test_a_planted_pyvenv_cfg_beside_a_middle_hop_is_refused(planted: str, world_readable_dir: Path) -> None:
    """~/bin/tool -> /tmp/stage/tool -> venv/bin/python, and another user plants /tmp/pyvenv.cfg (with
    fs.protected_symlinks=0, a link to the victim's own file passes a check of the file alone). Nothing of the
    attacker's runs; the message hands no trust to the planted file."""
    victim, attacker = DEPLOY, NOBODY
    venv = stub_venv(world_readable_dir, victim)
    public = world_readable_dir / "tmp"
    public.mkdir()
    public.chmod(0o1777)
    for directory, link, target in (
        (public / "stage", "tool", venv / "bin" / "python"),
        (world_readable_dir / "home" / "bin", "tool", public / "stage" / "tool"),
    ):
        directory.mkdir(parents=True)
        (directory / link).symlink_to(target)
        os.lchown(directory / link, victim, victim)
        os.chown(directory, victim, victim)
    plant = (
        "ln -s {cfg} {tmp}/pyvenv.cfg" if planted.startswith("a link") else "printf 'home = /bin\\n' > {tmp}/pyvenv.cfg"
    )
    subprocess.run([*as_user(attacker), "sh", "-c", plant.format(cfg=venv / "pyvenv.cfg", tmp=public)], check=True)
    tool = world_readable_dir / "home" / "bin" / "tool"
    result = subprocess.run([*as_user(victim), tool, "hello"], capture_output=True, text=True, check=False)
    assert result.returncode == 127
    assert result.stdout == ""
    assert result.stderr.startswith(f"venvlink: refusing {public}/pyvenv.cfg: only venvlink's walk reads it")
    assert "its directory can be written by other users" in result.stderr
    assert "chown" not in result.stderr and "chmod" not in result.stderr
    (public / "pyvenv.cfg").unlink()
    result = subprocess.run([*as_user(victim), tool, "hello"], capture_output=True, text=True, check=False)
    assert (result.returncode, result.stdout) == (0, "hello\n"), "and without the planted file, the tool works"


def test_no_proc(world_readable_dir: Path) -> None:
    """Containers, chroots and `unshare -m` may have no /proc: the kernel's own record of the path is enough."""
    unshare = shutil.which("unshare")
    if os.geteuid() != 0 or unshare is None:
        pytest.skip("unmounting /proc in a mount namespace of its own needs root and unshare (util-linux)")
    venv = stub_venv(world_readable_dir, 0)
    (world_readable_dir / "tool").symlink_to(venv / "bin" / "python")
    script = f"umount -l /proc && test ! -e /proc/self && exec {world_readable_dir / 'tool'} hello"
    result = subprocess.run([unshare, "--mount", "sh", "-c", script], capture_output=True, text=True, check=False)
    assert (result.returncode, result.stdout, result.stderr) == (0, "hello\n", "")


def test_fexecve_of_a_close_on_exec_descriptor_runs_the_own_venv(world_readable_dir: Path) -> None:
    """Python's os.execve(fd, ...) with a non-inheritable fd: the kernel's record of the path is /dev/fd/N, gone
    once the stub runs. A plain venv's python starts (from argv[0]); the stub runs the venv it lives in."""
    venv = stub_venv(world_readable_dir, 0)
    code = (
        "import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); assert not os.get_inheritable(fd); "
        "os.execve(fd, ['tool', 'hello'], {})"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, venv / "bin" / "python"], capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "hello\n", "")


def test_file_capabilities_are_refused_by_name(world_readable_dir: Path) -> None:
    """A stub with file capabilities starts privileged (AT_SECURE) for other users: refused, and the message says
    what made it so and how to take it away (not `chmod ug-s`, which would do nothing)."""
    setcap = shutil.which("setcap")
    if setcap is None:
        pytest.skip("setcap (Debian: libcap2-bin) is not installed")
    venv = stub_venv(world_readable_dir, 0)
    stub = venv / "bin" / "python"
    subprocess.run([setcap, "cap_net_raw+ep", stub], check=True)
    result = subprocess.run([*as_user(NOBODY), stub, "hello"], capture_output=True, text=True, check=False)
    assert result.returncode == 127
    assert result.stderr == (
        "venvlink: refusing to run with file capabilities (the kernel marks this start privileged); "
        f"remove them: setcap -r {stub}\n"
    )
