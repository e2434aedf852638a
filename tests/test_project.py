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


PAGES = [ROOT / name for name in ("README.md", "CONTRIBUTING.md", "CHANGELOG.md", "SECURITY.md")]
PAGES += sorted((ROOT / "docs").glob("*.rst"))
#: pages outside this repository that are linked to, each known to exist (checked by hand when added: a test has
#: no network); the project's own site and repository are not among them until they are published
KNOWN_PAGES = {
    "https://semver.org/",
}
LINK = re.compile(
    r"\]\(([^)\s]+)\)"  # Markdown [text](target)
    r"|`[^`<]*<([^>`]+)>`_"  # reStructuredText `text <target>`_
    r"|<(https?://[^>\s]+)>"  # an autolink <https://...>
    r"|(?<![<(])(https?://[^\s)>`'\"]+)"  # a bare address
)


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    text = page.read_text()
    if page.suffix == ".md":
        titles = re.findall(r"^#+ (.+)$", text, re.MULTILINE)
    else:
        titles = re.findall(r"^(\S.*)\n[=\-^~]{3,}$", text, re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-") for title in titles}


def test_every_link_resolves() -> None:
    """A relative link names a file of the repository (and a heading in it); an address is one known to exist."""
    broken = []
    for page in PAGES:
        for groups in LINK.findall(page.read_text()):
            target = next(g for g in groups if g)
            if target.startswith(("http://", "https://")):
                if target not in KNOWN_PAGES:
                    broken.append(f"{page.name}: {target} is not a page known to exist (KNOWN_PAGES)")
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.is_file():
                broken.append(f"{page.name}: {target} names no file")
            elif anchor and anchor not in anchors(linked):
                broken.append(f"{page.name}: {target} names no heading of {linked.name}")
    assert not broken
