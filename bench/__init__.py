"""Hearth's benchmark suite: load generator, naive baseline server, scenarios.

Everything here talks to 127.0.0.1 only and stops by itself.  See BENCHMARKS.md.
"""
