"""Benchmarks: speed, accuracy and soak measurements; results and commands in BENCHMARKS.md."""
