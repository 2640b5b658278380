"""Benchmarks: scripts that print tables (no timing assertions live in tests)."""
