"""Sphinx configuration of venvlink's documentation (tox -e docs)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "src"))

from venvlink import __version__

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
nitpick_ignore_regex = [(r"py:class", r".*(PathLike|Path|Export|Resolution|Conversion|ExportResult|Registry).*")]
