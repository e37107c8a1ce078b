"""Benchmarks of sqsidem against the naive way and the limits (issue 7).

Run ``python -m tests.bench [--quick] [--json FILE] [--only NAME,...]`` from the repository
root. Not collected by pytest (``norecursedirs``); no file here is named ``test_*.py``.
"""
