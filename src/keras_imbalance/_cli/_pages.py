"""Transparent huge pages for ``compare DIR``'s training steps (Linux with glibc).

A convolutional model's training step on the CPU takes one temporary block of hundreds of MB
per call (XLA's buffers for every copy's activations; a call per step, see
``comparison._compiled._steps_apart``). glibc's ``malloc`` maps a block that large afresh at
every call and unmaps it when it is freed, so the kernel zeroes and faults in ~150,000 pages of
4 KiB a call: 38 % of the CPU time of ``compare`` on an image folder went to the kernel
(docs/benchmarks.md). glibc's tunable ``glibc.malloc.hugetlb=1`` (glibc >= 2.35) asks the kernel
for transparent huge pages of 2 MiB for those maps (measured: 2.7x less system time; the
peak memory now and then up to ~8 % higher, where a step lands above the others).
Where the kernel gives huge pages only when asked (``madvise``, the default of Debian and
Ubuntu), ``compare DIR`` runs itself again with the tunable set, before anything heavy is
imported; glibc reads its tunables only when a process starts.

Not done when the kernel gives huge pages always (nothing to gain) or never (nothing to ask
for), on another C library or operating system, or when ``GLIBC_TUNABLES`` names the tunable
already: ``GLIBC_TUNABLES=glibc.malloc.hugetlb=0 keras-imbalance compare DIR`` keeps glibc's
default. (``MALLOC_ARENA_MAX=1 MALLOC_MMAP_MAX_=0`` with no trimming also removes the faults,
but doubled the peak memory of the same job: not used.)
"""

from __future__ import annotations

import os
import platform
import sys

TUNABLE = "glibc.malloc.hugetlb"
THP_MODE = "/sys/kernel/mm/transparent_hugepage/enabled"
GLIBC_WITH_TUNABLE = (2, 35)


def _thp_mode(path: str = THP_MODE) -> str:
    """The kernel's transparent huge page mode (the bracketed word of ``path``), or ''."""
    try:
        with open(path, encoding="ascii") as f:
            text = f.read()
    except OSError:
        return ""
    start, stop = text.find("["), text.find("]")
    return text[start + 1 : stop] if 0 <= start < stop else ""


def _glibc() -> tuple:
    """glibc's (major, minor) version, or () under another C library."""
    name, version = platform.libc_ver()
    if name != "glibc":
        return ()
    try:
        return tuple(int(p) for p in version.split(".")[:2])
    except ValueError:
        return ()


def tuned_environment(environ, thp_mode: str, glibc: tuple) -> dict | None:
    """``environ`` with ``GLIBC_TUNABLES`` asking glibc's ``malloc`` for huge pages, or None
    when that gains nothing here (see the module's text): ``thp_mode`` is the kernel's
    transparent huge page mode, ``glibc`` glibc's (major, minor) version (() for another C
    library)."""
    tunables = environ.get("GLIBC_TUNABLES", "")
    if thp_mode != "madvise" or not glibc or glibc < GLIBC_WITH_TUNABLE:
        return None
    if any(part.split("=", 1)[0] == TUNABLE for part in tunables.split(":")):
        return None  # the user's own choice
    return {**environ, "GLIBC_TUNABLES": f"{tunables}:{TUNABLE}=1" if tunables else f"{TUNABLE}=1"}


def run_with_huge_pages() -> None:
    """Run this command again (same interpreter, options and arguments) with glibc's
    ``malloc`` asking for huge pages, where that gains something on this machine; returns
    when it does not (or cannot: then the command goes on as it is)."""
    if not sys.platform.startswith("linux") or not sys.executable:
        return
    environ = tuned_environment(os.environ, _thp_mode(), _glibc())
    if environ is None:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], environ)
    except OSError:  # an interpreter that cannot be run again: go on in this process
        return
