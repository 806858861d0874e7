"""The synthetic State: what Composer's schedulers read from ``composer.core.State``."""

from __future__ import annotations

import pytest

from sched_cli.state import State
from sched_cli.time import Time, Timestamp, TimeUnit


@pytest.mark.parametrize("given", ["10ep", "1000ba", "5e4sp", "3e6tok", Time(10, "ep"), Time(1000, "ba")])
def test_max_duration_from_string_or_time(given):
    state = State(given, dataloader_len=100)
    expected = Time.from_timestring(given) if isinstance(given, str) else given
    assert state.max_duration == expected
    assert state.max_duration.unit is expected.unit


@pytest.mark.parametrize("given", ["1dur", "0.5dur", "10sec", "1h30m", "3iter", Time(1.0, "dur")])
def test_max_duration_units_are_restricted(given):
    with pytest.raises(ValueError, match="max_duration"):
        State(given)


def test_max_duration_as_plain_number_is_rejected():
    with pytest.raises((ValueError, TypeError, RuntimeError)):
        State(100)  # type: ignore[arg-type]


def test_max_duration_can_be_reassigned_like_the_trainer_does_for_ssr():
    state = State("100ba")
    state.max_duration = state.max_duration * 0.5
    assert state.max_duration == Time(50, "ba")
    with pytest.raises(ValueError):
        state.max_duration = "1dur"


@pytest.mark.parametrize("given", [7, Time(7, "ba")])
def test_dataloader_len_int_or_time(given):
    state = State("2ep", dataloader_len=given)
    assert state.dataloader_len == Time(7, "ba")
    assert int(state.dataloader_len) == 7


def test_dataloader_len_defaults_to_none_and_rejects_other_units():
    assert State("100ba").dataloader_len is None
    with pytest.raises(ValueError, match="dataloader_len"):
        State("2ep", dataloader_len=Time(7, "sp"))


def test_timestamp_defaults_to_zero_and_is_settable():
    state = State("10ep", dataloader_len=10)
    assert state.timestamp == Timestamp()
    ts = Timestamp(epoch=3, batch=35, sample=350, token=3500)
    state.timestamp = ts
    assert state.timestamp is ts
    assert state.timestamp.epoch < 10
    assert state.time is ts  # the alias used by Composer's VariableEpochDecayScheduler example
    assert state.timestamp.get(TimeUnit.SAMPLE) == Time(350, "sp")


def test_timestamp_must_be_a_timestamp():
    state = State("10ba")
    with pytest.raises(TypeError):
        state.timestamp = 3  # type: ignore[assignment]
    with pytest.raises(TypeError):
        State("10ba", timestamp=Time(3, "ba"))  # type: ignore[arg-type]


def test_optimizers_are_kept_as_a_list():
    marker = object()
    assert State("1ba").optimizers == []
    assert State("1ba", optimizers=marker).optimizers == [marker]
    assert State("1ba", optimizers=[marker, marker]).optimizers == [marker, marker]
    assert State("1ba", optimizers=(marker,)).optimizers == [marker]


@pytest.mark.parametrize(
    ("max_duration", "timestamp", "expected"),
    [
        ("100ba", Timestamp(batch=25), 0.25),
        ("100ba", Timestamp(), 0.0),
        ("100ba", Timestamp(batch=100), 1.0),
        # On an epoch run only whole epochs count: batch 37 of 10-batch epochs is epoch 3 of 10.
        ("10ep", Timestamp(epoch=3, batch=37), 0.3),
        ("1000tok", Timestamp(batch=5, sample=10, token=250), 0.25),
        ("3sp", Timestamp(batch=1, sample=1), 1 / 3),
    ],
)
def test_get_elapsed_duration_is_composers(max_duration, timestamp, expected):
    elapsed = State(max_duration, timestamp=timestamp).get_elapsed_duration()
    assert elapsed.unit is TimeUnit.DURATION and elapsed.value == expected
    assert isinstance(elapsed.value, float)
