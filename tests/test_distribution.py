"""The distribution as users install it: names of its own, so that it installs beside PyPI's other ``venvlink``.

That project (an activate-script linker) ships an import package ``venvlink/``. Ours is ``virtualenv_linkable``;
only the command is called ``venvlink``. A stand-in for the other project, built here, is installed beside ours in
a fresh venv, in both orders, and uninstalled: our command, creator and API keep working throughout.
"""

from __future__ import annotations

import importlib.metadata
import re
import sys
from pathlib import Path

import pytest

from helpers import build_wheel, run
from virtualenv_linkable import __version__

ROOT = Path(__file__).parent.parent
# the other project's layout (venvlink 0.5.0): an import package and a `python -m venvlink`, no console script
OTHER = {
    "venvlink/__init__.py": "from .__version__ import __version__\n",
    "venvlink/__version__.py": "__version__ = '0.5.0'\n",
    "venvlink/__main__.py": "print('the other venvlink')\n",
    "venvlink/exceptions.py": "class VenvLinkError(Exception): ...\n",
}
# What a user runs: the command, `python -m`, the creator through virtualenv, and the API.
USE = """
import json, os, subprocess, sys
import virtualenv_linkable
venv, link = sys.argv[1], sys.argv[2]
bin_dir = os.path.dirname(sys.executable)
version = subprocess.run([os.path.join(bin_dir, "venvlink"), "--version"], capture_output=True, text=True, check=True)
module = subprocess.run([sys.executable, "-m", "virtualenv_linkable", "--version"], capture_output=True, text=True)
subprocess.run([sys.executable, "-m", "virtualenv", "-q", "--no-seed", "--clear", "--creator", "linkable", venv],
               check=True)
if os.path.lexists(link):
    os.unlink(link)
virtualenv_linkable.export(venv, link)
print(json.dumps([version.stdout, module.stdout, str(virtualenv_linkable.resolve(link).prefix)]))
"""


def requirement_names(distribution: importlib.metadata.Distribution) -> list[str]:
    names = []
    for requirement in distribution.requires or []:
        if "extra ==" not in requirement:
            match = re.match(r"[A-Za-z0-9._-]+", requirement)
            assert match is not None, requirement
            names.append(match.group())
    return names


def dependencies_of(name: str, directory: Path) -> Path:
    """``directory`` made to hold ``name``'s installed dependencies (links into this environment): a fresh venv
    that lists it in a .pth file has them without a download, and pip sees them as installed."""
    directory.mkdir()
    seen: set[str] = set()
    pending = requirement_names(importlib.metadata.distribution(name))
    while pending:
        wanted = pending.pop()
        try:
            distribution = importlib.metadata.distribution(wanted)
        except importlib.metadata.PackageNotFoundError:
            continue  # a dependency for other Pythons only (its marker is false here)
        if distribution.metadata["Name"] in seen:
            continue
        seen.add(distribution.metadata["Name"])
        pending += requirement_names(distribution)
        site = Path(str(distribution.locate_file("")))
        for top in {Path(str(f)).parts[0] for f in distribution.files or [] if not str(f).startswith("..")}:
            if not (directory / top).exists() and top != "__pycache__":
                (directory / top).symlink_to(site / top)
    assert {"argcomplete", "virtualenv", "platformdirs"} <= {name.lower() for name in seen}
    return directory


@pytest.fixture(scope="module")
def wheels(our_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Our wheel, built from this checkout, and the other project's stand-in."""
    return our_wheel, build_wheel(tmp_path_factory.mktemp("wheels"), "venvlink", "0.5.0", OTHER)


def fresh_venv(directory: Path, dependencies: Path) -> Path:
    """A venv with pip and our dependencies (none of ours), of the Python running the tests."""
    run([sys.executable, "-m", "venv", directory])
    site = run([directory / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
    Path(site.stdout.strip(), "dependencies.pth").write_text(f"{dependencies}\n")
    return directory


@pytest.mark.parametrize("order", ["ours first", "theirs first"])
def test_installs_beside_the_other_venvlink(order: str, wheels: tuple[Path, Path], tmp_path: Path) -> None:
    ours, theirs = wheels
    venv = fresh_venv(tmp_path / "env", dependencies_of("virtualenv-linkable", tmp_path / "dependencies"))
    python = venv / "bin" / "python"

    def works(step: str) -> None:
        said = run([python, "-c", USE, tmp_path / "made", tmp_path / "tool"], check=False)
        assert said.returncode == 0, f"{step}: {said.stderr}"
        assert said.stdout.strip() == (
            f'["venvlink {__version__}\\n", "venvlink {__version__}\\n", "{tmp_path / "made"}"]'
        ), step

    for wheel in (ours, theirs) if order == "ours first" else (theirs, ours):
        run([python, "-m", "pip", "install", "-q", wheel])
    works("both installed")
    assert run([python, "-m", "pip", "check"]).returncode == 0
    assert run([python, "-m", "venvlink"]).stdout == "the other venvlink\n", "theirs is intact too"
    listed = run([python, "-m", "pip", "show", "-f", "virtualenv-linkable", "venvlink"]).stdout
    ours_files, theirs_files = (set(part.split("Files:")[1].split()) for part in listed.split("\n---\n"))
    assert not ours_files & theirs_files, "no file belongs to both distributions"

    run([python, "-m", "pip", "uninstall", "-q", "-y", "venvlink"])
    works("the other venvlink uninstalled")
    assert run([python, "-m", "venvlink"], check=False).returncode != 0, "theirs is gone, ours stays"
