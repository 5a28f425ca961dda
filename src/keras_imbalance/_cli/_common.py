"""What every command shares: the usage error, output checks, warnings, consoles."""

from __future__ import annotations

import os
import sys
import warnings
from contextlib import contextmanager

from keras_imbalance._outputs import Output, OutputError, check_outputs

#: The largest ``--random-state`` (numpy's seeds are 32-bit).
MAX_SEED = 2**32 - 1
#: The console width when the output is not a terminal: names are never cut in a file.
FILE_WIDTH = 10_000


class UsageError(Exception):
    """A problem with the user's input: reported on one line, exit code 2."""


def plain(value):
    """A numpy scalar as the Python value it holds."""
    return value.item() if hasattr(value, "item") else value


def check(outputs: list[Output], inputs: list[str], force: bool) -> list[Output]:
    """:func:`keras_imbalance._outputs.check_outputs` (write permission included), reported as
    a usage error."""
    try:
        return check_outputs(outputs, inputs, force=force)
    except OutputError as exc:
        raise UsageError(str(exc)) from None


def random_state(args) -> int:
    if args.seed is not None:
        print(
            f"keras-imbalance {args.command}: --seed is deprecated, use --random-state",
            file=sys.stderr,
        )
        if args.random_state is None:
            return args.seed
    return 0 if args.random_state is None else args.random_state


@contextmanager
def warnings_as_lines(command: str):
    """Every warning shown while the command runs as one plain line on stderr:
    ``keras-imbalance CMD: warning: message`` (no file path, no source line), each text once."""
    seen: set[str] = set()

    def show(message, category, filename, lineno, file=None, line=None):
        text = " ".join(str(message).split())
        if text in seen:
            return
        seen.add(text)
        print(f"keras-imbalance {command}: warning: {text}", file=sys.stderr)

    previous = warnings.showwarning
    warnings.showwarning = show
    try:
        with warnings.catch_warnings():
            if not sys.warnoptions:  # the user's -W / PYTHONWARNINGS win
                warnings.simplefilter("always", UserWarning)  # each run says it (seen dedupes)
            yield
    finally:
        warnings.showwarning = previous


def console(*, stderr: bool = False):
    """A rich console: on a terminal as wide as the terminal, else (a file, a pipe, a notebook)
    plain text without colours and wide enough that no name or table cell is cut."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    if _is_terminal(stream):
        return Console(file=stream, highlight=False)
    return Console(
        file=stream,
        width=FILE_WIDTH,
        highlight=False,
        color_system=None,
        force_terminal=False,
        soft_wrap=True,
    )


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def cpu_count() -> int:
    """The CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)
