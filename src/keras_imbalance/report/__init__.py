"""The HTML report of a strategy comparison (layer 3).

:func:`write_report` renders a :class:`~keras_imbalance.comparison.ComparisonResult` into one
self-contained HTML file (images embedded as base64 PNG, drawn with matplotlib's Agg canvas)
and writes the raw numbers as JSON next to it.
"""

from keras_imbalance.report._html import render_html, write_report

__all__ = ["render_html", "write_report"]
