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
