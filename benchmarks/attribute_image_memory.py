"""Where the memory of ``keras-imbalance compare DIR`` goes, and what of it grows with the folder.

Usage (from the repository root):

    OMP_NUM_THREADS=1 python benchmarks/attribute_image_memory.py --backend jax \\
        --dir /tmp/kiimg --sizes 1000,3000

    # two code versions on the same folders
    ... --src new=src --src old=/tmp/old/src

Writes the class-per-folder trees of :mod:`bench_image_memory` (28 x 28 RGB PNGs, 5
long-tailed classes), then runs the CLI's ``compare`` in a fresh process per (size, code),
in process there (``keras_imbalance.cli.main``) with the smallest settings: ``--cv 2
--epochs 1 --strategies none,balanced --jobs 1 --references none`` (``--epochs`` and
``--strategies`` can be changed). Probes at the phase boundaries (after the folder is read,
before and after each fold's fit, after each fold's scoring, at the end) record:

- the resident set (``VmRSS``) and its high-water mark (``VmHWM``) from ``/proc/self/status``;
- the Python heap seen by ``tracemalloc`` (now, and the phase's peak), grouped by the
  innermost frame inside ``keras_imbalance`` (else the innermost frame);
- on jax, the bytes of ``jax.live_arrays()`` and the XLA compilations so far (the compile
  log: one line per compiled program, with its shapes);
- the decode cache of the image files (entries and bytes of pixels);
- glibc's own counts summed over its arenas (``mallinfo2``: bytes handed out, ``malloc_used``,
  and freed bytes it keeps, ``malloc_free``), the resident set by kind of mapping
  (``brk_heap``: glibc's main arena; ``anon``: other anonymous memory, i.e. glibc's other
  arenas and mmapped blocks, Python's arenas, XLA; ``file``) and Python's small-object
  arenas (``py_arenas``, ``py_used``: ``sys._debugmallocstats``); the anonymous mappings
  themselves at the probes after a fit, a scoring and the end;
- with ``--trim``, ``trimmed``: the resident set right after ``malloc_trim(0)`` (every free
  page handed back: what stays is memory in use or pages shared with it).

``--cache-bytes N`` sizes the decode cache of the run (0: none) and ``--feed-bytes N`` the
rows of one call of the compiled fold fed from the files (``_compiled.FEED_BYTES``), to
take either out of the growth. ``--steps`` also records, after each training step of a
model whose steps are called apart (a CNN on CPU, ``_compiled._each_step``; it waits for
each step), the resident set and the high-water mark since the step before (``steps`` of
each probe). ``--parallel`` runs the sizes' processes at the same time; ``--probes
A,B`` reports the probe files of children run by hand (``--child DIR --out FILE``).

The parent prints each probe side by side for the sizes, the per-image growth of each, and
the allocation sites whose bytes at the probe of the largest Python heap grow most from the
smallest size to the largest. ``tracemalloc`` slows Python down (about 1.5x here); its own
bookkeeping is left out of the sites (it is in the resident set).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


class _Mallinfo2(ctypes.Structure):  # glibc >= 2.33: struct mallinfo2, size_t fields
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
            "uordblks", "fordblks", "keepcost",
        )
    ]  # fmt: skip


def _malloc() -> dict:
    """glibc's own count, summed over its arenas: ``malloc_used`` (bytes handed out and not
    freed, small blocks and mmapped ones) and ``malloc_free`` (freed bytes it keeps); empty
    where the C library is not glibc >= 2.33."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _Mallinfo2
        info = libc.mallinfo2()
    except (OSError, AttributeError):
        return {}
    return {"malloc_used": info.uordblks + info.hblkhd, "malloc_free": info.fordblks}


def _maps() -> dict:
    """The resident set by kind of mapping (``/proc/self/smaps``): ``brk_heap`` (glibc's main
    arena), ``anon`` (other anonymous memory: glibc's other arenas and its mmapped blocks,
    Python's object arenas, XLA's buffers) and ``file`` (mapped libraries and files); and
    ``py_arenas``: bytes of Python's small-object arenas (``sys._debugmallocstats``)."""
    out = {"brk_heap": 0, "anon": 0, "file": 0}
    kind = "anon"
    with open("/proc/self/smaps") as handle:
        for line in handle:
            head = line.split()
            if not head:
                continue
            if "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
                path = head[5] if len(head) > 5 else ""
                kind = (
                    "brk_heap" if path == "[heap]" else ("file" if path.startswith("/") else "anon")
                )
            elif head[0] == "Rss:":
                out[kind] += int(head[1]) * 1024
    with tempfile.TemporaryFile() as tmp:  # the stats go to the C stderr
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(tmp.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        text = tmp.read().decode(errors="replace")
    for line in text.splitlines():
        if line.startswith("# arenas allocated current"):
            arenas = int(line.split("=")[1].replace(",", ""))
        elif line.startswith("# bytes in allocated blocks"):
            out["py_used"] = int(line.split("=")[1].replace(",", ""))
    arena_bytes = (1 << 20) if sys.version_info >= (3, 10) else (256 << 10)
    out["py_arenas"] = arenas * arena_bytes
    return out


def _anon_maps() -> list:
    """``[(size, resident bytes, permissions)]`` of every anonymous mapping with resident
    pages (glibc's arena heaps are 64 MiB reservations, Python's arenas 1 MiB, thread
    stacks 8 MiB)."""
    out, current = [], None
    with open("/proc/self/smaps") as handle:
        for line in handle:
            head = line.split()
            if head and "-" in head[0] and not head[0].endswith(":") and len(head) >= 5:
                lo, hi = (int(v, 16) for v in head[0].split("-"))
                anon = len(head) == 5
                current = [hi - lo, 0, head[1]] if anon else None
                if anon:
                    out.append(current)
            elif current is not None and head and head[0] == "Rss:":
                current[1] = int(head[1]) * 1024
    return [tuple(m) for m in out if m[1]]


def _status() -> dict:
    """``VmRSS``, ``VmHWM`` (the process's high-water mark) and ``phase`` (the high-water
    mark since the previous call: the kernel's mark is reset through ``clear_refs``), glibc's
    counts (:func:`_malloc`) and, with ``--trim``, ``trimmed``: the resident set once glibc
    has given every free page back (``malloc_trim(0)``)."""
    out = {**_malloc(), **_maps()}
    with open("/proc/self/status") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) * 1024
    if _TRIM[0]:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    out["trimmed"] = int(line.split()[1]) * 1024
    _HIGH[0] = max(_HIGH[0], out["VmHWM"])
    out["phase"], out["VmHWM"] = out["VmHWM"], _HIGH[0]
    if _STEPS:  # the steps' marks were reset after each step: the phase's mark is theirs too
        out["phase"] = max(out["phase"], *(high for _, high in _STEPS))
        out["steps"] = list(_STEPS)
        _STEPS.clear()
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")  # the high-water mark starts again from the resident set
    except OSError:
        pass
    return out


_HIGH = [0]
_TRIM = [False]
_STEPS: list = []  # (resident set, high-water mark) after each training step since a probe


def _step_peak() -> None:
    """After one training step (``--steps``): the resident set and the high-water mark
    since the previous step (or probe), the mark reset again."""
    out = {}
    with open("/proc/self/status") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) * 1024
    _HIGH[0] = max(_HIGH[0], out["VmHWM"])
    _STEPS.append((out["VmRSS"], out["VmHWM"]))
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


def _site(trace, package: str) -> str:
    frames = list(trace.traceback)  # innermost first (tracemalloc's default order)
    for frame in frames:
        if package in frame.filename:
            name = frame.filename.split(package, 1)[1]
            return f"{package}{name}:{frame.lineno}"
    frame = frames[0]
    return f"{os.path.basename(frame.filename)}:{frame.lineno}"


def child(folder: str, out: str, epochs: int, strategies: str, frames: int) -> None:
    """Run compare on ``folder`` in this process with the probes; JSON lines to ``out``."""
    import logging
    import tracemalloc

    if frames:
        tracemalloc.start(frames)
    _TRIM[0] = os.environ.get("ATTRIBUTE_TRIM") == "1"
    if os.environ.get("ATTRIBUTE_FEED_BYTES"):  # bytes of rows per call of the fed program
        from keras_imbalance.comparison import _compiled

        _compiled.FEED_BYTES = int(os.environ["ATTRIBUTE_FEED_BYTES"])
    if os.environ.get("ATTRIBUTE_CACHE_BYTES"):  # the decode cache's size (0: none)
        from keras_imbalance.datasets import _images

        init, cache = _images.ImageFiles.__init__, int(os.environ["ATTRIBUTE_CACHE_BYTES"])

        def sized(self, *args, **kwargs):
            init(self, *args, **{**kwargs, "cache_bytes": cache})

        _images.ImageFiles.__init__ = sized
    records: list = []
    compiles: list = []

    class Compiles(logging.Handler):
        def emit(self, record):
            text = record.getMessage()
            if text.startswith("Compiling "):  # its name and argument shapes
                compiles.append(text.split(". Argument mapping")[0][:400])
            elif text.startswith("Finished XLA compilation"):
                compiles.append("Finished XLA")

    backend = os.environ.get("KERAS_BACKEND", "torch")
    if backend == "jax":
        import jax

        jax.config.update("jax_log_compiles", True)
        handler = Compiles(level=logging.DEBUG)
        for name in ("jax", "jax._src.interpreters.pxla", "jax._src.dispatch"):
            logging.getLogger(name).addHandler(handler)
            logging.getLogger(name).setLevel(logging.DEBUG)
            logging.getLogger(name).propagate = False

    from keras_imbalance import cli
    from keras_imbalance.comparison import _fold, _run

    files = {}  # the ImageFiles of the comparison, once read

    def probe(name: str, sites: bool = False) -> None:
        current, peak = tracemalloc.get_traced_memory()
        if frames:
            tracemalloc.reset_peak()
        record = {"probe": name, **_status(), "heap": current, "heap_peak": peak}
        if backend == "jax":
            import jax

            record["live"] = int(sum(a.nbytes for a in jax.live_arrays()))
            record["compiles"] = sum(c.startswith("Finished XLA") for c in compiles)
            from keras_imbalance.comparison import _compiled

            record["programs"] = len(_compiled._FUNCTIONS)
        source = files.get("x")
        if source is not None:
            if hasattr(source, "cached"):  # the slab of this branch
                entries = source.cached
            else:  # the OrderedDict of arrays before it
                entries = len(getattr(source, "_cache", {}))
            record["cache_entries"] = entries
            record["cache_bytes"] = entries * getattr(source, "_row_bytes", 0)
        if sites:
            record["anon_maps"] = _anon_maps()
        if sites and frames:
            snapshot = tracemalloc.take_snapshot().filter_traces(
                [tracemalloc.Filter(False, tracemalloc.__file__)]
            )
            grouped: dict = {}
            for trace in snapshot.traces:
                key = _site(trace, "keras_imbalance")
                grouped[key] = grouped.get(key, 0) + trace.size
            record["sites"] = grouped
        records.append(record)

    fit_fold, fold_rows = _fold.fit_fold, _run.fold_rows
    calls = {"fit": 0, "rows": 0}

    def traced_fit(model_fn, strategies, x, *args, **kwargs):
        files.setdefault("x", x)
        n = calls["fit"] = calls["fit"] + 1
        probe(f"fold {n}: before fit")
        out = fit_fold(model_fn, strategies, x, *args, **kwargs)
        probe(f"fold {n}: fitted", sites=True)
        return out

    def traced_rows(task, fitted, *args, **kwargs):
        out = fold_rows(task, fitted, *args, **kwargs)
        n = calls["rows"] = calls["rows"] + 1
        probe(f"fold {n}: scored", sites=True)
        return out

    _run.fit_fold = traced_fit
    _run.fold_rows = traced_rows

    def after(owner, method: str, name):
        original = getattr(owner, method)

        def wrapped(*args, **kwargs):
            out = original(*args, **kwargs)
            probe(f"fold {calls['fit']}: {name(args)}")
            return out

        setattr(owner, method, wrapped)

    from keras_imbalance.comparison import _packing

    after(_fold._Fold, "groups", lambda a: "rows drawn")
    after(_fold._Fold, "_pack", lambda a: "packed")
    after(_packing.CopyMonitor, "on_epoch_end", lambda a: f"epoch {a[1] + 1} scored")
    if backend == "jax":
        from keras_imbalance.comparison import _compiled

        after(_compiled._Run, "epoch", lambda a: f"epoch {a[1]} trained")
        if os.environ.get("ATTRIBUTE_STEPS") == "1":  # a mark after each step called apart
            each_step = _compiled._each_step

            def probed_steps(step, state, count, args_of):
                def probed(*args):
                    out = step(*args)
                    jax.block_until_ready(out)
                    _step_peak()
                    return out

                return each_step(probed, state, count, args_of)

            _compiled._each_step = probed_steps
    probe("start")
    with tempfile.TemporaryDirectory() as tmp:
        argv = [
            "compare", folder, "--cv", "2", "--epochs", str(epochs), "--strategies", strategies,
            "--jobs", "1", "--references", "none", "--results", os.path.join(tmp, "r.jsonl"),
            "--report", os.path.join(tmp, "r.html"), "--force",
        ]  # fmt: skip
        code = cli.main(argv)
    probe("end", sites=True)
    if code != 0:
        raise SystemExit(f"compare exited {code}")
    with open(out, "w") as handle:
        for r in records:
            handle.write(json.dumps(r) + "\n")
        handle.write(json.dumps({"compile_log": compiles}) + "\n")


def run_child(src, folder, backend, epochs, strategies, frames) -> list:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "probes.jsonl")
        env = dict(os.environ, PYTHONPATH=os.path.abspath(src), KERAS_BACKEND=backend)
        env.setdefault("OMP_NUM_THREADS", "1")
        env["KERAS_IMBALANCE_JAX_CACHE"] = "off"
        command = [
            sys.executable, os.path.abspath(__file__), "--child", folder, "--out", out,
            "--epochs", str(epochs), "--strategies", strategies, "--frames", str(frames),
        ]  # fmt: skip
        done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=tmp)
        if done.returncode != 0:
            raise SystemExit(done.stderr[-4000:])
        with open(out) as handle:
            return [json.loads(line) for line in handle]


def mib(v) -> str:
    return f"{v / 2**20:8.1f}"


def _named(records: list) -> list:
    """The probes, a repeated name numbered (``#2``...)."""
    seen: dict = {}
    out = []
    for r in records:
        if "probe" not in r:
            continue
        seen[r["probe"]] = seen.get(r["probe"], 0) + 1
        if seen[r["probe"]] > 1:
            r = {**r, "probe": f"{r['probe']} #{seen[r['probe']]}"}
        out.append(r)
    return out


def report(name: str, sizes: list, runs: dict) -> None:
    small, large = sizes[0], sizes[-1]
    extra = large - small
    a, b = _named(runs[small]), _named(runs[large])
    a = [r for r in a if r["probe"] in {q["probe"] for q in b}]
    b = {r["probe"]: r for r in b}
    b = [b[r["probe"]] for r in a]
    print(f"\n== {name}: {small} vs {large} images (MiB; growth in bytes per added image)")
    keys = ["VmRSS", "trimmed", "malloc_used", "malloc_free", "brk_heap", "anon", "file"]
    keys += ["py_arenas", "py_used", "phase", "VmHWM", "heap"]
    keys += ["heap_peak", "live", "cache_bytes"]
    keys = [k for k in keys if k in a[0] or k in a[-1]]
    print(f"{'probe':<26}" + "".join(f"{k:>22}" for k in keys) + f"{'compiles':>10}")
    for ra, rb in zip(a, b, strict=True):
        cells = []
        for k in keys:
            va, vb = ra.get(k, 0), rb.get(k, 0)
            cells.append(f"{mib(va)}{mib(vb)} {(vb - va) / extra:5.0f}")
        comp = f"{ra.get('compiles', '-')}/{rb.get('compiles', '-')}"
        print(f"{ra['probe']:<26}" + "".join(f"{c:>22}" for c in cells) + f"{comp:>10}")
    # sites at each probe with sites, largest growth first
    for ra, rb in zip(a, b, strict=True):
        if "sites" not in ra:
            continue
        sa, sb = ra["sites"], rb["sites"]
        growth = {k: sb.get(k, 0) - sa.get(k, 0) for k in set(sa) | set(sb)}
        top = sorted(growth, key=lambda k: -abs(growth[k]))[:12]
        print(f"-- {ra['probe']}: Python heap by site (bytes per added image, MiB at {large})")
        for k in top:
            if abs(growth[k]) < 1024:
                continue
            print(f"   {growth[k] / extra:9.1f} {mib(sb.get(k, 0))}  {k}")
    logs = [r["compile_log"] for r in (runs[small][-1], runs[large][-1]) if "compile_log" in r]
    if logs:
        done = [sum(c == "Finished XLA" for c in log) for log in logs]
        print(f"-- XLA compilations: {done[0]} at {small}, {done[-1]} at {large}")
        shapes = [{c for c in log if c != "Finished XLA"} for log in logs]
        for c in sorted(shapes[-1] - shapes[0])[:20]:
            print(f"   only at {large}: {c[:200]}")
        for c in sorted(shapes[0] - shapes[-1])[:20]:
            print(f"   only at {small}: {c[:200]}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "kiimg"))
    parser.add_argument("--sizes", default="1000,3000")
    parser.add_argument("--src", action="append", default=None, help="NAME=PYTHONPATH")
    parser.add_argument("--backend", default=os.environ.get("KERAS_BACKEND", "jax"))
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--strategies", default="none,balanced")
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument(
        "--trim", action="store_true", help="also the resident set after malloc_trim(0)"
    )
    parser.add_argument(
        "--cache-bytes", type=int, default=None, help="the decode cache's size (0: none)"
    )
    parser.add_argument(
        "--feed-bytes", type=int, default=None, help="bytes of rows per call of the fed program"
    )
    parser.add_argument("--child", default=None)
    parser.add_argument("--out", default=None)
    parser.add_argument("--json", default=None, help="also write every probe to this file")
    parser.add_argument(
        "--probes",
        default=None,
        help="FILE,FILE: report the children's probe files (--out) of --sizes, run nothing",
    )
    parser.add_argument(
        "--steps",
        action="store_true",
        help="also the high-water mark of each training step called apart (waits for each)",
    )
    parser.add_argument(
        "--parallel", action="store_true", help="the sizes' processes at the same time"
    )
    args = parser.parse_args()
    if args.child:
        child(args.child, args.out, args.epochs, args.strategies, args.frames)
        return
    if args.probes:
        sizes = [int(s) for s in args.sizes.split(",")]
        runs = {}
        for n, path in zip(sizes, args.probes.split(","), strict=True):
            with open(path) as handle:
                runs[n] = [json.loads(line) for line in handle]
        report(args.probes, sizes, runs)
        return
    sys.path.insert(0, HERE)
    from bench_image_memory import write_folder

    if args.trim:  # the children read it
        os.environ["ATTRIBUTE_TRIM"] = "1"
    if args.steps:
        os.environ["ATTRIBUTE_STEPS"] = "1"
    if args.feed_bytes is not None:
        os.environ["ATTRIBUTE_FEED_BYTES"] = str(args.feed_bytes)
    if args.cache_bytes is not None:
        os.environ["ATTRIBUTE_CACHE_BYTES"] = str(args.cache_bytes)
    sizes = [int(s) for s in args.sizes.split(",")]
    sources = [s.split("=", 1) for s in (args.src or ["this=src"])]
    for n in sizes:
        write_folder(os.path.join(args.dir, f"n{n}"), n)
    print(f"backend {args.backend}, load {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    everything = {}
    for name, src in sources:
        jobs = {
            n: (src, os.path.join(args.dir, f"n{n}"), args.backend, args.epochs, args.strategies)
            for n in sizes
        }
        if args.parallel:  # one thread per child: each waits on its own process
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(len(sizes)) as pool:
                done = {n: pool.submit(run_child, *jobs[n], args.frames) for n in sizes}
                runs = {n: done[n].result() for n in sizes}
        else:
            runs = {n: run_child(*jobs[n], args.frames) for n in sizes}
        everything[name] = runs
        report(name, sizes, runs)
    print(f"load at the end {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({k: {str(n): r for n, r in v.items()} for k, v in everything.items()}, handle)


if __name__ == "__main__":
    main()
