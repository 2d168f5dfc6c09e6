"""The front ends (DESIGN.md, "User-facing contract"): ``cli`` (``theorycheck``, ``python -m
theorems``), ``pytest_plugin``, ``report`` (with ``report_math``, ``report_plots``,
``report_progress``, ``report_output``) and ``sweep`` (Dask shards). Within the package only
``theorems/__main__.py`` imports them (tests/test_layout.py).
"""
