"""The pieces of the command line (``keras_imbalance.cli`` holds the parser and ``main``).

- ``_common``: the usage error, output checks, warnings as plain lines, consoles;
- ``_source``: one :class:`~keras_imbalance._cli._source.Source` read once from a table, a
  bundled dataset or a folder of images;
- ``_parquet``: Parquet files and directories read out of core (``inspect``, ``weights``,
  ``resample``);
- ``_inspect`` and ``_compare``: the two long commands; ``_progress``: ``compare``'s progress
  and the progress of counting labels.
"""
