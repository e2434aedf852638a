#!/usr/bin/env python3
"""README.md's "tested on" list, and docs/platforms.rst's table, against what the CI run really ran.

Each test run of CI writes its interpreter matrix where VENVLINK_TEST_MATRIX says (tests/conftest.py): the suite on
this machine, .ci/sid-matrix and .ci/arm64-matrix; a run that could not happen here writes why. The list names X.Y
per implementation and architecture (patch versions change under Debian unstable); the exact versions are printed
here, for the CI log.

    python .ci/tested-on.py MATRIX.json...            check: exit 1 when README.md or the docs say otherwise
    python .ci/tested-on.py --write MATRIX.json...    rewrite README.md's list from the matrices
"""

from __future__ import annotations

import json
import platform
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PLATFORMS = ROOT / "docs" / "platforms.rst"
BEGIN = "<!-- tested-on: .ci/tested-on.py checks this list against what the last CI run ran -->"
END = "<!-- /tested-on -->"
ORDER = {"CPython": 0, "PyPy": 1}


def read(paths: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Each architecture's line of the list, from what ran; and the architectures skipped, with the reason."""
    ran: dict[str, dict[str, set[tuple[int, int]]]] = defaultdict(lambda: defaultdict(set))
    skipped = {}
    for path in paths:
        matrix = json.loads(Path(path).read_text(encoding="utf-8"))
        if "skipped" in matrix:
            skipped[matrix["machine"]] = matrix["skipped"]
            print(f"tested-on: {path}: skipped on {matrix['machine']}: {matrix['skipped']}")
            continue
        for one in matrix["interpreters"]:
            print(
                f"tested-on: {path}: {one['implementation']} {one['version']} on {one['machine']} "
                f"({one['path']}): {one['passed']} tests passed"
            )
            if one["passed"]:
                major, minor = one["version"].split(".")[:2]
                ran[one["machine"]][one["implementation"]].add((int(major), int(minor)))
    host = platform.machine()
    lines = {}
    for machine in sorted(ran, key=lambda m: (m != host, m)):
        how = "native" if machine == host else "emulated (qemu-user)"
        kinds = sorted(ran[machine], key=lambda kind: (ORDER.get(kind, 9), kind))
        said = "; ".join(f"{kind} " + ", ".join(f"{x}.{y}" for x, y in sorted(ran[machine][kind])) for kind in kinds)
        lines[machine] = f"- Linux {machine}, {how}: {said}"
    return lines, skipped


def listed(text: str) -> tuple[int, int, dict[str, str]]:
    """Where README.md's list is, and its line for each architecture."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        sys.exit(f"tested-on: {README} has no list between {BEGIN} and {END}")
    body = text[start + len(BEGIN) : end].strip().splitlines()
    return start + len(BEGIN), end, {line.split(",")[0].removeprefix("- Linux "): line for line in body}


def main() -> None:
    write = sys.argv[1:2] == ["--write"]
    lines, skipped = read(sys.argv[2:] if write else sys.argv[1:])
    text = README.read_text(encoding="utf-8")
    start, end, said = listed(text)
    for machine, reason in skipped.items():
        if machine in said and machine not in lines:
            lines[machine] = said[machine]
            print(f"tested-on: README.md's line for {machine} is kept unchecked: {reason}")
    if write:
        README.write_text(text[:start] + "\n" + "\n".join(lines.values()) + "\n" + text[end:], encoding="utf-8")
        print(f"tested-on: {README} rewritten")
        return
    wrong = [
        f"README.md says {said.get(machine, 'nothing')!r}; the run says {line!r}"
        for machine, line in lines.items()
        if said.get(machine) != line
    ]
    wrong += [f"README.md says {said[m]!r}, but nothing ran on {m}" for m in said if m not in lines]
    docs = PLATFORMS.read_text(encoding="utf-8")
    wrong += [
        f"docs/platforms.rst's table does not name {line.split(': ', 1)[1]!r} for {machine}"
        for machine, line in lines.items()
        if line.split(": ", 1)[1] not in docs
    ]
    for problem in wrong:
        print(f"tested-on: {problem}")
    if wrong:
        sys.exit("tested-on: the list differs from what ran; `python .ci/tested-on.py --write MATRIX...` rewrites it")
    print(f"tested-on: README.md's list is what ran: {'; '.join(lines.values())}")


if __name__ == "__main__":
    main()
