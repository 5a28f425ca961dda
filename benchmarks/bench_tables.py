"""check_table and TableEncoder on a 1e5-row raw table, in one process.

    python benchmarks/bench_tables.py [--rows 100000] [--repeat 5]

The table has 20 columns like a transactions export: 10 float columns (3 % of the cells of 4
of them blank), 2 int columns, 5 string columns (3, 8, 40, 200 and 1,000 distinct values, 2 %
blank), a bool, a pandas category and an id (one distinct value per row, dropped). The bad
table adds what the issue lists as bad input: a column of lists (a Parquet list column), an
entirely blank column, a single-valued string column and a float column with inf. Prints a
markdown table (seconds, best and median of --repeat runs). Target (issue 13): every problem
of a 1e5-row file reported in under a second.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
import warnings

import numpy as np
import pandas as pd

from keras_imbalance.tables import TableEncoder, check_table


def table(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    columns = {}
    for i in range(10):
        values = rng.normal(100.0 * i, 10.0 + i, n)
        if i < 4:
            values[rng.random(n) < 0.03] = np.nan
        columns[f"num{i}"] = values
    columns["count0"] = rng.integers(0, 50, n)
    columns["count1"] = rng.poisson(3.0, n)
    for i, k in enumerate((3, 8, 40, 200, 1000)):
        p = 1.0 / np.arange(1, k + 1)  # long-tailed category frequencies
        values = rng.choice([f"c{i}_{j}" for j in range(k)], n, p=p / p.sum()).astype(object)
        values[rng.random(n) < 0.02] = None
        columns[f"cat{i}"] = pd.Series(values, dtype="str")
    columns["flag"] = rng.random(n) < 0.1
    columns["kind"] = pd.Categorical(rng.choice(["a", "b", "c", "d"], n))
    columns["id"] = pd.Series([f"tx{j:08d}" for j in range(n)], dtype="str")
    return pd.DataFrame(columns)


def bad_table(frame: pd.DataFrame) -> pd.DataFrame:
    n = len(frame)
    ratio = frame["num5"].to_numpy().copy()
    ratio[:: max(1, n // 10)] = np.inf
    return frame.assign(
        tags=[[j % 7, j % 3] for j in range(n)],
        blank=np.nan,
        country=pd.Series(["FR"] * n, dtype="str"),
        ratio=ratio,
    )


def timed(fn, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import sklearn

    frame = table(args.rows)
    bad = bad_table(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        spec = check_table(frame)
    encoder = TableEncoder(spec).fit(frame)  # warm: imports scikit-learn once
    mixed = encoder.to_mixed(frame)
    head = mixed[:10_000]

    def check_clean():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            check_table(frame)

    def check_bad():
        try:
            check_table(bad)
        except (TypeError, ValueError) as exc:
            return str(exc)
        raise AssertionError("the bad table passed")

    rows = [
        ("check_table, clean table (roles, id column dropped)", check_clean),
        ("check_table, bad table (every problem in one message)", check_bad),
        ("TableEncoder(spec).fit(frame)", lambda: TableEncoder(spec).fit(frame)),
        ("encoder.to_mixed(frame)", lambda: encoder.to_mixed(frame)),
        ("encoder.to_model(mixed)", lambda: encoder.to_model(mixed)),
        ("encoder.transform(frame)", lambda: encoder.transform(frame)),
        ("encoder.from_mixed(10,000 rows)", lambda: encoder.from_mixed(head)),
    ]
    print(
        f"rows {args.rows:,}, columns {frame.shape[1]} (bad table {bad.shape[1]}); "
        f"to_mixed width {mixed.shape[1]}, model input width {encoder.n_features_out}; "
        f"python {platform.python_version()}, pandas {pd.__version__}, "
        f"scikit-learn {sklearn.__version__}, numpy {np.__version__}"
    )
    print(f"bad-table message: {check_bad()[:160]}...")
    print()
    print(f"| step | best of {args.repeat} (s) | median (s) |")
    print("|---|---:|---:|")
    for name, fn in rows:
        best, median = timed(fn, args.repeat)
        print(f"| {name} | {best:.3f} | {median:.3f} |")


if __name__ == "__main__":
    main()
