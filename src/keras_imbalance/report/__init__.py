"""The HTML report of a strategy comparison (layer 3).

:func:`write_report` renders a :class:`~keras_imbalance.comparison.ComparisonResult` into one
self-contained HTML file (images embedded as base64 PNG, drawn with matplotlib's Agg canvas)
and writes the raw numbers as JSON next to it; with ``examples`` (image data) it also shows
a grid of example images per class (:func:`image_grid`, also used by ``keras-imbalance inspect
DIR --plot``).
"""

from keras_imbalance.report._html import render_html, write_report
from keras_imbalance.report._plots import image_grid

__all__ = ["image_grid", "render_html", "write_report"]
