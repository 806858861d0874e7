"""sched_cli.schedulers.libm: on arrays, the very bits Python's float functions give one by one."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sched_cli.schedulers import libm

finite = st.floats(min_value=1e-300, max_value=1e300, allow_nan=False, allow_infinity=False)


@given(st.lists(st.tuples(st.floats(0, 1e6), st.floats(-50, 50)), min_size=1, max_size=50))
def test_power_is_python_float_power_elementwise(pairs):
    base = np.array([b for b, _ in pairs])
    exponent = np.array([e for _, e in pairs])
    got = libm.power(base, exponent)
    for b, e, g in zip(base.tolist(), exponent.tolist(), got.tolist(), strict=True):
        try:
            want = b**e
        except ZeroDivisionError:
            want = math.inf
        except OverflowError:
            want = math.inf
        assert g == want or (math.isnan(g) and math.isnan(want))


@given(st.lists(st.floats(-700, 700), min_size=1, max_size=50))
def test_exp_and_tanh_are_math_elementwise(xs):
    x = np.array(xs)
    assert libm.exp(x).tolist() == [math.exp(v) for v in xs]
    assert libm.tanh(x).tolist() == [math.tanh(v) for v in xs]


@given(st.lists(finite, min_size=1, max_size=50))
def test_log_is_math_log_elementwise(xs):
    assert libm.log(np.array(xs)).tolist() == [math.log(v) for v in xs]


def test_many_values_bit_for_bit_where_numpy_may_differ():
    # numpy's own pow/exp differ from the C library in the last bit on some processors (AVX-512).
    x = np.random.default_rng(0).random(20_000) * 3
    assert libm.power(x, 1.7).tolist() == [v**1.7 for v in x.tolist()]
    assert libm.exp(x).tolist() == [math.exp(v) for v in x.tolist()]


def test_scalars_and_what_is_not_a_real_number():
    assert libm.power(2.0, 0.5) == 2.0**0.5 and isinstance(libm.power(2, 3), np.float64)
    assert libm.power(0.0, -1.0) == math.inf and libm.power(-0.0, -1.0) == -math.inf
    assert math.isnan(libm.power(-8.0, 1 / 3))
    assert libm.log(0.0) == -math.inf and math.isnan(libm.log(-1.0))
    assert libm.exp(1000.0) == math.inf


@given(st.lists(st.sampled_from([0.0, 1.0, 2.0, 3.5, float("nan")]), min_size=60, max_size=400))
def test_runs_of_repeated_arguments_give_the_same_bits(exponents):
    # Long runs (a step schedule's exponents) are computed once per run; the result is the same.
    x = np.array(exponents)
    got = libm.power(0.7, x)
    want = [math.nan if math.isnan(e) else 0.7**e for e in exponents]
    assert all(g == w or (math.isnan(g) and math.isnan(w)) for g, w in zip(got.tolist(), want, strict=True))
    assert libm.power(np.full((3, 40), 2.0), np.arange(120.0).reshape(3, 40)).tolist() == [
        [2.0**e for e in range(r * 40, r * 40 + 40)] for r in range(3)
    ]
