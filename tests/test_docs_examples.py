"""Every command example of the documentation runs as written, so that none can rot.

The examples are the ``$ venvlink ...`` and ``$ virtualenv ...`` lines of README.md and docs/*.rst (a line that
ends in ``\\`` goes on in the next one; what follows ``#`` is a comment, for the shell too), and each command's
examples, which ``venvlink CMD --help`` and the reference show (``EXAMPLES`` in src/virtualenv_linkable/commands/,
and ``venvlink --help``'s epilog in __main__.py).

Each runs verbatim with ``bash -c`` in a sandbox: HOME (also the current directory), the XDG directories,
VENVLINK_BIN_DIR and TMPDIR under a temporary directory, and a PATH that starts with the ``venvlink`` and
``virtualenv`` under test. Examples run in document order, those of one code block in one sandbox (a later one may
use what an earlier one made; all of ``venvlink CMD --help``'s are one block, as the reference shows them).
SETUPS says what each example needs beforehand and the status it exits with (0 unless the documentation shows it
failing or finding a problem); an example without an entry there fails, naming its file and line.

One rewrite: an absolute path in an example (``/opt/venv``, ``/usr/local/bin/python3``, ``/usr/bin/python3.12``)
lies outside HOME, which a test may not touch, so the sandbox's root is put before it
(``<sandbox>/root/opt/venv``). The command shown on a failure is the one that ran. Nothing else is changed.

Left out, as they are not ``venvlink`` or ``virtualenv`` lines: the install lines (``python3 -m venv``, ``pip``,
``pipx``, ``uv``; they need PyPI or a checkout's build), ``ln -s`` and ``~/bin/tool -c ...`` in docs/index.rst,
``echo 'eval "$(venvlink completion zsh)"' >> ~/.zshrc`` (it only writes to ``~/.zshrc``), and docs/guide.rst's
Dockerfile (``RUN python3 -m pip install virtualenv-linkable``: PyPI and an image's root).
"""

from __future__ import annotations

import os
import re
import shutil
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import Interpreter, make_stale, make_venv, run, venvlink
from virtualenv_linkable import __main__ as command_line

ROOT = Path(__file__).parent.parent
THIS = Path(__file__).relative_to(ROOT)
BASH = shutil.which("bash")
SCRIPTS = Path(sysconfig.get_path("scripts"))  # where this environment's venvlink and virtualenv are
PROMPT = re.compile(r"\s*\$ ((?:venvlink|virtualenv)\b.*)")


class Setup:
    """What an example needs beforehand, as steps ``KIND PATH...`` (each done unless it is already so), and the
    status it exits with. A path is as the example writes it: ``~`` is HOME, a relative path is in HOME.

    ============  =========================================================================================
    venv P        a plain venv (as ``python -m venv`` makes it), made with the interpreter running the tests
    linkable P    a linkable venv, recorded in venvlink's registry as the creator records it
    dir P         a directory
    python P      a stand-in for the interpreter P: a link to the one running the tests
    pypy NAME     a PyPy 3 of this machine, as the command NAME on PATH (the example is skipped without one)
    export V D    V (a linkable venv, if there is none) exported to D
    stale V       V's stubs as an older venvlink made them
    recreated V   V made again, plain, by ``python -m venv --clear`` (as tox or nox without the plugin)
    gone P        P deleted
    ============  =========================================================================================
    """

    def __init__(self, *needs: str, status: int = 0) -> None:
        self.needs = needs
        self.status = status


TOOL = "export ~/venvs/tool ~/bin/tool"
SETUPS: dict[str, dict[str, Setup]] = {
    "docs/guide.rst": {
        "virtualenv --creator linkable ENV": Setup(),
        "virtualenv --creator linkable -p /usr/bin/python3.12 --prompt tools --system-site-packages ENV": Setup(
            "python /usr/bin/python3.12"
        ),
        "virtualenv --creator linkable -p pypy3 ENV": Setup("pypy pypy3"),
        "virtualenv --creator linkable --copies ENV": Setup(),
        "virtualenv --creator linkable --clear ENV": Setup(),
        "venvlink export ~/venvs/black": Setup("venv ~/venvs/black"),
        "venvlink export ~/venvs/black ~/bin/black-python": Setup("venv ~/venvs/black", "dir ~/bin"),
        "venvlink export --name python3 --relative /opt/venv /usr/local/bin/python3": Setup(
            "venv /opt/venv", "dir /usr/local/bin"
        ),
        "venvlink export --force ~/venvs/tool-v2 ~/bin/tool": Setup("venv ~/venvs/tool-v2", TOOL),
        "virtualenv --creator linkable --export ~/bin/tool --export ~/bin/tool3 ENV": Setup("dir ~/bin"),
        "venvlink convert .venv": Setup("venv .venv"),
        "venvlink convert --revert .venv": Setup("venv .venv"),
        "venvlink doctor --fix": Setup(
            "linkable ~/.tox/py312",
            "stale ~/.tox/py312",
            "linkable ~/venvs/tool",
            "recreated ~/venvs/tool",
            "export ~/venvs/old ~/bin/old",
            "gone ~/venvs/old",
            status=1,  # as shown: fixes two, and ~/bin/old's venv is gone, which needs a choice
        ),
        "venvlink convert --python ~/.pyenv/versions/3.12.8/bin/python3.12 ~/venvs/tool": Setup(
            "linkable ~/venvs/tool", "python ~/.pyenv/versions/3.12.8/bin/python3.12"
        ),
        "venvlink which ~/bin/tool": Setup(TOOL),
        "venvlink list": Setup(),
        "venvlink remove ~/.local/bin/tool": Setup("dir ~/.local/bin", "export ~/venvs/tool ~/.local/bin/tool"),
        "venvlink convert --revert ~/venvs/tool": Setup("linkable ~/venvs/tool"),
        "venvlink completion bash > ~/.local/share/bash-completion/completions/venvlink": Setup(
            "dir ~/.local/share/bash-completion/completions"
        ),
        "venvlink completion fish > ~/.config/fish/completions/venvlink.fish": Setup("dir ~/.config/fish/completions"),
    },
    "docs/index.rst": {
        "virtualenv --creator linkable venv": Setup(),
        "venvlink export venv ~/bin/tool": Setup("venv venv", "dir ~/bin"),
    },
    "src/virtualenv_linkable/__main__.py": {
        "venvlink export ~/venvs/tool ~/bin/tool": Setup("venv ~/venvs/tool", "dir ~/bin"),
        "venvlink which ~/bin/tool": Setup(TOOL),
        "venvlink doctor --fix": Setup(),
    },
    "src/virtualenv_linkable/commands/export.py": {
        "venvlink export ~/venvs/black": Setup("venv ~/venvs/black"),
        "venvlink export ~/venvs/tool ~/bin/tool": Setup("venv ~/venvs/tool", "dir ~/bin"),
        "venvlink export --relative --name python3 ~/venvs/tool ~/bin/python3": Setup("venv ~/venvs/tool", "dir ~/bin"),
        "venvlink export --force ~/venvs/tool-v2 ~/bin/tool": Setup("venv ~/venvs/tool-v2", TOOL),
    },
    "src/virtualenv_linkable/commands/convert.py": {
        "venvlink convert .venv": Setup("venv .venv"),
        "venvlink convert --revert .venv": Setup("venv .venv"),
        "venvlink convert --python ~/.pyenv/versions/3.12.8/bin/python3.12 ~/venvs/tool": Setup(
            "linkable ~/venvs/tool", "python ~/.pyenv/versions/3.12.8/bin/python3.12"
        ),
    },
    "src/virtualenv_linkable/commands/which.py": {
        "venvlink which ~/bin/tool": Setup(TOOL),
        "venvlink which python3": Setup(),
        "venvlink which --json ~/bin/tool": Setup(TOOL),
    },
    "src/virtualenv_linkable/commands/listing.py": {
        "venvlink list": Setup(),
        "venvlink list --json": Setup(),
    },
    "src/virtualenv_linkable/commands/remove.py": {
        "venvlink remove ~/bin/tool": Setup(TOOL),
        "venvlink remove --forget ~/bin/tool": Setup(TOOL),  # the example above removed it: exported again
    },
    "src/virtualenv_linkable/commands/doctor.py": {
        "venvlink doctor": Setup(),
        "venvlink doctor --fix": Setup(),
        "venvlink doctor --json": Setup(),
    },
    "src/virtualenv_linkable/commands/completion.py": {
        "venvlink completion bash > ~/.local/share/bash-completion/completions/venvlink": Setup(
            "dir ~/.local/share/bash-completion/completions"
        ),
        "venvlink completion fish > ~/.config/fish/completions/venvlink.fish": Setup("dir ~/.config/fish/completions"),
        "venvlink completion zsh > ~/.zfunc/_venvlink": Setup("dir ~/.zfunc"),
    },
}


@dataclass(frozen=True)
class Example:
    source: str  # the file it is written in, relative to the checkout
    line: int
    command: str  # as written, comment and continuation lines included
    block: str  # the examples of one block share a sandbox

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}"

    @property
    def key(self) -> str:
        """The command without its comment, on one line: its key in SETUPS."""
        return " ".join(re.sub(r"\s#.*", "", self.command.replace("\\\n", " ")).split())


def in_documents() -> list[Example]:
    """The ``$ venvlink`` and ``$ virtualenv`` lines of README.md and docs/*.rst; a line of prose (not indented)
    between two of them starts another block."""
    found: list[Example] = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.rst"))]:
        source = str(page.relative_to(ROOT))
        lines = page.read_text(encoding="utf-8").splitlines()
        block, at = "", 0
        while at < len(lines):
            match = PROMPT.fullmatch(lines[at])
            if match is None:
                if lines[at][:1].strip():  # prose, not indented: the block has ended
                    block = ""
                at += 1
                continue
            first, command = at + 1, match[1]
            while command.endswith("\\") and at + 1 < len(lines):
                at += 1
                command += "\n" + lines[at].strip()
            block = block or f"{source}:{first}"
            found.append(Example(source, first, command, block))
            at += 1
    return found


def in_help() -> list[Example]:
    """The examples ``venvlink --help`` and ``venvlink CMD --help`` show, with the line of the module that writes
    each; every command's are one block, in the order of the reference."""
    found: list[Example] = []
    shown = [(command_line, (command_line.build_parser().epilog or "").removeprefix("examples:\n"))]
    shown += [(command, command.EXAMPLES) for command in command_line.COMMANDS]
    for module, text in shown:
        source = "src/" + module.__name__.replace(".", "/") + ".py"
        lines = (ROOT / source).read_text(encoding="utf-8").splitlines()
        block = source if module is command_line else "venvlink CMD --help"
        at = next(n for n, line in enumerate(lines) if "EXAMPLES =" in line or "epilog=" in line)
        for command in (line.strip() for line in text.splitlines()):
            written = [n for n in range(at, len(lines)) if command in lines[n]]
            assert written, f"{command!r} is not in {source}: the venvlink installed is not this checkout's"
            at = written[0]
            found.append(Example(source, at + 1, command, block))
    return found


EXAMPLES = in_documents() + in_help()


def place(top: Path, path: str) -> Path:
    """Where a path of an example is in the sandbox ``top``: see the module's docstring."""
    if path.startswith("/"):
        return top / "root" / path[1:]
    return top / "home" / path.removeprefix("~/")


def rewritten(top: Path, command: str) -> str:
    """The command, each absolute path (a ``/`` that starts a word) under the sandbox's root."""
    return re.sub(r"(?<![^\s=])/", f"{top / 'root'}/", command)


def environment(top: Path) -> dict[str, str]:
    home = top / "home"
    local = home / ".local"
    path = [SCRIPTS, top / "path", local / "bin", home / "bin", *os.defpath.split(os.pathsep)]
    return {
        "HOME": str(home),
        "PATH": os.pathsep.join(map(str, path)),
        "TMPDIR": str(top / "tmp"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(local / "share"),
        "XDG_STATE_HOME": str(local / "state"),
        "XDG_BIN_HOME": str(local / "bin"),
        "VENVLINK_BIN_DIR": str(local / "bin"),
        "LC_ALL": "C.UTF-8",
        "PIP_NO_INDEX": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "VIRTUALENV_NO_PERIODIC_UPDATE": "1",
        # coverage's, when it measures the run: the commands count as in the other tests
        **{name: value for name, value in os.environ.items() if name.startswith("COVERAGE_")},
    }


def stand_in(link: Path, interpreter: Path) -> None:
    if not os.path.lexists(link):
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(interpreter)


def any_pypy() -> Path:
    from conftest import INTERPRETERS  # noqa: PLC0415

    pypy = next((i for i in INTERPRETERS if i.implementation == "PyPy"), None)
    if pypy is None:
        pytest.skip("no PyPy 3 on this machine (VENVLINK_TEST_PYTHONS lists more)")
    return pypy.path


def prepare(top: Path, step: str, current: Interpreter) -> None:
    """Do one step of a setup (see Setup), unless what it makes is already there."""
    kind, *words = step.split()
    if kind == "pypy":
        stand_in(top / "path" / words[0], any_pypy())
        return
    path, *other = (place(top, word) for word in words)
    if kind == "dir":
        path.mkdir(parents=True, exist_ok=True)
    elif kind in {"venv", "linkable"}:
        if not path.exists():
            make_venv(current, path, creator="linkable" if kind == "linkable" else "venv")
    elif kind == "python":
        stand_in(path, current.path)
    elif kind == "export":
        if not os.path.lexists(other[0]):
            prepare(top, f"linkable {words[0]}", current)
            other[0].parent.mkdir(parents=True, exist_ok=True)
            assert venvlink("-q", "export", path, other[0])[0] == 0
    elif kind == "stale":
        make_stale(path)
    elif kind == "recreated":
        run([current.path, "-m", "venv", "--clear", "--without-pip", path])
    elif kind == "gone":
        shutil.rmtree(path)
    else:
        raise AssertionError(f"{step}: no such step (see Setup)")


@pytest.fixture(scope="module")
def sandboxes() -> dict[str, Path]:
    """The sandbox of each block, made by its first example."""
    return {}


@pytest.mark.skipif(BASH is None, reason="the examples are run with bash")
@pytest.mark.parametrize(
    "example", [pytest.param(example, id=f"{example.where} {example.key}") for example in EXAMPLES]
)
def test_example_runs_as_written(
    example: Example,
    current: Interpreter,
    sandboxes: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    setup = SETUPS.get(example.source, {}).get(example.key)
    if setup is None:
        pytest.fail(
            f"{example.where}: a new example, `{example.key}`: add what it needs beforehand and the status it exits "
            f"with to SETUPS in {THIS}",
            pytrace=False,
        )
    assert (SCRIPTS / "venvlink").exists(), f"venvlink is not installed in {SCRIPTS}"
    top = sandboxes.get(example.block)
    if top is None:  # the block's first example: HOME, the root of absolute paths, commands on PATH, TMPDIR
        top = sandboxes[example.block] = tmp_path_factory.mktemp("example")
        for directory in ("home", "root", "path", "tmp"):
            (top / directory).mkdir()
    env = environment(top)
    for name, value in env.items():  # the setup's venvlink and virtualenv run in the sandbox too
        monkeypatch.setenv(name, value)
    for step in setup.needs:
        prepare(top, step, current)
    command = rewritten(top, example.command)
    result = run([BASH, "-c", command], check=False, cwd=top / "home", env=env)
    traceback = "Traceback (most recent call last)" in result.stdout + result.stderr
    if traceback or result.returncode != setup.status:
        pytest.fail(
            f"{example.where}: $ {example.command}\nran: {command}\nin: {top / 'home'}\n"
            f"exit status {result.returncode}, the documentation's {setup.status}"
            f"{'; it printed a traceback' if traceback else ''}\n"
            f"stdout:\n{result.stdout}stderr:\n{result.stderr}",
            pytrace=False,
        )


def test_every_setup_has_its_example() -> None:
    """An example changed or removed takes its entry with it."""
    examples = {(example.source, example.key) for example in EXAMPLES}
    unused = [f"{source}: {key}" for source, table in SETUPS.items() for key in table if (source, key) not in examples]
    assert not unused, f"entries of SETUPS in {THIS} that no example has any more: {unused}"
