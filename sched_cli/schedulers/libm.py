"""Transcendental functions that give, on arrays, the very bits the C library gives on one float.

The trainers sched replays compute their schedules one Python float at a time (``a ** b``,
``math.exp``...), which calls the C library's ``pow``, ``exp``, ``log``, ``tanh``. numpy's own
loops for these functions differ from the C library by one unit in the last place on some inputs
on processors with AVX-512 (numpy then uses vectorized implementations of its own): about 5% of
``pow`` and ``exp`` results on one machine here. Every formula that needs one of them on an array
calls it from here, so that the vectorized path and the scalar one agree with the trainer to the
last digit. Square roots, sines and cosines are exact in numpy and need nothing from here.

Each function takes a Python float (the scalar ``__call__`` path; the result is a numpy float64,
so that arithmetic on it behaves as on an array's element, ``1 / 0.0`` giving ``inf`` as the
formulas' own checks expect) or a numpy array, and costs on an array about 0.1 s per million values.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["power", "exp", "log", "tanh"]


# Where the C library's result is not a real number, Python raises and numpy gives inf or nan;
# these give what numpy gives, so the formulas' own checks (which name the scheduler and the
# values) report it, as they did before.
def _pow(base: float, exponent: float) -> float:
    try:
        result = base**exponent
    except ZeroDivisionError:  # 0.0 ** negative
        return math.copysign(math.inf, base) if exponent == int(exponent) and int(exponent) % 2 else math.inf
    except OverflowError:
        return math.inf
    return result if isinstance(result, float) else math.nan  # a negative base: Python gives a complex


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _log(x: float) -> float:
    if x > 0 or math.isnan(x):
        return math.log(x)
    return -math.inf if x == 0 else math.nan


_POW = np.frompyfunc(_pow, 2, 1)
_EXP = np.frompyfunc(_exp, 1, 1)
_LOG = np.frompyfunc(_log, 1, 1)
_TANH = np.frompyfunc(math.tanh, 1, 1)


def _by_runs(function: Any, *arrays: np.ndarray) -> np.ndarray:
    """``function`` (a ``frompyfunc``) elementwise, called once per run of repeated arguments:
    schedules are evaluated over time in order, so a step schedule's exponents (``gamma ** k``)
    repeat for thousands of batches in a row, and calling the C library per value would cost
    0.1 s per million values for a few hundred distinct ones."""
    arrays = tuple(np.asarray(a, dtype=np.float64) for a in np.broadcast_arrays(*arrays))
    shape = arrays[0].shape
    flat = [a.ravel() for a in arrays]
    n = flat[0].size
    if n < 64:
        return _floats(function(*flat)).reshape(shape)
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for a in flat:
        change[1:] |= a[1:] != a[:-1]  # NaN != NaN: every NaN starts a run of its own
    heads = np.flatnonzero(change)
    if len(heads) * 2 > n:
        return _floats(function(*flat)).reshape(shape)
    values = _floats(function(*(a[heads] for a in flat)))
    return np.repeat(values, np.diff(np.append(heads, n))).reshape(shape)


def _is_array(*values: Any) -> bool:
    return any(isinstance(v, np.ndarray) for v in values)


def _floats(result: Any) -> np.ndarray:
    return np.asarray(result, dtype=np.float64)


def power(base: Any, exponent: Any) -> Any:
    """``base ** exponent`` as Python's float power (the C library's ``pow``), elementwise."""
    if not _is_array(base, exponent):
        return np.float64(_pow(float(base), float(exponent)))
    return _by_runs(_POW, base, exponent)


def exp(x: Any) -> Any:
    """``math.exp``, elementwise."""
    return _by_runs(_EXP, x) if _is_array(x) else np.float64(_exp(float(x)))


def log(x: Any) -> Any:
    """``math.log``, elementwise (``-inf`` at 0 and ``nan`` below, as numpy gives)."""
    return _by_runs(_LOG, x) if _is_array(x) else np.float64(_log(float(x)))


def tanh(x: Any) -> Any:
    """``math.tanh``, elementwise."""
    return _by_runs(_TANH, x) if _is_array(x) else np.float64(math.tanh(x))
