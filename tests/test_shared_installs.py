"""Shared installs, built for real: other users and groups are numeric ids (setpriv; nothing in /etc changes), and
each setup is a tree of files given to them with the modes the real one has. venvlink refused most of these until
the principle of docs/failures.rst ("venvlink runs nothing it was not named to run; it reads"): who owns the base
installation, or the directories above a venv, is no longer a reason to refuse. Each docstring quotes the refusal
(of the commit before the principle, e6f7ce7). Here each works end to end, as the user who meets it: the creator
where it applies, ``convert``, ``export``, the exported link run (the venv's ``sys.prefix``, a module of the venv
imported through it), then the venv made stale or recreated and ``doctor --fix`` mending it. The rules that remain
have a negative control each, at the end.

Other users cannot run pyenv's interpreters here (``/root`` is 0700), so what they run is a copy made where they
can (:class:`Pythons`): the same executable, its libpython found beside it (``$ORIGIN/../lib``, as conda and uv
lay theirs out), its standard library copied.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import INTERPRETERS

from helpers import NOBODY, Interpreter, as_user, build_demo_wheel, make_stale, run, snapshot, stdlib_of
from virtualenv_linkable import _trust

if TYPE_CHECKING:
    import subprocess
    from collections.abc import Callable, Iterator

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="building shared installs needs root: files are given to other uids, run with setpriv"
)

# numeric ids, named nowhere: nothing in /etc/passwd or /etc/group changes
USER = 4001  # someone who uses the machine
EASYBUILD, APPS = 4010, 4100  # HPC: the service account that installs modules, and its group
PI, MEMBER, DEF_PI = 4020, 4021, 4120  # a PI, a member of their group, the group (def-pi)
LAB_A, LAB_B, LAB = 4031, 4032, 4130  # two members of a lab, the lab's group
CONDA, USERS = 4050, 4140  # who installed a shared conda (uid 1000-like), group users
STAFF = 4150  # Debian's group staff, which can write /usr/local
LINUXBREW = 4060  # Homebrew on Linux's own user
HOST_USER = 1000  # the host's first user, whose workspace a container mounts
TMP = Path("/tmp")  # noqa: S108  # the setup is /tmp itself, sticky and every user's
ENV = shutil.which("env") or "/usr/bin/env"
PROBE = "import json, sys, shared_demo; print(json.dumps([sys.prefix, sys.base_prefix, shared_demo.__file__]))"


def _covered() -> list[Any]:
    """pyenv's CPython 3.12 and the system's CPython (Debian's /usr/bin/python3.11): the interpreters the setups
    that need one of their own are run with (every interpreter would take too long for this file)."""
    wanted: dict[str, Callable[[Interpreter], bool]] = {
        "pyenv-3.12": lambda i: i.origin == "pyenv" and i.implementation == "CPython" and i.version == (3, 12),
        "system-cpython": lambda i: i.origin == "system" and i.implementation == "CPython",
    }
    params = []
    for name, fits in wanted.items():
        found = next((i for i in INTERPRETERS if fits(i)), None)
        if found is None:
            params.append(pytest.param(None, id=name, marks=pytest.mark.skip(reason=f"no {name} interpreter here")))
        else:
            params.append(pytest.param(found, id=found.id))
    return params


COVERED = _covered()


def as_them(uid: int, groups: tuple[int, ...] = ()) -> list[str]:
    """A command prefix that runs as ``uid`` (with ``groups``), the command started by ``env`` already running as
    them: setpriv's own exec still crosses directories they cannot enter (/root), which theirs never would."""
    return [*as_user(uid, groups), ENV, "--"]


class Pythons:
    """Interpreters other users can run: an interpreter itself where they can, else a copy of its installation
    under ``top`` (world-readable); and a Python that runs this checkout's venvlink and virtualenv for any user."""

    def __init__(self, top: Path) -> None:
        self.top = top
        self._made: dict[Path, Interpreter] = {}
        self._venvlink: Path | None = None

    def for_everyone(self, interpreter: Interpreter) -> Interpreter:
        if interpreter.real not in self._made:
            ran = run([*as_them(NOBODY), interpreter.path, "-c", "pass"], check=False, cwd="/")
            self._made[interpreter.real] = interpreter if ran.returncode == 0 else self._copy(interpreter)
        return self._made[interpreter.real]

    def _copy(self, interpreter: Interpreter) -> Interpreter:
        """``interpreter``'s installation copied, as conda relocates one: its executable, whose libpython is looked
        for at ``$ORIGIN/../lib`` instead of its own prefix (the RUNPATH rewritten in place, NUL-padded), that
        libpython, and the standard library (without its tests, caches and site-packages), whose build-time paths
        (``_sysconfigdata``, which virtualenv reads) name the copy."""
        if interpreter.implementation != "CPython":
            pytest.skip(f"{interpreter.path} is not a CPython, whose installation this test copies for other users")
        where = self.top / interpreter.id
        (where / "bin").mkdir(parents=True)
        (where / "lib").mkdir()
        own = os.fsencode(interpreter.base_prefix / "lib") + b"\0"
        data = interpreter.real.read_bytes()
        if data.count(own) == 1:
            data = data.replace(own, b"$ORIGIN/../lib".ljust(len(own), b"\0"))
        python = where / "bin" / interpreter.real.name
        python.write_bytes(data)
        python.chmod(0o755)
        for library in (interpreter.base_prefix / "lib").glob("libpython*.so*"):
            shutil.copy2(library, where / "lib" / library.name, follow_symlinks=False)
        stdlib = stdlib_of(interpreter)
        skipped = ("__pycache__", "test", "tests", "site-packages", "idlelib", "tkinter", "turtledemo", "config-*")
        shutil.copytree(stdlib, where / "lib" / stdlib.name, symlinks=True, ignore=shutil.ignore_patterns(*skipped))
        (where / "lib" / stdlib.name / "site-packages").mkdir()
        for built in (where / "lib" / stdlib.name).glob("_sysconfigdata*.py"):  # its paths, as conda rewrites them
            built.write_text(built.read_text().replace(str(interpreter.base_prefix), str(where)))
        ran = run([*as_them(NOBODY), python, "-c", "import json, venv"], check=False, cwd="/")
        copied = Interpreter.probe(python, f"{interpreter.origin}-copy") if ran.returncode == 0 else None
        if copied is None:
            pytest.skip(f"other users cannot run {interpreter.path} (/root private?), nor a copy of it: {ran.stderr}")
        return copied

    def venvlink(self, current: Interpreter) -> Path:
        """A python with this checkout's venvlink and virtualenv that any user can run: the one running the
        tests, or, where others cannot run it (pyenv's, under /root), a venv of a copy of its interpreter whose
        ``.pth`` lists what the tests import from (this checkout's src/, its venv's site-packages)."""
        if self._venvlink is None:
            check = [sys.executable, "-c", "import virtualenv, virtualenv_linkable"]
            if run([*as_them(NOBODY), *check], check=False, cwd="/").returncode == 0:
                self._venvlink = Path(sys.executable)
            else:
                base = self.for_everyone(current)
                venv = self.top / "venvlink-python"
                run([base.path, "-m", "venv", "--without-pip", venv])
                ours = [p for p in sys.path if p and os.path.isdir(p) and not p.startswith(sys.base_prefix)]
                (next(venv.glob("lib/*/site-packages")) / "venvlink-tests.pth").write_text("\n".join(ours) + "\n")
                ran = run([*as_them(NOBODY), venv / "bin" / "python", *check[1:]], check=False, cwd="/")
                if ran.returncode != 0:
                    pytest.skip(f"other users cannot import this checkout's venvlink ({', '.join(ours)}): {ran.stderr}")
                self._venvlink = venv / "bin" / "python"
        return self._venvlink


@pytest.fixture(scope="session")
def pythons() -> Iterator[Pythons]:
    top = Path(tempfile.mkdtemp(prefix="venvlink-pythons-"))
    top.chmod(0o755)
    yield Pythons(top)
    shutil.rmtree(top)


@dataclass(frozen=True)
class Person:
    """Someone on the machine, with a home of their own (their registry is there): root, or a uid of no name,
    with its own group and ``groups``, and ``umask``."""

    uid: int
    home: Path
    python: Path  # runs venvlink and virtualenv for them
    groups: tuple[int, ...] = ()
    umask: int = 0o022

    def env(self, **extra: str) -> dict[str, str]:
        """The suite's environment, with their own HOME (and XDG's directories there); others' processes do not
        measure coverage, whose files are root's."""
        dropped = ("XDG_", "COVERAGE_", "COV_CORE_") if self.uid else ("XDG_",)
        keep = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
        return {**keep, "HOME": str(self.home), **extra}

    def run(self, *cmd: Any, check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        prefix = as_them(self.uid, self.groups) if self.uid else []
        return run([*prefix, *cmd], check=check, env=env or self.env(), cwd=self.home, umask=self.umask)

    def venvlink(self, *args: Any, **extra: str) -> tuple[int, str, str]:
        result = self.run(self.python, "-m", "virtualenv_linkable", *args, check=False, env=self.env(**extra))
        assert "Traceback" not in result.stderr
        return result.returncode, result.stdout, result.stderr

    def virtualenv(self, python: Path, dest: Path, *options: str) -> subprocess.CompletedProcess[str]:
        return self.run(self.python, "-m", "virtualenv", "-q", *options, "-p", python, dest, check=False)


@pytest.fixture
def people(world_readable_dir: Path, pythons: Pythons, current: Interpreter) -> Callable[..., Person]:
    """``people(uid, groups=..., umask=...)``: that person, with a new home (mode 0700) in the test's directory."""

    def person(uid: int, groups: tuple[int, ...] = (), umask: int = 0o022) -> Person:
        home = world_readable_dir / "home" / str(uid)
        home.mkdir(parents=True)
        os.chown(home, uid, uid)
        home.chmod(0o700)
        python = pythons.venvlink(current) if uid else Path(sys.executable)
        return Person(uid, home, python, groups, umask)

    return person


@pytest.fixture
def current_for(current: Interpreter, pythons: Pythons) -> Callable[[Person], Interpreter]:
    """``current_for(person)``: the interpreter running the tests, as ``person`` can run it (root, itself)."""
    return lambda person: pythons.for_everyone(current) if person.uid else current


@pytest.fixture
def tmp(world_readable_dir: Path) -> Path:
    """The test's directory, which other users can enter."""
    return world_readable_dir


def give(top: Path, uid: int, gid: int, mode: int | None = None) -> None:
    """``chown -hR uid:gid top``, and ``mode`` on each directory (links are not followed)."""
    for directory, names, files in os.walk(top):
        for path in (Path(directory), *(Path(directory, n) for n in names + files)):
            os.lchown(path, uid, gid)
            if mode is not None and not path.is_symlink() and path.is_dir():
                path.chmod(mode)


def install(base: Interpreter, prefix: Path, *, entries: bool = False) -> Path:
    """A CPython installed at ``prefix`` from ``base``'s files, as ``make install`` lays one out: its executable
    copied into ``bin/`` (getpath finds the installation up from there: ``sys.base_prefix`` is ``prefix``),
    ``bin/python3``, links to its libpython in ``lib/``, and ``lib/python3.X``: its standard library, a link to it,
    or with ``entries`` a directory of links to each of its entries with a ``site-packages`` of its own (a
    directory whose group can write it is then the installation's own). Returns ``bin/python3.X``."""
    xy = f"{base.version[0]}.{base.version[1]}"
    (prefix / "bin").mkdir(parents=True)
    python = prefix / "bin" / f"python{xy}"
    shutil.copy2(base.real, python)
    (prefix / "bin" / "python3").symlink_to(python.name)
    (prefix / "lib").mkdir()
    for library in (base.base_prefix / "lib").glob("libpython*.so*"):
        (prefix / "lib" / library.name).symlink_to(library)
    stdlib = stdlib_of(base)
    if entries:
        (prefix / "lib" / stdlib.name / "site-packages").mkdir(parents=True)
        for entry in stdlib.iterdir():
            if entry.name != "site-packages":
                (prefix / "lib" / stdlib.name / entry.name).symlink_to(entry)
    else:
        (prefix / "lib" / stdlib.name).symlink_to(stdlib)
    return python


def plant(person: Person, venv: Path) -> None:
    """A module of the venv's, ``shared_demo``, put in its site-packages by ``person``."""
    person.run("touch", next(venv.glob("lib/python3*/site-packages")) / "shared_demo.py")


def runs_in(person: Person, link: Path, venv: Path, base_prefix: Path | None = None) -> None:
    """``link``, run by ``person``, starts in ``venv``: its ``sys.prefix``, its ``shared_demo`` imported; and the
    installation the setup made, when given, is the base's."""
    prefix, base, module = json.loads(person.run(link, "-c", PROBE).stdout)
    assert prefix == str(venv)
    assert module == str(next(venv.glob("lib/python3*/site-packages")) / "shared_demo.py")
    if base_prefix is not None:
        assert base == str(base_prefix)


def recreated_then_fixed(person: Person, venv: Path, link: Path, base: Path, **extra: str) -> None:
    """``base -m venv --upgrade`` rewrites the venv's pyvenv.cfg and copies the interpreter over a stub, as a user
    recreating it does: ``doctor`` names the venv, ``doctor --fix`` mends it, and ``link`` runs the venv again."""
    person.run(base, "-m", "venv", "--upgrade", "--without-pip", venv)
    code, out, err = person.venvlink("doctor", **extra)
    assert (code, err) == (1, "")
    assert out.startswith(f"{link}: ")
    assert f"fix: venvlink convert {venv} (venvlink doctor --fix does it)" in out
    code, out, err = person.venvlink("doctor", "--fix", **extra)
    assert (code, err) == (0, ""), out
    runs_in(person, link, venv)


def converts_and_exports(person: Person, venv: Path, link: Path, **extra: str) -> None:
    """``venvlink convert VENV`` then ``venvlink export VENV LINK``, as ``person``, each without a word on stderr."""
    code, out, err = person.venvlink("convert", venv, **extra)
    assert (code, err) == (0, ""), out
    code, out, err = person.venvlink("export", venv, link, **extra)
    assert (code, err) == (0, not_on_path(link)), out


def a_whole_life(person: Person, python: Path, venv: Path | None = None, base_prefix: Path | None = None) -> None:
    """``person`` makes ``venv`` (``~/venv``) of ``python``, puts a package in it, converts and exports it to
    ``~/tool``, runs it there, recreates it with ``python -m venv --upgrade`` and mends it with ``doctor --fix``."""
    venv = venv or person.home / "venv"
    person.run(python, "-m", "venv", "--without-pip", venv)
    plant(person, venv)
    converts_and_exports(person, venv, person.home / "tool")
    runs_in(person, person.home / "tool", venv, base_prefix=base_prefix)
    recreated_then_fixed(person, venv, person.home / "tool", python)


def not_on_path(link: Path) -> str:
    """What export says of a link whose directory is not on PATH."""
    return f"note: {link.parent} is not on PATH; add it to run {link.name} by name\n"


@pytest.mark.parametrize("python", COVERED)
def test_hpc_module_tree(python: Interpreter, pythons: Pythons, people: Callable[..., Person], tmp: Path) -> None:
    """An HPC cluster's module tree: EasyBuild's service account installed CPython under ``apps/python/3.X``
    (group apps, 0755); a user not in apps loads the module, makes ``~/venv`` with ``python -m venv``, and converts
    and exports it. venvlink refused to convert it: ``apps belongs to uid 4010, so another user could change what
    apps/python/3.X/bin/python3.X runs`` (it ran the base interpreter, so its whole path had to be yours or root's)."""
    base = pythons.for_everyone(python)
    prefix = tmp / "apps" / "python" / f"{python.version[0]}.{python.version[1]}"
    module_python = install(base, prefix)
    give(tmp / "apps", EASYBUILD, APPS, 0o755)
    user = people(USER)
    venv = user.home / "venv"
    user.run(module_python, "-m", "venv", "--without-pip", venv)
    plant(user, venv)
    (user.home / "bin").mkdir()
    os.chown(user.home / "bin", USER, USER)
    converts_and_exports(user, venv, user.home / "bin" / "tool")
    runs_in(user, user.home / "bin" / "tool", venv, base_prefix=prefix)
    recreated_then_fixed(user, venv, user.home / "bin" / "tool", module_python)


def test_pi_project_directory(current: Interpreter, pythons: Pythons, people: Callable[..., Person], tmp: Path) -> None:
    """A PI's project directory on a cluster: ``project`` belongs to the PI, group def-pi, mode 2770; a member (in
    def-pi) makes their own venv in ``project/member/venv`` with ``virtualenv --creator linkable``, converts and
    exports it into the project's ``bin/`` (def-pi's), which the PI runs too; a tool puts links back in ``bin/``, and
    ``doctor --fix`` converts it again. The creator refused it: ``refusing to make a venv at project/member/venv:
    project belongs to uid 4020``."""
    base = pythons.for_everyone(current)
    project = tmp / "project"
    (project / "bin").mkdir(parents=True)
    give(project, PI, DEF_PI, 0o2770)
    member = people(MEMBER, groups=(DEF_PI,), umask=0o007)
    member.run("mkdir", project / "member")
    venv = project / "member" / "venv"
    made = member.virtualenv(base.path, venv, "--no-seed", "--creator", "linkable")
    assert made.returncode == 0, made.stdout + made.stderr
    plant(member, venv)
    link = project / "bin" / "tool"
    converts_and_exports(member, venv, link)
    runs_in(member, link, venv)
    runs_in(people(PI, groups=(DEF_PI,)), link, venv)
    for entry in ("python", "python3"):  # a tool put links back, as a venv without venvlink has them
        member.run("ln", "-sfn", base.path, venv / "bin" / entry)
    code, out, err = member.venvlink("doctor", "--fix")
    assert (code, err) == (0, ""), out
    runs_in(member, link, venv)


def lab(people: Callable[..., Person], tmp: Path) -> tuple[Person, Person]:
    """Two members of a lab, A and B (umask 002, as a group that shares files sets it), and the lab's directory
    ``lab`` (root's, group lab, setgid: 2775)."""
    (tmp / "lab").mkdir()
    give(tmp / "lab", 0, LAB, 0o2775)
    return people(LAB_A, groups=(LAB,), umask=0o002), people(LAB_B, groups=(LAB,), umask=0o002)


def test_lab_venv_another_member_installed_into(
    current: Interpreter, pythons: Pythons, people: Callable[..., Person], tmp: Path
) -> None:
    """A lab's shared venv: member A makes it with virtualenv (pip seeded) in the lab's setgid directory (2775,
    group lab); member B pip-installs a package into it (files of B's), then converts and exports it; A runs the
    venv too, and B's ``doctor --fix`` mends its stale stubs. venvlink refused B: ``refusing to change lab/venv: it
    belongs to uid 4031, not to you (uid 4032), and changing a venv runs its interpreter``."""
    base = pythons.for_everyone(current)
    a, b = lab(people, tmp)
    venv = tmp / "lab" / "venv"
    made = a.virtualenv(base.path, venv, "--seeder", "app-data", "--no-setuptools", "--no-wheel")
    assert made.returncode == 0, made.stdout + made.stderr
    (tmp / "wheels").mkdir()
    wheel = build_demo_wheel(tmp / "wheels")
    b.run(venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-index", "--no-deps", wheel)
    installed = next(venv.glob("lib/python3*/site-packages/linkdemo/__init__.py"))
    assert (installed.stat().st_uid, installed.stat().st_gid) == (LAB_B, LAB)
    plant(b, venv)
    (b.home / "bin").mkdir()
    os.chown(b.home / "bin", LAB_B, LAB_B)
    link = b.home / "bin" / "lab-python"
    converts_and_exports(b, venv, link)
    runs_in(b, link, venv)
    assert b.run(link, "-c", "import linkdemo; print(linkdemo.VERSION)").stdout == "1.0\n"
    runs_in(a, venv / "bin" / "python", venv)
    make_stale(venv)
    code, out, err = b.venvlink("doctor", "--fix")
    assert (code, err) == (0, ""), out
    assert b.venvlink("doctor") == (0, "the 1 export is fine\n", "")
    runs_in(b, link, venv)


def test_a_lab_member_recreates_the_venv_another_converted(
    current: Interpreter, pythons: Pythons, people: Callable[..., Person], tmp: Path
) -> None:
    """A lab's shared venv that A made (umask 002) and B converted: the stubs are B's, writable by the lab (0775),
    but only their owner may chmod them, which ``python -m venv --upgrade`` does to a copy it makes; so A recreates
    it as docs/guide.rst says, ``venvlink convert --revert`` first (A's links again), then ``--upgrade``, then
    ``doctor --fix`` (anyone in the lab) mends it, and it runs for A."""
    base = pythons.for_everyone(current)
    a, b = lab(people, tmp)
    venv = tmp / "lab" / "venv"
    a.run(base.path, "-m", "venv", "--without-pip", venv)
    a.run(base.path, "-m", "venv", "--upgrade", "--without-pip", venv)  # as it works before venvlink's conversion
    plant(b, venv)
    assert b.venvlink("convert", venv)[0] == 0
    assert stat.S_IMODE((venv / "bin" / "python").stat().st_mode) == 0o775, "the lab's umask, as venv made it"
    assert a.venvlink("convert", "--revert", venv)[0] == 0
    a.run(base.path, "-m", "venv", "--upgrade", "--without-pip", venv)
    code, out, err = b.venvlink("doctor", "--fix")
    assert (code, err) == (0, ""), out
    runs_in(a, venv / "bin" / "python", venv)


def test_conda_like_group_writable_tree(interpreter: Interpreter, people: Callable[..., Person], tmp: Path) -> None:
    """A shared conda-like Python: installed by a user (uid 1000-like), every directory writable by group users
    (``chmod -R g+w``), its own ``lib/python3.X`` and site-packages; root, not in users, makes its own venv of it,
    converts and exports it. venvlink refused it: ``opt belongs to uid 4050, so another user could change what
    opt/conda/bin/python3.X runs`` (and a group root is not in could write its standard library, getpath's
    landmark). Root can run every interpreter the suite found: each is installed so."""
    if interpreter.implementation != "CPython":
        pytest.skip(f"the tree is laid out as CPython's installation; {interpreter.path} is {interpreter.id}")
    prefix = tmp / "opt" / "conda"
    conda_python = install(interpreter, prefix, entries=True)
    give(tmp / "opt", CONDA, USERS, 0o775)
    a_whole_life(people(0), conda_python, base_prefix=prefix)


def test_usr_local_of_group_staff(
    current: Interpreter, pythons: Pythons, people: Callable[..., Person], tmp: Path
) -> None:
    """Debian's ``/usr/local``, of group staff: a CPython ``make install``-ed there, root's, every directory group
    staff's and writable by it (2775); a user and root (neither in staff) each convert and export their own venv of
    it. venvlink refused both: ``every member of group 4150 can write usr, where usr/local is, so another user
    could change what usr/local/bin/python3.X runs``."""
    base = pythons.for_everyone(current)
    prefix = tmp / "usr" / "local"
    local_python = install(base, prefix, entries=True)
    give(tmp / "usr", 0, STAFF, 0o2775)
    for person in (people(USER), people(0)):
        a_whole_life(person, local_python, base_prefix=prefix)


def workspace(pythons: Pythons, current: Interpreter, people: Callable[..., Person], tmp: Path) -> tuple[Person, Path]:
    """The host's user (uid 1000) and their venv, ``workspace/venv``: the workspace a container mounts."""
    (tmp / "workspace").mkdir()
    give(tmp / "workspace", HOST_USER, HOST_USER, 0o755)
    host = people(HOST_USER)
    host.run(pythons.for_everyone(current).path, "-m", "venv", "--without-pip", tmp / "workspace" / "venv")
    plant(host, tmp / "workspace" / "venv")
    return host, tmp / "workspace" / "venv"


def test_container_root_on_a_workspace_of_the_hosts_user(
    current: Interpreter, pythons: Pythons, people: Callable[..., Person], tmp: Path
) -> None:
    """A container's root on a workspace mounted from the host, whose uid 1000 owns it and the venv in it: refused
    without ``VENVLINK_SAFE_DIRECTORIES`` (one line, naming the owner and the exact line to export, nothing
    changed); the line it names lets convert through, and the workspace listed, export and ``doctor --fix`` (stale
    stubs). venvlink refused it even with the workspace listed: ``it belongs to uid 1000, not to you, and changing
    a venv runs its interpreter and writes into it as you; run venvlink as uid 1000``."""
    host, venv = workspace(pythons, current, people, tmp)
    root = people(0)
    before = snapshot(venv)
    line = f"VENVLINK_SAFE_DIRECTORIES={os.path.realpath(venv)}"
    for command in (["convert", venv], ["export", venv, root.home / "tool"]):
        code, out, err = root.venvlink(*command)
        assert (code, out) == (1, ""), command
        assert err.count("\n") == 1, err
        assert err.startswith(f"venvlink: error: refusing to change {venv}: {venv} belongs to {_trust.user(HOST_USER)}")
        assert err.endswith(f"export {line}; nothing was changed\n"), err
    assert snapshot(venv) == before
    assert not os.path.lexists(root.home / "tool")
    code, out, err = root.venvlink("convert", venv, VENVLINK_SAFE_DIRECTORIES=line.partition("=")[2])
    assert (code, err) == (0, ""), out
    safe = {"VENVLINK_SAFE_DIRECTORIES": str(tmp / "workspace")}
    code, out, err = root.venvlink("export", venv, root.home / "tool", **safe)
    assert (code, err) == (0, not_on_path(root.home / "tool")), out
    runs_in(root, root.home / "tool", venv)
    runs_in(host, venv / "bin" / "python", venv)
    make_stale(venv)
    code, out, err = root.venvlink("doctor", "--fix", **safe)
    assert (code, err) == (0, ""), out
    runs_in(root, root.home / "tool", venv)


def test_the_hosts_user_recreates_the_venv_root_converted(
    current: Interpreter, pythons: Pythons, people: Callable[..., Person], tmp: Path
) -> None:
    """The workspace's venv, converted by the container's root (told to trust it): the host's user recreates it
    (``python -m venv --upgrade``, theirs to run on their venv), root's ``doctor --fix`` mends it, and it runs."""
    host, venv = workspace(pythons, current, people, tmp)
    root = people(0)
    safe = {"VENVLINK_SAFE_DIRECTORIES": str(tmp / "workspace")}
    assert root.venvlink("convert", venv, **safe)[0] == 0
    host.run(pythons.for_everyone(current).path, "-m", "venv", "--upgrade", "--without-pip", venv)
    code, out, err = root.venvlink("doctor", "--fix", **safe)
    assert (code, err) == (0, ""), out
    runs_in(host, venv / "bin" / "python", venv)


@pytest.fixture
def in_tmp() -> Iterator[Path]:
    """A unique name directly in /tmp (``/tmp/venvlink-XXXX``), for whatever a test makes there; removed after."""
    name = TMP / f"venvlink-{uuid.uuid4().hex[:12]}"
    yield name
    for made in TMP.glob(f"{name.name}*"):
        shutil.rmtree(made)


def in_tmp_as(who: str, where: str, in_tmp: Path, people: Callable[..., Person]) -> tuple[Person, Path]:
    """Root or another user, and where their venv goes: ``/tmp/NAME/venv`` (``/tmp/NAME`` theirs), or
    ``/tmp/NAMEvenv``, directly in /tmp."""
    person = people(0 if who == "root" else USER)
    if where == "directly in /tmp":
        return person, Path(f"{in_tmp}venv")
    person.run("mkdir", in_tmp)
    return person, in_tmp / "venv"


WHERE_IN_TMP = ["in a directory of /tmp", "directly in /tmp"]


@pytest.mark.parametrize("who", ["root", "user"])
@pytest.mark.parametrize("where", WHERE_IN_TMP)
def test_a_venv_in_tmp_converts(
    where: str, who: str, current_for: Callable[[Person], Interpreter], people: Callable[..., Person], in_tmp: Path
) -> None:
    """``python -m venv`` in ``/tmp/NAME/venv`` and in ``/tmp/NAMEvenv`` (directly in /tmp: sticky, every user's),
    then convert and export, as root and as another user. These were not refused before the principle (a sticky
    directory allows an entry of yours); they must stay so."""
    person, venv = in_tmp_as(who, where, in_tmp, people)
    a_whole_life(person, current_for(person).path, venv)


@pytest.mark.parametrize("who", ["root", "user"])
@pytest.mark.parametrize(
    "where",
    [
        WHERE_IN_TMP[0],
        WHERE_IN_TMP[1],
    ],
)
def test_the_creator_in_tmp(
    where: str, who: str, current_for: Callable[[Person], Interpreter], people: Callable[..., Person], in_tmp: Path
) -> None:
    """``virtualenv --creator linkable /tmp/NAME/venv`` and ``/tmp/NAMEvenv``, as root and as another user: the
    venv runs, and exports. The creator refuses a DEST directly in /tmp, before the principle and since: ``refusing
    to make a venv at /tmp/NAMEvenv: every user can write /tmp, where /tmp/NAMEvenv would be``."""
    person, venv = in_tmp_as(who, where, in_tmp, people)
    base = current_for(person)
    made = person.virtualenv(base.path, venv, "--no-seed", "--creator", "linkable")
    assert made.returncode == 0, made.stdout + made.stderr
    plant(person, venv)
    runs_in(person, venv / "bin" / "python", venv)
    code, out, err = person.venvlink("export", venv, person.home / "tool")
    assert (code, err) == (0, not_on_path(person.home / "tool")), out
    runs_in(person, person.home / "tool", venv)


@pytest.mark.parametrize("python", COVERED)
def test_homebrew_on_linux(python: Interpreter, pythons: Pythons, people: Callable[..., Person], tmp: Path) -> None:
    """Homebrew on Linux: ``/home/linuxbrew/.linuxbrew``, its own user's (0755), Python in its Cellar, linked from
    ``.linuxbrew/bin`` and ``opt/``; another user makes a plain venv of it (with ``$(brew --prefix
    python@3.X)/bin/python3.X``: from ``.linuxbrew/bin`` getpath finds no standard library and takes the prefix
    built in, which here is not Homebrew's) and exports it with ``venvlink export`` alone (to ``~/.local/bin``,
    converting it on the way). venvlink refused it: ``home/linuxbrew belongs to uid 4060, so another user could
    change what .linuxbrew/Cellar/python@3.X/3.X.Y/bin/python3.X runs``."""
    base = pythons.for_everyone(python)
    xy = f"{python.version[0]}.{python.version[1]}"
    brew = tmp / "home" / "linuxbrew" / ".linuxbrew"
    keg = brew / "Cellar" / f"python@{xy}" / python.full_version
    install(base, keg)
    (brew / "bin").mkdir()
    (brew / "bin" / f"python{xy}").symlink_to(f"../Cellar/python@{xy}/{python.full_version}/bin/python{xy}")
    (brew / "opt").mkdir()
    (brew / "opt" / f"python@{xy}").symlink_to(f"../Cellar/python@{xy}/{python.full_version}")
    give(tmp / "home" / "linuxbrew", LINUXBREW, LINUXBREW, 0o755)
    user = people(USER)
    venv = user.home / "venv"
    brew_python = brew / "opt" / f"python@{xy}" / "bin" / f"python{xy}"
    user.run(brew_python, "-m", "venv", "--without-pip", venv)
    plant(user, venv)
    code, out, err = user.venvlink("export", venv)
    link = user.home / ".local" / "bin" / "venv"
    assert (code, err) == (0, not_on_path(link)), out
    runs_in(user, link, venv, base_prefix=brew / "opt" / f"python@{xy}")
    recreated_then_fixed(user, venv, link, brew_python)


# The rules that remain: a negative control each.


def test_root_converting_another_users_venv_is_refused(
    current: Interpreter, pythons: Pythons, people: Callable[..., Person]
) -> None:
    """Root (not told to trust them) converting or exporting another user's venv is refused with one line naming
    its owner, and nothing changes: the rule that stays, writing only into a venv you could change anyway."""
    base = pythons.for_everyone(current)
    user = people(USER)
    venv = user.home / "venv"
    user.run(base.path, "-m", "venv", "--without-pip", venv)
    root = people(0)
    before = snapshot(venv)
    for command in (["convert", venv], ["export", venv, root.home / "tool"]):
        code, out, err = root.venvlink(*command)
        assert (code, out) == (1, ""), command
        assert err.count("\n") == 1, err
        assert err.startswith(f"venvlink: error: refusing to change {venv}: {venv} belongs to {_trust.user(USER)}")
    assert snapshot(venv) == before
    assert not os.path.lexists(root.home / "tool")


def test_a_user_refused_is_not_told_a_trust_that_cannot_help(
    current: Interpreter, pythons: Pythons, people: Callable[..., Person], tmp: Path
) -> None:
    """The usability review: a lab member refused another member's venv (not the lab's to write) was told to
    export VENVLINK_SAFE_DIRECTORIES, then got "Permission denied": that line is offered only to whom it would
    help, a caller who can write there (root)."""
    base = pythons.for_everyone(current)
    a, b = lab(people, tmp)
    venv = tmp / "lab" / "venv"
    a.run("sh", "-c", f"umask 022 && exec {base.path} -m venv --without-pip {venv}")
    code, _, err = b.venvlink("convert", venv)
    assert code == 1
    assert err.endswith("ask its owner to run venvlink; nothing was changed\n"), err
    assert "VENVLINK_SAFE_DIRECTORIES" not in err


def test_a_dest_under_a_directory_a_group_root_is_not_in_can_write_is_refused(
    current: Interpreter, people: Callable[..., Person], tmp: Path
) -> None:
    """``export VENV /srv/team/bin/tool``, ``/srv/team`` writable by a group root is not in (2775): a member could
    make ``bin`` a link to ``/usr/bin``, so it is refused, naming the group, and nothing is placed. DEST's own
    directory may be the group's (what is in it is theirs to change anyway, not which directory it is): that one
    is accepted."""
    root = people(0)
    venv = root.home / "venv"
    run([current.path, "-m", "venv", "--without-pip", venv])
    team = tmp / "team"
    (team / "bin").mkdir(parents=True)
    give(team, 0, LAB, 0o2775)
    (team / "bin").chmod(0o755)
    code, out, err = root.venvlink("export", venv, team / "bin" / "tool")
    assert (code, out) == (1, "")
    assert err.count("\n") == 1, err
    assert err.startswith(f"venvlink: error: refusing {team / 'bin' / 'tool'}: every member of group {LAB} can write")
    assert not os.path.lexists(team / "bin" / "tool")
    code, out, err = root.venvlink("export", venv, team / "tool")
    assert (code, err) == (0, not_on_path(team / "tool")), out
