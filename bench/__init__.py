"""Tessera benchmarks: `python -m bench.run [--only NAME ...] [--quick]` (see bench/README.md)."""
