"""Benchmarks (not tests): `python -m bench` (or `make bench`) prints a table; results go to BENCHMARKS.md."""
