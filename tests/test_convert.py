"""venvlink convert: the interpreter read, never guessed; an exact round trip; refusals that change nothing."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from helpers import Interpreter, find_interpreters, make_venv, run, snapshot, sys_info, venvlink
from virtualenv_linkable import _stub
from virtualenv_linkable.__main__ import main

PYPY = next((i for i in find_interpreters() if i.implementation == "PyPy"), None)
DEBIAN = Path("/usr/bin/python3")
IMPLEMENTATION = "import platform, sys; print(platform.python_implementation(), sys.prefix)"


def new_venv(kind: str, interpreter: Interpreter, dest: Path) -> Path:
    if kind in {"stdlib", "stdlib --copies", "debian", "pypy stdlib"}:
        python = {"debian": DEBIAN, "pypy stdlib": PYPY.path if PYPY else None}.get(kind, interpreter.path)
        run([python, "-m", "venv", "--without-pip", *(["--copies"] if "copies" in kind else []), dest])
    elif kind == "uv":
        run([sys.executable, "-m", "uv", "venv", "-q", "--no-python-downloads", "--python", interpreter.path, dest])
    elif kind == "pypy virtualenv":
        assert PYPY is not None
        make_venv(PYPY, dest, creator="builtin")
    else:
        make_venv(interpreter, dest, *(["--copies"] if "copies" in kind else []), creator="builtin")
    return dest


KINDS = [
    "stdlib",
    "stdlib --copies",
    "virtualenv",
    "virtualenv --copies",
    "uv",
    "debian",
    "pypy stdlib",
    "pypy virtualenv",
]


@pytest.mark.parametrize("kind", KINDS)
def test_round_trip(kind: str, current: Interpreter, tmp_path: Path) -> None:
    if kind.startswith("pypy") and PYPY is None:
        pytest.skip("no PyPy found (Debian: apt install pypy3)")
    if kind == "debian" and not (DEBIAN.exists() and os.path.realpath(DEBIAN).startswith("/usr/bin/")):
        pytest.skip("no Debian python3 in /usr/bin")
    venv = new_venv(kind, current, tmp_path / "venv")
    before = snapshot(venv)
    implementation = run([venv / "bin" / "python", "-c", IMPLEMENTATION]).stdout
    link = tmp_path / "tool"
    link.symlink_to(venv / "bin" / "python")
    assert run([link, "-c", IMPLEMENTATION]).stdout != implementation, "the problem: a plain venv is lost"

    assert main(["convert", str(venv)]) == 0
    assert run([link, "-c", IMPLEMENTATION]).stdout == implementation, "the same interpreter, now through a link"
    converted = snapshot(venv)
    assert main(["convert", str(venv)]) == 0
    assert snapshot(venv) == converted, "idempotent"

    assert main(["convert", "--revert", str(venv)]) == 0
    assert snapshot(venv) == before, "exactly as it was"
    assert run([venv / "bin" / "python", "-c", IMPLEMENTATION]).stdout == implementation
    assert main(["convert", "--revert", str(venv)]) == 0
    assert snapshot(venv) == before


def test_pypy_stays_pypy(tmp_path: Path) -> None:
    """The bug: home is /usr/bin, where python3 is CPython; the interpreter is read from bin/python, not guessed."""
    if PYPY is None:
        pytest.skip("no PyPy found (Debian: apt install pypy3)")
    venv = new_venv("pypy stdlib", PYPY, tmp_path / "venv")
    code, out, _ = venvlink("convert", venv)
    assert code == 0
    assert str(PYPY.real) in out
    assert run([venv / "bin" / "python", "-c", IMPLEMENTATION]).stdout.split()[0] == "PyPy"
    code, out, _ = venvlink("which", venv / "bin" / "python")
    assert f"runs        {PYPY.real} (named by venvlink-executable)" in out


def test_round_trip_keeps_a_missing_final_newline(current: Interpreter, tmp_path: Path) -> None:
    venv = new_venv("stdlib", current, tmp_path / "venv")
    cfg = venv / "pyvenv.cfg"
    cfg.write_bytes(cfg.read_bytes().rstrip(b"\n"))
    before = snapshot(venv)
    assert main(["convert", str(venv)]) == 0
    assert main(["convert", "--revert", str(venv)]) == 0
    assert snapshot(venv) == before


def test_free_threaded_entry(current: Interpreter, tmp_path: Path) -> None:
    """A python3.Xt entry (free-threaded builds) is an interpreter entry like the others (faked here)."""
    venv = new_venv("stdlib", current, tmp_path / "venv")
    entry = venv / "bin" / "python{}.{}t".format(*current.version)
    entry.symlink_to("python")
    before = snapshot(venv)
    assert main(["convert", str(venv)]) == 0
    assert _stub.is_stub(entry) and not entry.is_symlink()
    assert main(["convert", "--revert", str(venv)]) == 0
    assert snapshot(venv) == before


def test_half_converted_venv(current: Interpreter, tmp_path: Path) -> None:
    """One entry a stub already (an interrupted run, a hand edit): convert completes it, revert undoes all."""
    venv = new_venv("stdlib", current, tmp_path / "venv")
    before = snapshot(venv)
    assert main(["convert", str(venv)]) == 0
    python3 = venv / "bin" / "python3"
    (venv / "bin" / "python3.new").symlink_to(before["bin/python3"][1])
    (venv / "bin" / "python3.new").replace(python3)
    assert main(["convert", str(venv)]) == 0
    assert _stub.is_stub(python3)
    assert main(["convert", "--revert", str(venv)]) == 0
    assert snapshot(venv) == before


def test_stale_stubs_are_replaced(current: Interpreter, tmp_path: Path) -> None:
    """A stub of another venvlink version (a security fix must reach every venv): replaced, then idempotent."""
    venv = make_venv(current, tmp_path / "venv")
    old = bytearray((venv / "bin" / "python").read_bytes())
    at = old.find(_stub.IDENTITY)
    old[at + 32 : at + 64] = b"0.1.9".ljust(32, b"\0")  # the version field of the identity note
    for name in ("python", "python3"):
        (venv / "bin" / name).write_bytes(bytes(old))
    code, out, _ = venvlink("convert", venv)
    assert code == 0
    assert "python, python3 now run" in out
    assert _stub.is_current((venv / "bin" / "python").read_bytes())
    assert venvlink("convert", venv)[1] == f"{venv} is already linkable\n"


def refused(venv: Path, *words: str) -> None:
    before = snapshot(venv)
    code, _, err = venvlink("convert", venv)
    assert code == 1
    assert err.count("\n") == 1
    for word in words:
        assert word in err
    assert snapshot(venv) == before, "nothing changed"


def test_refuses_a_script_named_python(current: Interpreter, tmp_path: Path) -> None:
    venv = new_venv("stdlib", current, tmp_path / "venv")
    script = tmp_path / "python3.99"
    script.write_text("#!/bin/sh\necho hello\n")
    script.chmod(0o755)
    for name in ("python", "python3", "python{}.{}".format(*current.version)):
        (venv / "bin" / name).unlink()
        (venv / "bin" / name).symlink_to(script)
    refused(venv, f"its interpreter {script} is not a CPython or PyPy executable, nor a wrapper")


def test_refuses_an_unknown_implementation(current: Interpreter, tmp_path: Path) -> None:
    """What the interpreter is, is read, never run: a wrapper's venv says its implementation (virtualenv's key)."""
    venv = new_venv("stdlib", current, tmp_path / "venv")
    graalpy = tmp_path / "graalpy"
    mark = tmp_path / "ran"
    graalpy.write_text(f'#!/bin/sh\ntouch {mark}\nexec graalpython "$@"\n')
    graalpy.chmod(0o755)
    (venv / "bin" / "python").unlink()
    (venv / "bin" / "python").symlink_to(graalpy)
    cfg = venv / "pyvenv.cfg"
    cfg.write_text(f"{cfg.read_text()}implementation = GraalPy\nversion_info = 3.11.7.final.0\n")
    refused(venv, f"its interpreter {graalpy} is GraalPy 3.11.7; venvlink supports CPython 3.8+, PyPy 3.9+")
    assert not mark.exists()


def test_refuses_a_venv_whose_base_is_gone(current: Interpreter, tmp_path: Path) -> None:
    venv = new_venv("stdlib", current, tmp_path / "venv")
    for entry in (venv / "bin").iterdir():
        if entry.is_symlink():
            entry.unlink()
            entry.symlink_to(tmp_path / "moved" / "python3")
    refused(venv, f"{tmp_path / 'moved' / 'python3'} does not exist", "venvlink convert --python ", f" {venv}\n")


@pytest.mark.parametrize("what", ["no pyvenv.cfg", "no venv", "no python"])
def test_refuses_what_is_not_a_venv(what: str, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    if what != "no venv":
        (venv / "bin").mkdir(parents=True)
    if what == "no python":
        (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    expected = {
        "no pyvenv.cfg": f"{venv} is not a virtual environment (no pyvenv.cfg in it)",
        "no venv": f"{venv} does not exist",
        "no python": f"{venv / 'bin'} has no python",
    }[what]
    for command in (["convert"], ["convert", "--revert"], ["export"]):
        code, _, err = venvlink(*command, venv, *([tmp_path / "tool"] if command == ["export"] else []))
        assert (code, err.count("\n")) == (1, 1), command
        assert expected in err, command


def test_copies_stay_copies(current: Interpreter, tmp_path: Path) -> None:
    """A --copies venv keeps its own interpreter: moved aside to libexec/, where the stubs run it from."""
    venv = new_venv("stdlib --copies", current, tmp_path / "venv")
    copy = (venv / "bin" / "python").read_bytes()
    assert main(["convert", str(venv)]) == 0
    own = venv / "libexec" / "python{}.{}".format(*current.version)
    assert own.read_bytes() == copy
    assert f"venvlink-executable = {own}" in (venv / "pyvenv.cfg").read_text()
    assert sys_info(venv / "bin" / "python")["prefix"] == str(venv)


@pytest.mark.parametrize("named", ["/abs/secret", "libexec/../../secret", "../../secret", "libexec/x/../../../secret"])
def test_revert_moves_nothing_from_outside_the_venv(named: str, current: Interpreter, tmp_path: Path) -> None:
    """A venvlink-restore record names only entries of bin/ and libexec/: one edited to name another file (root's
    0600 secret, here) is refused before anything moves."""
    secret = tmp_path / "secret"
    secret.write_text("root's")
    secret.chmod(0o600)
    venv = make_venv(current, tmp_path / "a" / "b" / "venv")
    cfg = venv / "pyvenv.cfg"
    record = '{"entries": {"python": {"copy": "' + named.replace("/abs/secret", str(secret)) + '"}}}'
    cfg.write_text(
        "".join(
            f"venvlink-restore = {record}\n" if line.startswith("venvlink-restore") else line for line in cfg.open()
        )
    )
    before = snapshot(venv)
    code, _, err = venvlink("convert", "--revert", venv)
    assert code == 1
    assert err.startswith(f"venvlink: error: venvlink-restore in {cfg} is not what venvlink wrote (python has copy ")
    assert err.count("\n") == 1
    assert secret.read_text() == "root's"
    assert snapshot(venv) == before


def test_convert_never_follows_a_symlinked_bin(current: Interpreter, tmp_path: Path) -> None:
    """VENV/bin is a link to a directory elsewhere (root's, here): convert writes only inside the venv, so it
    refuses, and that directory is untouched."""
    venv = new_venv("stdlib", current, tmp_path / "venv")
    elsewhere = tmp_path / "root-owned-bin"
    (venv / "bin").rename(elsewhere)
    shutil.copy(current.real, elsewhere / "python3.x")
    (venv / "bin").symlink_to(elsewhere)
    before = {p.name: (p.is_symlink(), p.read_bytes() if p.is_file() else b"") for p in elsewhere.iterdir()}
    for command in (["convert"], ["convert", "--revert"], ["export", "--force"]):
        code, _, err = venvlink(*command, venv, *([tmp_path / "tool"] if "export" in command else []))
        assert code == 1
        assert err == (
            f"venvlink: error: {venv / 'bin'} is a symlink (to {elsewhere}); venvlink changes only what is inside "
            "the venv itself: put the directory in its place\n"
        )
    assert {p.name: (p.is_symlink(), p.read_bytes() if p.is_file() else b"") for p in elsewhere.iterdir()} == before
    assert not (venv / "libexec").exists()


def test_convert_refuses_a_pyvenv_cfg_every_user_can_write(current: Interpreter, tmp_path: Path) -> None:
    """A venv made under umask 000: its stubs would refuse its pyvenv.cfg, so convert refuses first, unchanged,
    and the venv keeps running as it did."""
    venv = new_venv("stdlib", current, tmp_path / "venv")
    (venv / "pyvenv.cfg").chmod(0o666)
    refused(venv, f"every user can write {venv / 'pyvenv.cfg'}", "chmod o-w")
    assert sys_info(venv / "bin" / "python")["prefix"] == str(venv)


def test_a_symlinked_pyvenv_cfg_is_a_symlink_again_after_revert(current: Interpreter, tmp_path: Path) -> None:
    venv = new_venv("stdlib", current, tmp_path / "venv")
    shared = tmp_path / "shared.cfg"
    (venv / "pyvenv.cfg").rename(shared)
    (venv / "pyvenv.cfg").symlink_to("../shared.cfg")
    before, shared_before = snapshot(venv), shared.read_bytes()
    assert main(["convert", str(venv)]) == 0
    assert not (venv / "pyvenv.cfg").is_symlink(), "never written through"
    assert shared.read_bytes() == shared_before
    assert sys_info(venv / "bin" / "python")["prefix"] == str(venv)
    assert main(["convert", "--revert", str(venv)]) == 0
    assert snapshot(venv) == before
    assert shared.read_bytes() == shared_before


def test_revert_twice_changes_nothing(current: Interpreter, tmp_path: Path) -> None:
    """A pyvenv.cfg without a final newline, reverted twice (and a venv never converted, once): byte for byte."""
    venv = new_venv("stdlib", current, tmp_path / "venv")
    cfg = venv / "pyvenv.cfg"
    cfg.write_bytes(cfg.read_bytes().rstrip(b"\n"))
    before = snapshot(venv)
    assert venvlink("convert", "--revert", venv)[1] == f"{venv} has no stub; nothing to revert\n"
    assert snapshot(venv) == before
    assert main(["convert", str(venv)]) == 0
    assert main(["convert", "--revert", str(venv)]) == 0
    assert main(["convert", "--revert", str(venv)]) == 0
    assert snapshot(venv) == before


def test_a_link_to_another_entry_is_an_entry(current: Interpreter, tmp_path: Path) -> None:
    """CPython 3.14's ``venv --upgrade`` copies the base over ``python3.X`` and adds ``𝜋thon -> python3.X``: the
    link is to another entry, not the venv's interpreter (venvlink took that copy for it), and is an entry, made
    a stub like the others (doctor said "not linkable" after its own fix)."""
    if current.implementation != "CPython":
        pytest.skip("CPython's venv --upgrade")
    venv = new_venv("stdlib", current, tmp_path / "venv")
    assert venvlink("convert", venv)[0] == 0
    (venv / "bin" / current.versioned_name).unlink()
    shutil.copy2(current.real, venv / "bin" / current.versioned_name)  # as venv --upgrade copies it
    (venv / "bin" / "𝜋thon").unlink(missing_ok=True)  # 3.14+ venvs have it already, a stub since convert
    (venv / "bin" / "𝜋thon").symlink_to(current.versioned_name)
    code, out, _ = venvlink("convert", venv)
    assert code == 0
    assert "𝜋thon" in out
    assert not (venv / "bin" / "𝜋thon").is_symlink()
    assert _stub.is_stub(venv / "bin" / "𝜋thon")
    assert sys_info(venv / "bin" / "𝜋thon")["prefix"] == str(venv)
    assert f"now run {current.real} " in out, "the base, not the venv's copy of it"


@pytest.mark.parametrize("creator", ["convert", "virtualenv --creator linkable"])
def test_a_path_that_would_not_read_back_is_not_written(creator: str, current: Interpreter, tmp_path: Path) -> None:
    """The tenth review: a --copies venv at ``/tmp/x<newline>v`` got ``venvlink-executable = /tmp/x`` and a line
    ``v/libexec/python3.X`` in its pyvenv.cfg, and every start ran ``/tmp/x``, which anyone could create. A value
    that would not read back as written is refused, and nothing is changed."""
    if current.implementation != "CPython":
        pytest.skip("a --copies venv of CPython")
    venv = tmp_path / "x\nv"
    if creator == "convert":
        run([current.path, "-m", "venv", "--copies", "--without-pip", venv])
        before = snapshot(venv)
        code, _, err = venvlink("convert", venv)
        assert snapshot(venv) == before
    else:
        cmd = [sys.executable, "-m", "virtualenv", "-q", "--no-seed", "--copies", "--creator", "linkable"]
        result = run([*cmd, "-p", current.path, venv], check=False)
        code, err = result.returncode, result.stdout + result.stderr
        assert "venvlink-executable = /" not in (venv / "pyvenv.cfg").read_text()
    assert code != 0
    assert "to a pyvenv.cfg: a line break or blanks at its ends would make it read back as another value" in err
