"""Test doubles shared by the tests, the benchmarks and the terminal chat."""

from bot.testing.harness import ChatHarness, FakeClock, HarnessError, ShiftedClock

__all__ = ["ChatHarness", "FakeClock", "HarnessError", "ShiftedClock"]
