"""A convolutional model's training steps on the JAX CPU backend: inside a compiled loop or apart.

Two measurements (2-core container shared with other jobs; run each part on a quiet machine
where you can, and read ratios within one run, not absolute times):

    OMP_NUM_THREADS=1 python benchmarks/bench_conv_steps.py steps
    OMP_NUM_THREADS=1 python benchmarks/bench_conv_steps.py faults --copies 34 --batch 36
    OMP_NUM_THREADS=1 python benchmarks/bench_conv_steps.py pooling --batch 240
    OMP_NUM_THREADS=1 python benchmarks/bench_conv_steps.py job --dir /tmp/h21/digits745 \\
        --src new=src --src old=/tmp/old/src --rounds 2 -- --strategies balanced --cv 3 --epochs 15

``steps``: the default ``cnn_model`` on 28 x 28 x 3 images, ``--copies`` copies of ``--batch``
rows, ``--steps`` training steps (gradient and an SGD update, one thread): the steps as one
Python loop of jitted steps, as ``jax.lax.fori_loop`` / ``jax.lax.scan`` inside one program,
and the scan unrolled; then the copies of one step as ``jax.lax.map`` (a loop), ``jax.vmap``
(grouped convolutions) and unrolled. The compiled fold chose a loop for both until XLA's
gradients of convolutions inside loops were measured here.

``faults``: one training step of ``--copies`` unrolled copies called 10 times (as the compiled
fold calls a convolutional model's steps apart): user and system CPU seconds and the minor
page faults of the process over those calls (memory the step's temporaries take fresh from
the kernel at every call).

``pooling``: the gradient of the default ``cnn_model`` on ``--batch`` rows of 28 x 28 x 3
(jitted, one copy, CPU seconds of every thread, best of 10) with Keras' max pooling (JAX's
``reduce_window``, whose gradient XLA computes as a select-and-scatter) and inside
``comparison._pooling.window_pooling`` (the same maximum as a reshape), then the pooling's
gradient alone on ``(batch, 28, 28, 16)``; the largest difference of the two gradients.

``bound``: ``keras-imbalance compare DIR`` (the arguments after ``--``) in this process,
counting the arithmetic it did: per epoch, the rows each still-training copy trains on (its own
rows, no padding), and every row a copy predicts, times the model's multiply-adds per row
(each kernel's size times its output positions: 2 FLOPs per multiply-add forward, 4 backward,
2 for the first layer, which needs no gradient of its input). Divided by two measured rates of
this machine, per core (FLOPs over the CPU seconds of every thread of the process): a 1024 x
1024 float32 matrix product (jax, best of 20: the issue's "matmul rate") and one training step
of the lone model on 240 rows (jax's jitted gradient, best of 5: the fastest XLA computes this
model here). The lower bound in seconds is FLOPs / rate / cores: no engine on these cores
does the same arithmetic in less.

    OMP_NUM_THREADS=1 python benchmarks/bench_conv_steps.py bound --dir /tmp/h21/digits745

``job``: ``keras-imbalance compare DIR`` with the arguments after ``--``, once per ``--src``
tree (``name=path`` of a ``src`` folder) in a fresh process, alternating, ``--rounds`` times;
wall and CPU seconds of each process (``resource``) and the load average around it.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def steps(copies: int, batch: int, n_steps: int) -> None:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import jax
    import jax.numpy as jnp
    import numpy as np

    from keras_imbalance.comparison import cnn_model

    model = cnn_model((28, 28, 3), 10)
    tv = [v.value for v in model.trainable_variables]
    ntv = [v.value for v in model.non_trainable_variables]
    rng = np.random.default_rng(0)

    def loss(t, x):
        return jnp.mean(model.stateless_call(t, ntv, x, training=False)[0] ** 2)

    def step(t, x):
        return [a - 1e-3 * g for a, g in zip(t, jax.grad(loss)(t, x), strict=True)]

    def timed(fn, repeat=3) -> float:
        jax.block_until_ready(fn())  # compiles
        start = time.perf_counter()
        for _ in range(repeat):
            jax.block_until_ready(fn())
        return (time.perf_counter() - start) / repeat * 1e3

    xs = jnp.asarray(rng.random((n_steps, batch, 28, 28, 3), dtype=np.float32))
    one = jax.jit(step)

    def apart():
        t = tv
        for i in range(n_steps):
            t = one(t, xs[i])
        return t

    looped = jax.jit(lambda t, xs: jax.lax.fori_loop(0, n_steps, lambda i, t: step(t, xs[i]), t))
    scanned = jax.jit(lambda t, xs: jax.lax.scan(lambda t, x: (step(t, x), None), t, xs)[0])
    unrolled = jax.jit(
        lambda t, xs: jax.lax.scan(lambda t, x: (step(t, x), None), t, xs, unroll=True)[0]
    )
    print(f"{n_steps} steps of {batch} rows, one copy (ms); load {_load()}")
    print(f"  a Python loop of jitted steps  {timed(apart):8.1f}")
    print(f"  jax.lax.fori_loop              {timed(lambda: looped(tv, xs)):8.1f}")
    print(f"  jax.lax.scan                   {timed(lambda: scanned(tv, xs)):8.1f}")
    print(f"  jax.lax.scan, unrolled         {timed(lambda: unrolled(tv, xs)):8.1f}")

    stacked = [jnp.stack([v] * copies) for v in tv]
    xc = jnp.asarray(rng.random((copies, batch, 28, 28, 3), dtype=np.float32))

    def call(a):
        return model.stateless_call(a[0], ntv, a[1], training=False)[0]

    def grad_of(over):
        return jax.jit(jax.grad(lambda st, xc: jnp.mean(over(st, xc) ** 2)))

    mapped = grad_of(lambda st, xc: jax.lax.map(call, (st, xc)))
    vmapped = grad_of(lambda st, xc: jax.vmap(lambda t, x: call((t, x)))(st, xc))
    unrolled_c = grad_of(
        lambda st, xc: jax.lax.scan(lambda c, a: (c, call(a)), None, (st, xc), unroll=True)[1]
    )
    print(f"the gradient of {copies} copies of {batch} rows, one step (ms); load {_load()}")
    print(f"  jax.lax.map                    {timed(lambda: mapped(stacked, xc)):8.1f}")
    print(f"  jax.vmap (grouped convolution) {timed(lambda: vmapped(stacked, xc)):8.1f}")
    print(f"  unrolled                       {timed(lambda: unrolled_c(stacked, xc)):8.1f}")


def faults(copies: int, batch: int) -> None:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import jax
    import jax.numpy as jnp
    import numpy as np

    from keras_imbalance.comparison import cnn_model

    model = cnn_model((28, 28, 3), 10)
    tv = [v.value for v in model.trainable_variables]
    ntv = [v.value for v in model.non_trainable_variables]
    stacked = [jnp.stack([v] * copies) for v in tv]
    xc = jnp.asarray(np.random.default_rng(0).random((copies, batch, 28, 28, 3), np.float32))

    def loss(st, xc):
        def call(carry, a):
            return carry, model.stateless_call(a[0], ntv, a[1], training=True)[0]

        return jnp.mean(jax.lax.scan(call, None, (st, xc), unroll=True)[1] ** 2)

    grad = jax.jit(jax.grad(loss))
    jax.block_until_ready(grad(stacked, xc))  # compiles
    before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    for _ in range(10):
        jax.block_until_ready(grad(stacked, xc))
    after, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - start
    print(
        f"{copies} copies x {batch} rows, 10 calls: wall {wall:.2f} s, user "
        f"{after.ru_utime - before.ru_utime:.2f} s, system {after.ru_stime - before.ru_stime:.2f}"
        f" s, minor page faults {after.ru_minflt - before.ru_minflt:,}; load {_load()}"
    )


def pooling(batch: int) -> None:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import jax
    import jax.numpy as jnp
    import keras
    import numpy as np

    from keras_imbalance.comparison import cnn_model
    from keras_imbalance.comparison._pooling import window_pooling

    model = cnn_model((28, 28, 3), 10)
    tv = [v.value for v in model.trainable_variables]
    ntv = [v.value for v in model.non_trainable_variables]
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.random((batch, 28, 28, 3), np.float32))
    h = jnp.asarray(rng.random((batch, 28, 28, 16), np.float32))

    def cpu_ms(fn, *args) -> float:
        jax.block_until_ready(fn(*args))
        best = float("inf")
        for _ in range(10):
            t = time.process_time()
            jax.block_until_ready(fn(*args))
            best = min(best, time.process_time() - t)
        return best * 1e3

    def loss(t, x):
        return jnp.mean(model.stateless_call(t, ntv, x, training=True)[0] ** 2)

    def pooled(a):
        return jnp.sum(keras.ops.max_pool(a, 2, 2, "same") ** 2)

    keras_grad, keras_pool = jax.jit(jax.grad(loss)), jax.jit(jax.grad(pooled))
    theirs = {"grad": cpu_ms(keras_grad, tv, x), "pool": cpu_ms(keras_pool, h)}  # traced here
    with window_pooling():  # traced (and compiled) inside the context
        grad, pool = jax.jit(jax.grad(loss)), jax.jit(jax.grad(pooled))
        mine = {"grad": cpu_ms(grad, tv, x), "pool": cpu_ms(pool, h)}
    diff = max(
        float(jnp.abs(a - b).max()) for a, b in zip(grad(tv, x), keras_grad(tv, x), strict=True)
    )
    print(
        f"cnn_model gradient, {batch} rows: Keras' pooling {theirs['grad']:.1f} ms,"
        f" window pooling {mine['grad']:.1f} ms (CPU, best of 10); the pooling's gradient alone"
        f" {theirs['pool']:.1f} ms vs {mine['pool']:.1f} ms; largest difference of the"
        f" gradients {diff:.2g}; load {_load()}"
    )


def _macs(lone) -> tuple:
    """Multiply-adds per row of ``lone``'s kernels (a convolution's kernel size times its output
    positions, a dense kernel's size): all of them, and the first layer's."""
    import numpy as np

    per = []
    for layer in lone.layers:
        kernel = getattr(layer, "kernel", None)
        if kernel is None:
            continue
        out = tuple(layer.output.shape)
        positions = int(np.prod(out[1:-1])) if len(out) > 2 else 1
        per.append(int(np.prod(kernel.shape)) * positions)
    return sum(per), per[0]


def _per_core(fn, args, flops: float, repeats: int) -> float:
    """FLOP/s per core of ``fn(*args)`` (jitted): ``flops`` over the fewest CPU seconds of the
    process (every thread) that one call took, best of ``repeats``; a program XLA spreads over
    both cores counts both."""
    import jax

    jax.block_until_ready(fn(*args))  # compiles
    best = float("inf")
    for _ in range(repeats):
        t = time.process_time()
        jax.block_until_ready(fn(*args))
        best = min(best, time.process_time() - t)
    return flops / best


def _rates(lone, rows: int, train_flops: float) -> tuple:
    """Per-core FLOP/s of a 1024 x 1024 float32 matrix product and of one training step
    (gradient and an SGD update) of ``lone`` on ``rows`` rows, both jitted by jax."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    rng = np.random.default_rng(0)
    a, b = (jnp.asarray(rng.normal(size=(1024, 1024)).astype(np.float32)) for _ in range(2))
    matmul = _per_core(jax.jit(jnp.matmul), (a, b), 2.0 * 1024**3, 20)
    tv = [v.value for v in lone.trainable_variables]
    ntv = [v.value for v in lone.non_trainable_variables]
    x = jnp.asarray(rng.random((rows, *lone.input_shape[1:]), np.float32))

    def loss(t):
        return jnp.mean(lone.stateless_call(t, ntv, x, training=True)[0] ** 2)

    step = jax.jit(lambda t: [a - 1e-3 * g for a, g in zip(t, jax.grad(loss)(t), strict=True)])
    return matmul, _per_core(step, (tv,), train_flops * rows, 5)


def bound(folder: str, extra: list) -> None:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import json

    from keras_imbalance import cli
    from keras_imbalance.comparison import _compiled

    count = {"train": 0.0, "predict": 0.0, "train_rows": 0, "copy_epochs": 0}
    macs: dict = {}

    def of(lone) -> tuple:
        if id(lone) not in macs:
            macs[id(lone)] = (*_macs(lone), lone)
        return macs[id(lone)]

    real_epoch, real_logits, real_predict = (
        _compiled._Run.epoch,
        _compiled.Stacked.logits,
        _compiled.predict,
    )

    def epoch(self, e, retired):
        ahead = self.ahead
        draws = ahead[1] if ahead is not None and ahead[0] == e else self.rows.draws(e)
        rows = sum(r.size for c, (r, _) in enumerate(draws) if c not in retired)
        total, first, _ = of(self.model.lone)
        count["train"] += (6.0 * total - 2.0 * first) * rows
        count["train_rows"] += rows
        count["copy_epochs"] += len(draws) - len(retired)
        return real_epoch(self, e, retired)

    def logits(self, x):
        count["predict"] += 2.0 * of(self.lone)[0] * x.shape[0] * len(self.slots)
        return real_logits(self, x)

    def predict(model_fn, lone, x):
        count["predict"] += 2.0 * of(lone)[0] * x.shape[0]
        return real_predict(model_fn, lone, x)

    _compiled._Run.epoch, _compiled.Stacked.logits, _compiled.predict = epoch, logits, predict
    with tempfile.TemporaryDirectory() as out:
        args = ["compare", folder, "--results", os.path.join(out, "r.jsonl")]
        args += ["--report", os.path.join(out, "r.html"), *extra]
        load, before = _load(), resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        code = cli.main(args)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_SELF)
    flops = count["train"] + count["predict"]
    total, first, lone = next(iter(macs.values()))
    matmul, step = _rates(lone, 240, 6.0 * total - 2.0 * first)
    cores = len(os.sched_getaffinity(0))
    print(
        json.dumps(
            {
                "rc": code,
                "tflop": round(flops / 1e12, 3),
                "train_tflop": round(count["train"] / 1e12, 3),
                "train_rows": count["train_rows"],
                "copy_epochs": count["copy_epochs"],
                "mflop_per_train_row": round((6.0 * total - 2.0 * first) / 1e6, 2),
                "matmul_gflops_per_core": round(matmul / 1e9, 1),
                "train_step_gflops_per_core": round(step / 1e9, 1),
                "cores": cores,
                "bound_s_matmul": round(flops / matmul / cores, 1),
                "bound_s_train_step": round(flops / step / cores, 1),
                "compare_wall_s": round(wall, 1),
                "compare_user_s": round(after.ru_utime - before.ru_utime, 1),
                "compare_system_s": round(after.ru_stime - before.ru_stime, 1),
                "load": f"{load} -> {_load()}",
            }
        ),
        flush=True,
    )


def job(folder: str, trees: list, rounds: int, extra: list) -> None:
    with tempfile.TemporaryDirectory() as out:
        for r in range(rounds):
            for name, src in trees:
                env = {**os.environ, "PYTHONPATH": os.path.abspath(src), "KERAS_BACKEND": "jax"}
                results = os.path.join(out, f"{name}-{r}.jsonl")
                report = os.path.join(out, f"{name}-{r}.html")
                args = ["compare", folder, "--results", results, "--report", report, *extra]
                before, load = resource.getrusage(resource.RUSAGE_CHILDREN), _load()
                start = time.perf_counter()
                done = subprocess.run(
                    [sys.executable, "-m", "keras_imbalance.cli", *args],
                    env=env,
                    cwd=out,
                    capture_output=True,
                    text=True,
                )
                wall = time.perf_counter() - start
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                top = [ln for ln in done.stdout.splitlines() if ln.startswith("Recommended")]
                print(
                    f"round {r + 1} {name}: wall {wall:.1f} s, CPU {cpu:.1f} s, "
                    f"load {load} -> {_load()}, rc {done.returncode}; {top[:1]}",
                    flush=True,
                )
                if done.returncode:
                    print(done.stderr[-2000:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["steps", "faults", "pooling", "bound", "job"])
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--dir", default="")
    parser.add_argument("--src", action="append", default=[], help="name=path of a src folder")
    parser.add_argument("--rounds", type=int, default=1)
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []  # compare's own arguments
    args = parser.parse_args(argv[: len(argv) - len(extra) - (1 if "--" in argv else 0)])
    if args.part == "steps":
        steps(args.copies, args.batch, args.steps)
        return
    if args.part == "faults":
        faults(args.copies, args.batch)
        return
    if args.part == "pooling":
        pooling(args.batch)
        return
    if args.part == "bound":
        if not args.dir:
            parser.error("bound needs --dir")
        bound(args.dir, extra)
        return
    if not args.dir or not args.src:
        parser.error("job needs --dir and at least one --src name=path")
    trees = [tuple(s.split("=", 1)) for s in args.src]
    job(args.dir, trees, args.rounds, extra)


if __name__ == "__main__":
    main()
