"""Figures of the report, drawn with matplotlib's Agg canvas (no pyplot, no global state)."""

from __future__ import annotations

import base64
import io

import numpy as np

_BLUE = "#3b6ea8"
_GREY = "#9aa5b1"
_ORANGE = "#d9822b"
_GREEN = "#2f8f4e"


def _tick(label, limit=14) -> str:
    text = str(label)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _figure(width, height):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def png_base64(fig) -> str:
    """The figure as a base64 PNG string (for ``<img src="data:image/png;base64,...">``)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def class_distribution(classes, counts):
    fig = _figure(min(9.0, 2.5 + 0.6 * len(classes)), 3.0)
    ax = fig.add_subplot()
    counts = np.asarray(counts)
    colors = [_ORANGE if c == counts.min() else _BLUE for c in counts]
    bars = ax.bar(range(len(classes)), counts, color=colors)
    ax.set_xticks(range(len(classes)), [_tick(c) for c in classes])
    ax.set_xlabel("class")
    ax.set_ylabel("samples")
    ax.set_title("Class distribution")
    for bar, count in zip(bars, counts, strict=True):
        ax.annotate(
            f"{int(count)}",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=9,
        )
    ax.margins(y=0.15)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def leaderboard_chart(board, metric, label_fn, winner=None, chance=None):
    """Horizontal bars: mean metric with the 95 % interval, in the board's order (the
    recommended row first); ``winner`` (the recommended ``(model, strategy)``, else the top
    row) in green, reference rows (column ``reference``) hatched orange, and the ``chance``
    level (when given) as a dashed line."""
    n = len(board)
    fig = _figure(8.0, 0.8 + 0.32 * n)
    ax = fig.add_subplot()
    y = np.arange(n)[::-1]
    means = board["mean"].to_numpy(dtype=float)
    low = board["ci_low"].to_numpy(dtype=float)
    high = board["ci_high"].to_numpy(dtype=float)
    colors = [_GREY if s == "none" else _BLUE for s in board["strategy"]]
    refs = board["reference"].fillna(False).to_numpy(bool) if "reference" in board else None
    if refs is not None:
        colors = [_ORANGE if r else c for c, r in zip(colors, refs, strict=True)]
    keys = list(zip(board["model"], board["strategy"], strict=True))
    if n:
        colors[keys.index(winner) if winner in keys else 0] = _GREEN
    bars = ax.barh(y, means, color=colors, height=0.65)
    if refs is not None:
        for bar, ref in zip(bars, refs, strict=True):
            if ref:
                bar.set_hatch("//")
    ok = np.isfinite(low) & np.isfinite(high)
    ax.errorbar(
        means[ok],
        y[ok],
        xerr=[means[ok] - low[ok], high[ok] - means[ok]],
        fmt="none",
        ecolor="#222",
        capsize=3,
        lw=1,
    )
    ax.set_yticks(y, [label_fn(r) for _, r in board.iterrows()], fontsize=9)
    ax.set_ylim(-0.6, n - 0.4)
    lo = np.nanmin(np.r_[low[ok], means]) if n else 0
    hi = np.nanmax(np.r_[high[ok], means]) if n else 1
    if chance is not None and np.isfinite(chance):
        lo, hi = min(lo, chance), max(hi, chance)
        ax.axvline(chance, color="#b03a2e", ls="--", lw=1)
        ax.text(chance, n - 0.5, " chance", color="#b03a2e", fontsize=8, va="bottom")
    ax.set_xlim(max(-1.0 if lo < 0 else 0.0, lo - 0.05), min(1.0, hi + 0.03))
    ax.set_xlabel(f"{metric} (mean over folds, 95% interval)")
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x", alpha=0.3)
    return fig


def recall_heatmap(matrix, row_labels, classes):
    matrix = np.asarray(matrix, dtype=float)
    fig = _figure(min(10.0, 3.0 + 0.7 * len(classes)), 0.9 + 0.3 * len(row_labels))
    ax = fig.add_subplot()
    image = ax.imshow(matrix, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(classes)), [_tick(c) for c in classes])
    ax.set_yticks(range(len(row_labels)), row_labels, fontsize=9)
    ax.set_xlabel("true class")
    if matrix.size <= 400:
        for (i, j), value in np.ndenumerate(matrix):
            ax.text(
                j,
                i,
                "–" if np.isnan(value) else f"{value:.2f}",
                ha="center",
                va="center",
                fontsize=8,
                color="black" if value > 0.6 else "white",
            )
    fig.colorbar(image, ax=ax, label="recall", shrink=0.8)
    return fig


def confusion_grid(matrices, titles, classes):
    n = len(matrices)
    cols = min(n, 4)
    rows = int(np.ceil(n / cols))
    side = 2.6 if len(classes) <= 4 else 3.4
    fig = _figure(side * cols + 0.4, side * rows + 0.3)
    for i, (cm, title) in enumerate(zip(matrices, titles, strict=True)):
        ax = fig.add_subplot(rows, cols, i + 1)
        cm = np.asarray(cm, dtype=float)
        norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
        ax.imshow(norm, vmin=0, vmax=1, cmap="Blues")
        k = cm.shape[0]
        ax.set_xticks(
            range(k), [_tick(c) for c in classes], fontsize=7, rotation=0 if k <= 4 else 90
        )
        ax.set_yticks(range(k), [_tick(c) for c in classes], fontsize=7)
        ax.set_xlabel("predicted", fontsize=8)
        ax.set_ylabel("true", fontsize=8)
        ax.set_title(_tick(title, 34), fontsize=9)
        if k <= 6:
            for (a, b), value in np.ndenumerate(cm):
                ax.text(
                    b,
                    a,
                    f"{int(value)}",
                    ha="center",
                    va="center",
                    fontsize=9,
                    color="white" if norm[a, b] > 0.5 else "black",
                )
    return fig


def pr_curves(curves, positive_label, point=None):
    """``curves``: list of (label, recall, precision, average_precision, prevalence);
    ``point``: (label, recall, precision) of an operating point to mark."""
    fig = _figure(6.5, 4.6)
    ax = fig.add_subplot()
    prevalence = None
    for i, (label, recall, precision, ap, prev) in enumerate(curves):
        style = {"color": _GREY, "ls": "--"} if label.startswith("none") and i else {}
        ax.step(
            recall, precision, where="post", lw=1.6, label=f"{label} (pooled AP {ap:.3f})", **style
        )
        prevalence = prev
    if prevalence is not None:
        ax.axhline(prevalence, color="#bbb", lw=1, ls=":", label=f"chance ({prevalence:.3f})")
    if point is not None:
        label, recall, precision = point
        ax.plot([recall], [precision], "o", ms=9, mfc="none", mec="#C44E52", mew=2, label=label)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title(f"Precision-recall, positive = {positive_label} (test folds pooled)", fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(alpha=0.3)
    return fig


def image_grid(examples, *, counts=None, per_class=8, max_classes=20):
    """A grid of example images: one row per class, up to ``per_class`` images each.

    Parameters
    ----------
    examples : mapping of class name to array-like of shape (m, height, width[, channels])
        Pixel values in [0, 1] (floats) or 0..255 (uint8); 1, 3 or 4 channels.
    counts : mapping of class name to int, optional
        Shown next to each class name (e.g. the number of images of the class).
    per_class : int, default=8
        Images shown per class (the first ones).
    max_classes : int, default=20
        Classes shown (the first ones); the title says how many were left out.

    Returns
    -------
    matplotlib.figure.Figure
        Drawn on an Agg canvas (no pyplot state); save it with ``fig.savefig``.

    Examples
    --------
    >>> import numpy as np
    >>> fig = image_grid({"cat": np.zeros((2, 8, 8, 1)), "dog": np.ones((3, 8, 8, 1))})
    >>> len(fig.axes)
    6
    """
    from keras_imbalance._validation import check_number, invalid

    if not hasattr(examples, "items") or not examples:
        raise invalid(
            "examples", "a non-empty mapping {class name: images}", examples, kind=TypeError
        )
    per_class = check_number("per_class", per_class, low=1, integer=True)
    max_classes = check_number("max_classes", max_classes, low=1, integer=True)
    rows = []
    for name, images in list(examples.items())[:max_classes]:
        try:
            arr = np.asarray(images)
        except (TypeError, ValueError):
            arr = np.asarray([])
        if arr.ndim == 4 and arr.shape[-1] == 1:
            arr = arr[..., 0]
        if arr.ndim not in (3, 4) or (arr.ndim == 4 and arr.shape[-1] not in (3, 4)):
            raise invalid(
                "examples",
                "images of shape (m, height, width) or (m, height, width, 1, 3 or 4) per class",
                f"class {name!r}: {arr.shape}",
            )
        rows.append((name, arr[:per_class]))
    cols = max(1, max(len(arr) for _, arr in rows))
    height = max(arr.shape[1] / arr.shape[2] for _, arr in rows if len(arr)) if cols else 1.0
    side = 0.9
    fig = _figure(1.4 + side * cols, 0.5 + side * min(height, 2.0) * len(rows))
    for r, (name, arr) in enumerate(rows):
        for c in range(cols):
            ax = fig.add_subplot(len(rows), cols, r * cols + c + 1)
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if c < len(arr):
                image = arr[c]
                scale = 255.0 if image.dtype == np.uint8 else 1.0
                kwargs = {"cmap": "gray"} if image.ndim == 2 else {}
                ax.imshow(np.clip(image / scale, 0, 1), vmin=0, vmax=1, **kwargs)
            if c == 0:
                label = _tick(name, 18)
                if counts is not None and name in counts:
                    label += f"\n(n={int(counts[name]):,})"
                ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    hidden = len(examples) - len(rows)
    title = "Example images per class" + (
        f" (first {len(rows)} classes of {len(examples)})" if hidden else ""
    )
    fig.suptitle(title, fontsize=10)
    return fig
