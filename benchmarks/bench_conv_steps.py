"""A convolutional model's training steps on the JAX CPU backend: inside a compiled loop or apart.

Two measurements (2-core container shared with other jobs; run each part on a quiet machine
where you can, and read ratios within one run, not absolute times):

    OMP_NUM_THREADS=1 python benchmarks/bench_conv_steps.py steps
    OMP_NUM_THREADS=1 python benchmarks/bench_conv_steps.py faults --copies 34 --batch 36
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
    parser.add_argument("part", choices=["steps", "faults", "job"])
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
    if not args.dir or not args.src:
        parser.error("job needs --dir and at least one --src name=path")
    trees = [tuple(s.split("=", 1)) for s in args.src]
    job(args.dir, trees, args.rounds, extra)


if __name__ == "__main__":
    main()
