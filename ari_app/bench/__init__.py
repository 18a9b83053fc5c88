"""Benchmarks as a library: load and soak over the simulation, wire probes, statistics."""
