"""``venvlink completion``: argcomplete's shell code, which completes from venvlink's own parser."""

from __future__ import annotations

import sys

from .. import TYPE_CHECKING
from . import EXIT_OK

if TYPE_CHECKING:
    from argparse import ArgumentParser, Namespace

    from . import Output

NAME = "completion"
SUMMARY = "print the shell code that completes venvlink's commands and options (argcomplete)"
EXAMPLES = """\
  venvlink completion bash > ~/.local/share/bash-completion/completions/venvlink
  venvlink completion fish > ~/.config/fish/completions/venvlink.fish
  venvlink completion zsh > ~/.zfunc/_venvlink"""
LOUD = False  # prints a script, and only that: -q and -v would change nothing


def arguments(parser: ArgumentParser) -> None:
    parser.add_argument("shell", choices=["bash", "zsh", "fish"])


def run(args: Namespace, out: Output) -> int:
    from argcomplete.shell_integration import shellcode  # noqa: PLC0415

    sys.stdout.write(shellcode(["venvlink"], shell=args.shell))
    return EXIT_OK
