"""Sphinx configuration of venvlink's documentation (tox -e docs)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "src"))

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.application import Sphinx

from virtualenv_linkable import __version__
from virtualenv_linkable.__main__ import build_parser

project = "venvlink"
author = "venvlink developers"
copyright = "2026, venvlink developers"
release = version = __version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.graphviz",
    "sphinxarg.ext",
]
html_theme = "furo"
html_title = f"venvlink {release}"
html_static_path = ["_static"]
exclude_patterns = ["_build"]
graphviz_output_format = "svg"
autodoc_member_order = "bysource"
autodoc_typehints = "description"
nitpicky = True
# "--relative" stays two hyphens: command lines are copied from these pages
smartquotes = False
nitpick_ignore_regex = [(r"py:class", r".*(PathLike|Path|Export|Resolution|Conversion|ExportResult|Registry).*")]


class Examples(Directive):
    """Each command's examples, from its parser's epilog, as copyable console blocks: one source for --help and
    for these pages."""

    def run(self) -> list[nodes.Node]:
        parser = build_parser()
        (sub,) = [a for a in parser._actions if a.dest == "command"]
        found: list[nodes.Node] = []
        for name, command in sub.choices.items():  # type: ignore[union-attr]
            lines = [line.strip() for line in (command.epilog or "").splitlines()[1:] if line.strip()]
            found.append(nodes.paragraph(text=f"{name}:"))
            block = nodes.literal_block(text="\n".join(f"$ {line}" for line in lines))
            block["language"] = "console"
            found.append(block)
        return found


def setup(app: Sphinx) -> None:
    app.add_directive("venvlink-examples", Examples)
