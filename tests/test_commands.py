"""The venvlink command as a whole: help, exit statuses, -q/-v, which, and the --json documents' contract."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import Interpreter, make_venv, run, sys_info, venvlink
from virtualenv_linkable import _stub
from virtualenv_linkable.__main__ import main

ROOT = Path(__file__).parent.parent
COMMANDS = ("export", "convert", "which", "list", "remove", "doctor")


@pytest.fixture(autouse=True)
def _own_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def test_version_and_help() -> None:
    code, out, _ = venvlink("--version")
    assert code == 0
    assert out.startswith("venvlink ")
    for command in COMMANDS:
        code, out, _ = venvlink(command, "--help")
        assert code == 0
        assert "examples:" in out
        assert "-q, --quiet" in out
        assert "-v, --verbose" in out


def test_usage_errors_exit_2() -> None:
    assert venvlink("export")[0] == 2
    assert venvlink("frobnicate")[0] == 2
    assert venvlink("list", "-q", "-v")[0] == 2


def test_internal_failure_exits_3(tmp_path: Path) -> None:
    """venvlink itself failing (here: its stub, made to fail) is neither a problem found nor a user error:
    exit 3, one line, and -v adds the traceback."""
    code = (
        "import sys, virtualenv_linkable._stub as s\n"
        "def boom(*a, **k):\n"
        "    raise RuntimeError('something venvlink did not expect')\n"
        "s.explain = boom\n"
        "from virtualenv_linkable.__main__ import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    (tmp_path / "python3").symlink_to(sys.executable)
    result = run([sys.executable, "-c", code, "which", tmp_path / "python3"], check=False)
    assert result.returncode == 3
    assert result.stderr.startswith("venvlink: internal error: RuntimeError: something venvlink did not expect;")
    assert result.stderr.count("\n") == 1
    result = run([sys.executable, "-c", code, "which", "-v", tmp_path / "python3"], check=False)
    assert result.returncode == 3
    assert "Traceback" in result.stderr


def test_quiet_and_verbose(current: Interpreter, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    run([current.path, "-m", "venv", "--without-pip", venv])
    code, out, err = venvlink("convert", "-q", venv)
    assert (code, out, err) == (0, "", "")
    venvlink("convert", "--revert", venv)
    code, out, err = venvlink("convert", "-v", venv)
    assert code == 0
    assert out.startswith(f"converted {venv}")
    assert f"interpreter: {current.real} (CPython" in err
    code, out, err = venvlink("export", "-q", venv, tmp_path / "tool")
    assert (code, out, err) == (0, "", ""), "no 'not on PATH' note either"
    code, out, err = venvlink("doctor", "-v")
    assert code == 0
    assert f"{tmp_path / 'tool'}: ok" in err
    assert venvlink("doctor", "-q") == (0, "", "")


def test_which_linkable(current: Interpreter, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    venv = make_venv(current, tmp_path / "venv")
    (tmp_path / "tool").symlink_to(venv / "bin" / "python")
    assert main(["which", str(tmp_path / "tool")]) == 0
    out = capsys.readouterr().out
    assert f"  -> {venv / 'bin' / 'python'}" in out
    assert f"sys.prefix  {venv}" in out
    assert main(["which", "--json", str(tmp_path / "tool")]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["schema"] == 2
    assert info["via_stub"] is True
    assert info["prefix"] == str(venv)
    assert info["named_by"] == "venvlink-executable"
    assert info["executable"] == str(current.real)
    assert info["stale"] is False


def test_which_plain_venv_suggests_convert(
    current: Interpreter, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    venv = tmp_path / "venv"
    run([current.path, "-m", "venv", "--without-pip", venv])
    (tmp_path / "tool").symlink_to(venv / "bin" / "python")
    assert main(["which", str(tmp_path / "tool")]) == 0
    out = capsys.readouterr().out
    assert f"runs without the venv {venv}" in out
    assert f"fix: venvlink convert {venv}" in out
    assert main(["which", "--json", str(tmp_path / "tool")]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["via_stub"] is False
    assert info["lost_venv"] == str(venv)
    assert info["executable"] == str(current.real)


def test_which_looks_up_bare_names_on_path(current: Interpreter, tmp_path: Path) -> None:
    """As the shell does: `which python3` is the python3 on PATH, never ./python3."""
    venv = make_venv(current, tmp_path / "venv")
    (tmp_path / "cwd").mkdir()
    (tmp_path / "cwd" / "python3").write_text("#!/bin/sh\n")
    (tmp_path / "cwd" / "python3").chmod(0o755)
    env = {**os.environ, "PATH": str(venv / "bin")}
    code, out, _ = venvlink("which", "--json", "python3", cwd=tmp_path / "cwd", env=env)
    assert code == 0
    info = json.loads(out)
    assert info["path"] == str(venv / "bin" / "python3")
    assert info["prefix"] == str(venv)
    code, _, err = venvlink("which", "python3", cwd=tmp_path / "cwd", env={**env, "PATH": str(tmp_path / "empty")})
    assert code == 1
    assert (
        err == "venvlink: error: python3 is not on PATH; give its path (./python3 for one in the current directory)\n"
    )


@pytest.mark.parametrize("what", ["missing", "broken link", "directory", "not executable", "not python"])
def test_which_refuses_what_cannot_be_a_python(what: str, tmp_path: Path) -> None:
    path = tmp_path / "thing"
    expected = {
        "missing": f"{path} does not exist",
        "broken link": f"{path} is a broken symlink",
        "directory": f"{path} is a directory; give the path of a python",
        "not executable": f"{path} is not executable; give the path of a python",
        "not python": f"{path} runs /usr/bin/env, which is not a Python interpreter",
    }[what]
    if what == "broken link":
        path.symlink_to(tmp_path / "nowhere")
    elif what == "directory":
        path.mkdir()
    elif what == "not executable":
        path.write_text("print(1)\n")
    elif what == "not python":
        path.symlink_to("/usr/bin/env")
    code, out, err = venvlink("which", path)
    assert (code, out) == (1, "")
    assert err == f"venvlink: error: {expected}\n"
    assert venvlink("which", "--json", path)[:2] == (1, "")


@pytest.mark.parametrize("what", ["ls named python", "python named tool"])
def test_which_asks_the_file_not_its_name(what: str, current: Interpreter, tmp_path: Path) -> None:
    """Whether a path leads to a Python is read from the file (never by running it), not guessed from its name."""
    (tmp_path / "x").mkdir()
    if what == "ls named python":
        (tmp_path / "x" / "python").symlink_to("/bin/ls")
        code, _, err = venvlink("which", tmp_path / "x" / "python")
        ls = os.path.realpath("/bin/ls")
        assert (code, err) == (
            1,
            f"venvlink: error: {tmp_path / 'x' / 'python'} runs {ls}, which is not a Python interpreter\n",
        )
    else:
        shutil.copy2(current.real, tmp_path / "x" / "tool")
        code, out, _ = venvlink("which", tmp_path / "x" / "tool")
        assert code == 0
        assert "so it runs as the base interpreter, without any venv" in out


def test_which_reports_the_stubs_error(tmp_path: Path) -> None:
    (tmp_path / "lone").mkdir()
    (tmp_path / "lone" / "python").write_bytes(_stub.template().read_bytes())
    (tmp_path / "lone" / "python").chmod(0o755)
    code, out, _ = venvlink("which", "--json", tmp_path / "lone" / "python")
    assert code == 1
    assert "no pyvenv.cfg beside" in json.loads(out)["error"]


def test_control_characters_in_a_name_are_shown_not_obeyed(current: Interpreter, tmp_path: Path) -> None:
    """A link named ``x\\x1b[2K\\rnot a venvlink stub`` would rewrite the line on root's terminal and hide the
    next ones: every line venvlink prints shows control characters as ``\\xNN``."""
    venv = make_venv(current, tmp_path / "venv")
    name = "x\x1b[2K\rnot a venvlink stub\x1b[8m"
    (tmp_path / name).symlink_to(venv / "bin" / "python")
    code, out, _ = venvlink("which", tmp_path / name)
    assert code == 0
    assert out.splitlines()[0] == f"{tmp_path}/x\\x1b[2K\\x0dnot a venvlink stub\\x1b[8m"
    assert "\x1b" not in out
    code, _, err = venvlink("convert", tmp_path / "no\x1bsuch")
    assert code == 1
    assert "\x1b" not in err and "no\\x1bsuch" in err


def test_a_path_longer_than_path_max_is_one_line(current: Interpreter, tmp_path: Path) -> None:
    """DEST of 4077-4095 bytes: the stub could not make the probe link's path absolute, and venvlink 0.3.0 failed
    with an internal error (a record without its start)."""
    venv = make_venv(current, tmp_path / "venv")
    deep = tmp_path
    while len(str(deep)) < 4096 - 300:
        deep /= "d" * 200
    deep.mkdir(parents=True)
    dest = deep / ("t" * (4085 - len(str(deep)) - 1))
    assert 4077 <= len(str(dest)) <= 4095
    code, _, err = venvlink("export", venv, dest)
    assert code == 1, err
    assert err.startswith("venvlink: error: ") and err.count("\n") == 1
    assert not os.path.lexists(dest)


def test_which_reports_a_stale_stub(current: Interpreter, tmp_path: Path) -> None:
    venv = make_venv(current, tmp_path / "venv")
    old = bytearray((venv / "bin" / "python").read_bytes())
    at = old.find(_stub.IDENTITY)
    old[at + 32 : at + 64] = b"0.1.9".ljust(32, b"\0")
    (venv / "bin" / "python").write_bytes(bytes(old))
    code, _, err = venvlink("which", venv / "bin" / "python")
    assert code == 0
    assert f"warning: this stub is not the installed venvlink's; upgrade it: venvlink convert {venv}" in err
    assert json.loads(venvlink("which", "--json", venv / "bin" / "python")[1])["stale"] is True


def documented_fields(document: str) -> list[str]:
    """The fields docs/reference.rst lists for one --json document, in order."""
    text = (ROOT / "docs" / "reference.rst").read_text()
    section = text.split(f".. _{document}:", 1)[1].split(".. _", 1)[0]
    return re.findall(r"^``([a-z0-9_.\[\]]+)``$", section, re.MULTILINE)


def keys(document: dict[str, object], prefix: str = "") -> list[str]:
    """Every field of ``document``, nested ones as ``outer[].inner``, in the order they first appear."""
    found: list[str] = []
    for key, value in document.items():
        found.append(prefix + key)
        for item in value if isinstance(value, list) else []:
            if isinstance(item, dict):
                found += [k for k in keys(item, f"{prefix}{key}[].") if k not in found]
    return found


def test_json_documents_are_as_documented(current: Interpreter, tmp_path: Path) -> None:
    """Every field of every --json document is in the reference, and the reference names no other."""
    venv = make_venv(current, tmp_path / "venv")
    assert main(["export", str(venv), str(tmp_path / "tool")]) == 0
    (tmp_path / "tool-gone").symlink_to(venv / "bin" / "python")
    assert main(["export", "--force", str(venv), str(tmp_path / "tool-gone")]) == 0
    (tmp_path / "tool-gone").unlink()  # so that doctor lists a problem, with its fields
    make_venv(current, tmp_path / "converted")  # remembered, and exported by nobody
    (tmp_path / "converted" / "bin" / "python").unlink()  # recreated, as far as doctor --fix can tell
    (tmp_path / "converted" / "bin" / "python").symlink_to(current.real)
    make_venv(current, tmp_path / "broken")
    shutil.rmtree(tmp_path / "broken" / "bin")  # a problem doctor --fix leaves, fields and all
    documents = {
        "json-which": json.loads(venvlink("which", "--json", tmp_path / "tool")[1]),
        "json-list": json.loads(venvlink("list", "--json")[1]),
        "json-doctor": json.loads(venvlink("doctor", "--fix", "--json")[1]),
    }
    assert documents["json-doctor"]["fixed"] == [
        {"venv": str(tmp_path / "converted"), "what": "recreated", "error": None}
    ]
    for name, document in documents.items():
        assert keys(document) == documented_fields(name), name
    for path in ("path", "pyvenv_cfg", "executable", "argv0", "prefix"):
        assert os.path.isabs(documents["json-which"][path])


def test_paths_that_are_not_utf_8(current: Interpreter, tmp_path: Path) -> None:
    """Paths are bytes to the kernel: a venv under a Latin-1 directory name goes through every command, the
    registry and --json (where such a byte is the lone surrogate U+DCxx, as Python's os.fsdecode gives it)."""
    latin = os.fsdecode(bytes(tmp_path) + b"/caf\xe9")
    os.mkdir(latin)
    run([current.path, "-m", "venv", "--without-pip", tmp_path / "plain"])  # venv cannot write such a path itself
    venv = os.path.join(latin, "venv")
    os.rename(tmp_path / "plain", venv)
    tool = os.path.join(latin, "tool")
    env = {**os.environ, "LC_ALL": "C.UTF-8"}  # where Python's stdout is strict UTF-8
    said = {}
    for command in (["export", venv, tool], ["which", tool], ["list"], ["doctor", "-v"], ["convert", venv]):
        done = subprocess.run(
            [sys.executable, "-m", "virtualenv_linkable", *command], capture_output=True, env=env, check=False
        )
        assert done.returncode == 0, (command, done.stderr)
        said[command[0]] = done.stdout + done.stderr
    assert os.fsencode(f"sys.prefix  {venv}") in said["which"]
    assert os.fsencode(f"{tool} -> {venv}/bin/python  [ok]") in said["list"]
    listed = json.loads(venvlink("list", "--json")[1])["exports"]
    assert [(e["dest"], e["venv"], e["state"]) for e in listed] == [(tool, venv, "ok")]
    assert "caf\\udce9" in (tmp_path / "state" / "venvlink" / "exports.json").read_text()
    assert json.loads(venvlink("which", "--json", tool)[1])["prefix"] == venv
    assert sys_info(tool)["prefix"] == venv
    assert venvlink("convert", "--revert", venv)[0] == 0
    assert venvlink("remove", tool)[0] == 0


#: what argcomplete's shell code sets when it asks for completions (venvlink completion)
ASKED = {"_ARGCOMPLETE": "1", "_ARGCOMPLETE_SHELL": "bash", "COMP_LINE": "venvlink ex", "COMP_POINT": "11"}


def test_completion_variables_inherited_are_not_a_completion(current: Interpreter, tmp_path: Path) -> None:
    """Root's ``sudo -E venvlink doctor --fix`` with another user's environment: argcomplete's variables, inherited,
    made doctor fix nothing and exit 0, and argcomplete opened _ARGCOMPLETE_STDOUT_FILENAME for writing, truncating
    what a link there named. A command with arguments is never a completion (the shell code runs the bare
    command): it does its work, says why it ignores the variables, and the file is never opened."""
    make_venv(current, tmp_path / "converted")  # remembered, and exported by nobody
    (tmp_path / "converted" / "bin" / "python").unlink()  # recreated, as far as doctor --fix can tell
    (tmp_path / "converted" / "bin" / "python").symlink_to(current.real)
    victim = tmp_path / "victim"
    victim.write_text("root's\n")
    (tmp_path / "link").symlink_to(victim)
    env = {**os.environ, **ASKED, "_ARGCOMPLETE_STDOUT_FILENAME": str(tmp_path / "link")}
    code, out, err = venvlink("doctor", "--fix", env=env)
    assert code == 0, err
    assert out.startswith(f"fixed {tmp_path / 'converted'} (recreated)"), out
    assert _stub.is_stub(tmp_path / "converted" / "bin" / "python")
    assert "note: ignoring _ARGCOMPLETE" in err
    assert victim.read_text() == "root's\n"
    assert os.readlink(tmp_path / "link") == str(victim)
    assert venvlink("-q", "list", env=env)[2] == "", "-q keeps the note out"


@pytest.mark.parametrize("tempfiles", [False, True])
def test_completion_through_the_shell_code(tmp_path: Path, tempfiles: bool) -> None:
    """bash runs the code `venvlink completion bash` prints, as a shell does on TAB: the completions come from
    venvlink's parser, on descriptor 8, also with ARGCOMPLETE_USE_TEMPFILES (the code then names a file of its
    own in _ARGCOMPLETE_STDOUT_FILENAME, and still opens descriptor 8). No file the environment names is written."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    (tmp_path / "bin").mkdir()
    command = tmp_path / "bin" / "venvlink"
    command.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m virtualenv_linkable "$@"\n')
    command.chmod(0o755)
    (tmp_path / "code.bash").write_text(venvlink("completion", "bash")[1])
    victim = tmp_path / "victim"
    victim.write_text("root's\n")
    (tmp_path / "link").symlink_to(victim)
    script = (
        f"source {shlex.quote(str(tmp_path / 'code.bash'))}\n"
        'COMP_LINE="venvlink ex"; COMP_POINT=11; COMP_WORDS=(venvlink ex); COMP_CWORD=1\n'
        '_python_argcomplete venvlink; printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env["_ARGCOMPLETE_STDOUT_FILENAME"] = str(tmp_path / "link")  # exported: the code overrides it with tempfiles
    if tempfiles:
        env["ARGCOMPLETE_USE_TEMPFILES"] = "1"
    result = run([bash, "--norc", "--noprofile", "-c", script], env=env)
    assert result.stdout.split() == ["export"], result
    assert victim.read_text() == "root's\n"
