"""The ``lucidnet`` command (also ``python -m lucidnet``)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence

from . import __version__


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with one subcommand per job."""
    parser = argparse.ArgumentParser(
        prog="lucidnet",
        description="Neural networks from scratch on NumPy, every formula written out.",
    )
    parser.add_argument("--version", action="version", version=f"lucidnet {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "demo",
        help="a short tour of the four seed stories, numbers printed",
        description="Reproduce the worked examples of the source documents, in seconds.",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        from .demo import run

        try:
            run(sys.stdout)
        except BrokenPipeError:
            # The reader stopped early (``lucidnet demo | head``): not an error. Point
            # stdout at devnull so that the interpreter's final flush stays quiet.
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    parser.print_help(sys.stderr)
    return 2
