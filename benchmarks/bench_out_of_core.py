"""Benchmark: data larger than memory (issue 24).

    OMP_NUM_THREADS=1 KERAS_BACKEND=torch python benchmarks/bench_out_of_core.py [PART ...]
        [--rows N] [--dir DIR]

Parts (default: all):

- ``counts``: ``class_counts(DIR, target="label")`` over a Parquet dataset of ``--rows``
  labels (10 files, row groups of 1M rows, an int64 label column beside a float32 feature
  column) against ``pandas.read_parquet(columns=["label"]).value_counts()``: labels/s and peak
  memory above the interpreter.
- ``batches``: ``BalancedBatches.from_parquet`` over 1e6 x 64 float32 (64 columns, row groups
  of 65,536 rows, 1 % minority, batch 256) and ``BalancedBatches(memmap, y)``; rows/s of the
  first (cold) and second epoch, exact class counts, memory; torch's ``WeightedRandomSampler``
  with a map-style dataset over the same memmap, side by side.
- ``plan``: the plan over 5e7 labels (past 2**24): build time, time per epoch of indices,
  exact per-class counts.
- ``stream``: ``rebalance`` on a 1:100 stream: achieved shares over windows, rows read per
  row yielded, rows held; tf.data's ``rejection_resample`` (target 0.5/0.5, the initial
  distribution estimated online) on the same stream, only when tensorflow imports.
- ``ddp``: two processes with ``torch.distributed`` (gloo, CPU) drawing with
  ``num_replicas=2``: disjoint shares whose union is the single-process epoch.

Each measurement runs in its own subprocess. Memory = the peak resident set (``VmHWM``, reset
after the imports through ``/proc/self/clear_refs``) minus the resident set after the imports
(``VmRSS``), so it includes file pages the process maps (a memmap's pages count).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _status(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _reset_peak() -> float:
    """Reset the peak RSS to the current one; returns the current RSS in MB."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    return _status("VmRSS")


def _child(code: str) -> dict:
    """Run ``code`` (which sets ``result``) in a fresh interpreter; returns ``result``."""
    script = (
        "import json, sys\n"
        f"sys.path.insert(0, {HERE!r})\n"
        "from bench_out_of_core import _reset_peak, _status\n"
        + code
        + "\nprint('RESULT ' + json.dumps(result))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(out.stderr[-3000:])


# --------------------------------------------------------------------------- counts


def write_labels(folder: str, rows: int) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    per_file = rows // 10
    for i in range(10):
        y = rng.choice(4, size=per_file, p=[0.97, 0.02, 0.009, 0.001]).astype(np.int64)
        x = rng.standard_normal(per_file, dtype=np.float32)
        pq.write_table(
            pa.table({"x": x, "label": y}),
            os.path.join(folder, f"part-{i:02d}.parquet"),
            row_group_size=1_000_000,
        )


def bench_counts(folder: str, rows: int) -> dict:
    if not os.path.isdir(folder):
        t0 = time.perf_counter()
        write_labels(folder, rows)
        print(f"wrote {rows:,} rows in {time.perf_counter() - t0:.1f} s", flush=True)
    ours = _child(
        "import time\n"
        "from keras_imbalance import class_counts\n"
        "import pyarrow.parquet, pyarrow.compute\n"
        "base = _reset_peak()\n"
        "t0 = time.perf_counter()\n"
        f"counts = class_counts({folder!r}, target='label')\n"
        "seconds = time.perf_counter() - t0\n"
        "result = {'seconds': seconds, 'extra_mb': _status('VmHWM') - base,"
        " 'counts': {str(k): v for k, v in counts.items()}}\n"
    )
    pandas = _child(
        "import time\n"
        "import pandas as pd, pyarrow.parquet\n"
        "base = _reset_peak()\n"
        "t0 = time.perf_counter()\n"
        f"counts = pd.read_parquet({folder!r}, columns=['label'])['label'].value_counts()\n"
        "seconds = time.perf_counter() - t0\n"
        "result = {'seconds': seconds, 'extra_mb': _status('VmHWM') - base,"
        " 'counts': {str(k): int(v) for k, v in counts.sort_index().items()}}\n"
    )
    n = sum(ours["counts"].values())
    assert ours["counts"] == pandas["counts"], (ours["counts"], pandas["counts"])
    return {
        "rows": n,
        "ours_labels_per_s": n / ours["seconds"],
        "ours_seconds": ours["seconds"],
        "ours_extra_mb": ours["extra_mb"],
        "pandas_labels_per_s": n / pandas["seconds"],
        "pandas_seconds": pandas["seconds"],
        "pandas_extra_mb": pandas["extra_mb"],
        "counts": ours["counts"],
    }


# --------------------------------------------------------------------------- batches

N, D, BATCH = 1_000_000, 64, 256


def write_rows(folder: str) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, D), dtype=np.float32)
    y = (rng.random(N) < 0.01).astype(np.int64)
    columns = {f"f{j}": x[:, j] for j in range(D)}
    columns["label"] = y
    pq.write_table(pa.table(columns), os.path.join(folder, "rows.parquet"), row_group_size=65_536)
    mm = np.lib.format.open_memmap(
        os.path.join(folder, "x.npy"), mode="w+", dtype=np.float32, shape=(N, D)
    )
    mm[:] = x
    mm.flush()
    np.save(os.path.join(folder, "y.npy"), y)


_EPOCHS = (
    "import time\n"
    "import numpy as np\n"
    "def epochs(ds, count=2, limit=None):\n"
    "    out = []\n"
    "    for e in range(count):\n"
    "        ds.epoch = e\n"
    "        t0 = time.perf_counter(); rows = 0; classes = 0\n"
    "        for i in range(min(len(ds), limit or len(ds))):\n"
    "            xb, yb = ds[i]\n"
    "            rows += len(yb); classes = classes + np.bincount(yb, minlength=2)\n"
    "        out.append({'rows_per_s': rows / (time.perf_counter() - t0),"
    " 'class_counts': classes.tolist()})\n"
    "    return out\n"
)


def bench_batches(folder: str) -> dict:
    if not os.path.exists(os.path.join(folder, "rows.parquet")):
        t0 = time.perf_counter()
        write_rows(folder)
        print(f"wrote 1e6 x 64 rows in {time.perf_counter() - t0:.1f} s", flush=True)
    results = {}
    rows = os.path.join(folder, "rows.parquet")
    # pyarrow's first read maps its Parquet code and starts its pools (~50 MB, once per
    # process): "extra_mb" counts it (from after the imports), "extra_after_first_read_mb"
    # starts after reading a 10-row file
    warm = (
        "import pyarrow as pa, pyarrow.parquet as pq, tempfile, os\n"
        "base = _reset_peak()\n"
        "tiny = os.path.join(tempfile.mkdtemp(), 't.parquet')\n"
        "pq.write_table(pa.table({'a': np.zeros(10, np.float32)}), tiny)\n"
        "pq.ParquetFile(tiny).read_row_group(0)\n"
        "warm = _reset_peak()\n"
    )
    # at the end: the resident set split into file pages mapped (a memmap's) and the
    # process's own memory; the page cache holding a spill file read by pread is in neither
    memory = (
        " 'extra_mb': _status('VmHWM') - base,"
        " 'extra_after_first_read_mb': _status('VmHWM') - warm,"
        " 'end_rss_file_mb': _status('RssFile'), 'end_rss_anon_mb': _status('RssAnon')}\n"
    )
    for label, cache, spill, limit in (
        ("cache_256MiB", 256 * 2**20, None, None),
        ("cache_64MiB_spill_False", 64 * 2**20, False, 10),
        ("cache_64MiB_auto_spill", 64 * 2**20, None, None),
    ):
        results[f"parquet_{label}"] = _child(
            _EPOCHS
            + "from keras_imbalance.sampling import BalancedBatches\n"
            + warm
            + "t0 = time.perf_counter()\n"
            f"ds = BalancedBatches.from_parquet({rows!r}, target='label', batch_size={BATCH},"
            f" random_state=0, cache_bytes={cache}, spill={spill})\n"
            "build = time.perf_counter() - t0\n"
            f"runs = epochs(ds, limit={limit})\n"
            "result = {'build_s (auto spill: includes decoding into it)': build, 'epochs': runs,"
            " 'epoch_size': ds.epoch_size,"
            " 'spilled': type(ds._source.x).__name__ in ('memmap', 'SpilledRows'),"
            " 'decoded_row_groups': getattr(ds._source.x, 'decoded', None)," + memory
        )
        print(label, results[f"parquet_{label}"], flush=True)
    results["in_memory"] = _child(
        _EPOCHS + "from keras_imbalance.sampling import BalancedBatches\n"
        f"x = np.array(np.load({os.path.join(folder, 'x.npy')!r}, mmap_mode='r'))\n"
        f"y = np.load({os.path.join(folder, 'y.npy')!r})\n"
        "base = _reset_peak()\n"
        f"ds = BalancedBatches(x, y, batch_size={BATCH}, random_state=0)\n"
        "runs = epochs(ds)\n"
        "result = {'epochs': runs, 'extra_mb': _status('VmHWM') - base}\n"
    )
    print(results["in_memory"], flush=True)
    results["memmap"] = _child(
        _EPOCHS + "from keras_imbalance.sampling import BalancedBatches\n"
        f"x = np.load({os.path.join(folder, 'x.npy')!r}, mmap_mode='r')\n"
        f"y = np.load({os.path.join(folder, 'y.npy')!r})\n"
        "base = _reset_peak()\n"
        "t0 = time.perf_counter()\n"
        f"ds = BalancedBatches(x, y, batch_size={BATCH}, random_state=0)\n"
        "build = time.perf_counter() - t0\n"
        "runs = epochs(ds)\n"
        "result = {'build_s': build, 'epochs': runs, 'epoch_size': ds.epoch_size,"
        " 'copied': ds._source.x is not x, 'extra_mb': _status('VmHWM') - base}\n"
    )
    print(results["memmap"], flush=True)
    results["torch_weighted_sampler_memmap"] = _child(
        "import time\n"
        "import numpy as np, torch\n"
        f"x = np.load({os.path.join(folder, 'x.npy')!r}, mmap_mode='r')\n"
        f"y = np.load({os.path.join(folder, 'y.npy')!r})\n"
        "class Rows(torch.utils.data.Dataset):\n"
        "    def __len__(self): return len(y)\n"
        "    def __getitem__(self, i): return torch.from_numpy(np.array(x[i])), int(y[i])\n"
        "weights = torch.as_tensor(1.0 / np.bincount(y)[y])\n"
        "base = _reset_peak()\n"
        "sampler = torch.utils.data.WeightedRandomSampler(weights, num_samples=len(y))\n"
        f"loader = torch.utils.data.DataLoader(Rows(), batch_size={BATCH}, sampler=sampler)\n"
        "t0 = time.perf_counter(); rows = 0; ones = 0\n"
        "for i, (xb, yb) in enumerate(loader):\n"
        "    rows += len(yb); ones += int(yb.sum())\n"
        "    if i == 400: break\n"
        "result = {'rows_per_s': rows / (time.perf_counter() - t0), 'rows': rows,"
        " 'minority_share': ones / rows, 'extra_mb': _status('VmHWM') - base}\n"
    )
    print(results["torch_weighted_sampler_memmap"], flush=True)
    return results


# --------------------------------------------------------------------------- plan


def bench_plan(rows: int = 50_000_000) -> dict:
    return _child(
        "import time\n"
        "import numpy as np\n"
        "from keras_imbalance.sampling._inputs import _prepare\n"
        f"y = (np.random.default_rng(0).random({rows}) < 0.01).astype(np.int8)\n"
        "base = _reset_peak()\n"
        "t0 = time.perf_counter()\n"
        "_, plan = _prepare(None, y, batch_size=65536, random_state=0, need_x=False)\n"
        "build = time.perf_counter() - t0\n"
        "t0 = time.perf_counter(); counts = np.zeros(2, np.int64); n = 0\n"
        "for i in range(plan.num_batches):\n"
        "    d = plan.draws(0, i)\n"
        "    counts += np.bincount(d.cls, minlength=2); n += len(d.index)\n"
        "epoch = time.perf_counter() - t0\n"
        "first = plan.draws(0, 0).index; last = plan.draws(0, plan.num_batches - 1).index\n"
        "result = {'labels': len(y), 'build_s': build, 'epoch_s': epoch, 'draws': n,"
        " 'draws_per_s': n / epoch, 'class_counts': counts.tolist(),"
        " 'expected': plan.class_draws.tolist(), 'max_row': int(max(first.max(), last.max())),"
        " 'extra_mb': _status('VmHWM') - base, 'pool_mb': plan.pools.nbytes / 2**20}\n"
    )


# --------------------------------------------------------------------------- stream


def bench_stream(rows: int = 200_000, buffer_size: int = 1024, tf_rows: int = 50_000) -> dict:
    result = _child(
        "import time\n"
        "import numpy as np\n"
        "from keras_imbalance.sampling import rebalance\n"
        f"rows, buffer = {rows}, {buffer_size}\n"
        "x = np.zeros(8, np.float32)\n"
        "def stream():\n"
        "    for i in range(rows):\n"
        "        yield x, int(i % 101 == 0)\n"
        "base = _reset_peak()\n"
        "t0 = time.perf_counter()\n"
        "out = rebalance(stream(), buffer_size=buffer, random_state=0)\n"
        "labels = np.fromiter((y for _, y in out), dtype=np.int8)\n"
        "seconds = time.perf_counter() - t0\n"
        "start = int(np.argmax(labels == 1)); w = 10 * buffer\n"
        "hits = np.concatenate([[0], np.cumsum(labels[start:] == 1)])\n"
        "share = (hits[w:] - hits[:-w]) / w\n"
        "result = {'rows_read': out.read, 'rows_yielded': int(labels.size),"
        " 'read_per_yielded': out.read / labels.size, 'share_1': float(labels.mean()),"
        " 'window_share_min': float(share.min()), 'window_share_max': float(share.max()),"
        " 'replays_per_rare_row': out.replays_per_row[1], 'max_rows_held': out.max_held,"
        " 'rows_per_s': labels.size / seconds, 'extra_mb': _status('VmHWM') - base}\n"
    )
    import importlib.util

    if importlib.util.find_spec("tensorflow") is None:
        result["tensorflow"] = "not installed: rejection_resample not measured"
        return result
    # tf.data runs a Python generator at a few thousand rows/s and rejection_resample reads
    # it more than once, so the tf stream is shorter (same 1:100 pattern)
    result["tf_rejection_resample"] = _child(
        "import os, time\n"
        "os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')\n"
        "import numpy as np\n"
        "import tensorflow as tf\n"
        f"rows, buffer = {tf_rows}, {buffer_size}\n"
        "x = np.zeros(8, np.float32)\n"
        "read = [0]\n"
        "def stream():\n"
        "    for i in range(rows):\n"
        "        read[0] += 1\n"
        "        yield x, int(i % 101 == 0)\n"
        "spec = (tf.TensorSpec((8,), tf.float32), tf.TensorSpec((), tf.int32))\n"
        "ds = tf.data.Dataset.from_generator(stream, output_signature=spec)\n"
        "out = ds.rejection_resample(lambda x, y: y, target_dist=[0.5, 0.5], seed=0)\n"
        "base = _reset_peak()\n"
        "t0 = time.perf_counter()\n"
        "labels = np.fromiter((int(y) for _, (_, y) in out), dtype=np.int8)\n"
        "seconds = time.perf_counter() - t0\n"
        "def windows(w):\n"
        "    if labels.size < w:\n"
        "        return None\n"
        "    hits = np.concatenate([[0], np.cumsum(labels == 1)])\n"
        "    share = (hits[w:] - hits[:-w]) / w\n"
        "    return [float(share.min()), float(share.max())]\n"
        "result = {'rows_read': read[0], 'rows_yielded': int(labels.size),"
        " 'read_per_yielded': read[0] / max(labels.size, 1), 'share_1': float(labels.mean()),"
        " 'window_share_min_max_10x_buffer': windows(10 * buffer),"
        " 'window_share_min_max_500': windows(500),"
        " 'rows_per_s': labels.size / seconds, 'extra_mb': _status('VmHWM') - base,"
        " 'tensorflow': tf.__version__}\n"
    )
    return result


# --------------------------------------------------------------------------- ddp


def _ddp_worker(rank: int, world: int, port: int, queue) -> None:
    import numpy as np
    import torch.distributed as dist

    from keras_imbalance.sampling import BalancedSampler

    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world
    )
    y = (np.random.default_rng(0).random(200_000) < 0.01).astype(np.int64)
    sampler = BalancedSampler(
        y, batch_size=128, random_state=0, num_replicas=dist.get_world_size(), rank=dist.get_rank()
    )
    sampler.set_epoch(3)
    mine = list(sampler)
    gathered = [None] * world
    dist.all_gather_object(gathered, mine)
    if rank == 0:
        whole = BalancedSampler(y, batch_size=128 * world, random_state=0)
        whole.set_epoch(3)
        single = list(whole)
        merged = [v for t in zip(*gathered, strict=False) for v in t]
        queue.put(
            {
                "num_replicas": sampler.num_replicas,
                "share_lengths": [len(g) for g in gathered],
                "union_equals_single_epoch": sorted(sum(gathered, [])) == sorted(single),
                "slot_order_equals_single_epoch": merged == single,
                "epoch_size": len(single),
            }
        )
    dist.destroy_process_group()


def bench_ddp() -> dict:
    import socket

    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_ddp_worker, args=(r, 2, port, queue)) for r in range(2)]
    for p in procs:
        p.start()
    result = queue.get(timeout=300)
    for p in procs:
        p.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("parts", nargs="*", default=["counts", "batches", "plan", "stream", "ddp"])
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "ki-out-of-core"))
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()}", flush=True)
    for part in args.parts:
        t0 = time.perf_counter()
        if part == "counts":
            result = bench_counts(os.path.join(args.dir, f"labels-{args.rows}"), args.rows)
        elif part == "batches":
            result = bench_batches(os.path.join(args.dir, "rows"))
        elif part == "plan":
            result = bench_plan()
        elif part == "stream":
            result = bench_stream()
        elif part == "ddp":
            result = bench_ddp()
        else:
            raise SystemExit(f"unknown part {part!r}")
        print(json.dumps({part: result, "seconds": time.perf_counter() - t0}, indent=1), flush=True)
        print(f"load average: {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
