"""The project's promises about itself: CI runs the README's test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Run the tests", 1)[1]
    command = re.search(r"```sh\n(.+?)\n```", section, re.DOTALL)
    assert command is not None
    assert command.group(1) in (ROOT / ".ci" / "run").read_text().splitlines()


def test_failure_page_names_every_walk_case() -> None:
    import json  # noqa: PLC0415

    page = (ROOT / "docs" / "failures.rst").read_text()
    cases = json.loads((ROOT / "tests" / "walk_cases.json").read_text())["cases"]
    missing = [c["name"] for c in cases if c["name"] not in page]
    assert not missing, f"docs/failures.rst does not name: {missing}"


def test_install_lines_name_this_distribution() -> None:
    """`venvlink` on PyPI is another project: every install line says the name pyproject.toml gives."""
    import tomllib  # noqa: PLC0415  # Python 3.11+, which runs the suite; 3.9 and 3.10 have no tomllib

    name = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"]
    pattern = re.compile(
        r"(?:pip install|pipx inject(?: --include-apps)? \S+|--with(?:-executables-from)?|pipx inject \S+)"
        r"\s+(?!-)([\w.\[\]-]+)"
    )
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.rst")), ROOT / "CONTRIBUTING.md"]
    found = {}
    for page in pages:
        for installed in pattern.findall(page.read_text()):
            if "link" in installed:  # venvlink, virtualenv-linkable: ours; virtualenv, attrs, ...: others
                found[f"{page.name}: {installed}"] = installed.split("[")[0]
    assert found, "no install line found: the pattern is out of date"
    assert {where: installed for where, installed in found.items() if installed != name} == {}
