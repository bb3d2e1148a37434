"""Offline lab-report analysis: pure functions, no I/O beyond the bytes they are given."""
