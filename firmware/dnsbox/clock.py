"""Monotonic milliseconds on both interpreters. Only net/ and boot code read the clock."""
import time

try:
    _ticks_ms = time.ticks_ms  # MicroPython: wraps; use ticks_diff for differences
    _ticks_diff = time.ticks_diff
except AttributeError:  # CPython has no ticks_*; a monotonic float clock does the same job
    _ticks_ms = None
    _ticks_diff = None


def now_ms():
    """Milliseconds from an arbitrary start; compare two values only with since_ms."""
    if _ticks_ms is not None:
        return _ticks_ms()
    return int(time.monotonic() * 1000)


def since_ms(start):
    """Milliseconds elapsed since a now_ms() value."""
    return diff_ms(now_ms(), start)


def diff_ms(later, earlier):
    """later - earlier for two now_ms() values, correct across MicroPython's tick wrap."""
    if _ticks_diff is not None:
        return _ticks_diff(later, earlier)
    return later - earlier
