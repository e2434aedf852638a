"""``virtualenv --export PATH``: create a linkable venv and export it in one call."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from virtualenv.activation.activator import Activator

from ._export import export
from .exceptions import VenvlinkError

if TYPE_CHECKING:
    from argparse import ArgumentParser
    from pathlib import Path

    from python_discovery import PythonInfo
    from virtualenv.config.cli.parser import VirtualEnvOptions
    from virtualenv.create.creator import Creator


class ExportActivator(Activator):
    """Adds ``--export PATH`` (repeatable); writes no file into the venv, with or without it."""

    def __init__(self, options: VirtualEnvOptions) -> None:
        super().__init__(options)
        self.exports: list[str] = list(getattr(options, "export", None) or [])
        creator = getattr(options, "creator", None)
        if self.exports and creator != "linkable":
            # Checked before anything is created: a link to any other venv's python loses the venv.
            msg = (
                f"--export needs --creator linkable (this run uses {creator}); "
                "a symlink to any other venv's python runs the base interpreter without the venv"
            )
            raise VenvlinkError(msg)

    @classmethod
    def add_parser_arguments(cls, parser: ArgumentParser, interpreter: PythonInfo) -> None:
        parser.add_argument(
            "--export",
            action="append",
            metavar="PATH",
            default=[],
            help="with --creator linkable: make PATH a symlink to the new venv's python (venvlink export); repeatable",
        )

    def generate(self, creator: Creator) -> list[Path]:
        for dest in self.exports:
            result = export(creator.dest, dest)
            if result.path_note:
                print(f"note: {result.path_note}", file=sys.stderr)
        return []
