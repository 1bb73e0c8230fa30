"""Measurement: pure statistics over counts the store gives (no I/O, no clock)."""
