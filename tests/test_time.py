"""The time model against Composer 0.32's ``composer/core/time.py``."""

from __future__ import annotations

import pytest

from sched_cli.time import Time, Timestamp, TimeStringError, TimeUnit


# -- TimeUnit ---------------------------------------------------------------------------------
def test_time_unit_values_are_composers():
    assert [u.value for u in TimeUnit] == ["iter", "ep", "ba", "sp", "tok", "dur", "sec"]


@pytest.mark.parametrize("spelling", ["ba", "BA", "Ba", "batch", "BATCH"])
def test_time_unit_accepts_any_case_and_member_names(spelling):
    assert TimeUnit(spelling) is TimeUnit.BATCH


def test_time_unit_rejects_unknown_names():
    with pytest.raises(ValueError):
        TimeUnit("batches")


# -- from_timestring --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, value, unit",
    [
        ("10ba", 10, TimeUnit.BATCH),
        ("10BA", 10, TimeUnit.BATCH),
        ("2Ep", 2, TimeUnit.EPOCH),
        ("5ep", 5, TimeUnit.EPOCH),
        ("128sp", 128, TimeUnit.SAMPLE),
        ("3e4tok", 30000, TimeUnit.TOKEN),
        ("3E4TOK", 30000, TimeUnit.TOKEN),
        ("1e3sp", 1000, TimeUnit.SAMPLE),
        ("7iter", 7, TimeUnit.ITERATION),
        ("0.5dur", 0.5, TimeUnit.DURATION),
        ("1dur", 1.0, TimeUnit.DURATION),
        ("2.5e-1DUR", 0.25, TimeUnit.DURATION),
        ("10sec", 10, TimeUnit.SECOND),
        ("1h30m", 90 * 60, TimeUnit.SECOND),
        ("2h", 7200, TimeUnit.SECOND),
        ("5m", 300, TimeUnit.SECOND),
        ("1h0m5s", 3605, TimeUnit.SECOND),
    ],
)
def test_from_timestring_parses(text, value, unit):
    time = Time.from_timestring(text)
    assert time.unit is unit
    assert time.value == value
    # integer units hold real ints, dur holds a float (as Composer's Time does)
    assert type(time.value) is (float if unit is TimeUnit.DURATION else int)


def test_scientific_notation_equals_the_spelled_out_count():
    assert Time.from_timestring("3e4tok") == Time(30000, "tok")


@pytest.mark.parametrize("text", ["1.5ba", "0.5ep", "2.5e0sp", "1.1tok"])
def test_fractional_count_is_a_type_error_as_in_composer(text):
    # Composer raises TypeError("value ... is not an integer"); ours is also a ValueError.
    with pytest.raises(TypeError, match="whole"):
        Time.from_timestring(text)
    with pytest.raises(ValueError):
        Time.from_timestring(text)


@pytest.mark.parametrize("text", ["ba", "10 batches", "", "10", "ten ba", "10bat", "dur", "1h30x", "10epochs"])
def test_malformed_strings_raise_value_error(text):
    with pytest.raises(ValueError) as info:
        Time.from_timestring(text)
    assert isinstance(info.value, TimeStringError)
    assert repr(text) in str(info.value)  # the message quotes what was given


def test_overflowing_count_is_rejected_not_turned_into_inf():
    with pytest.raises(ValueError, match="1e400tok"):
        Time.from_timestring("1e400tok")


def test_non_string_is_rejected():
    with pytest.raises(TypeError):
        Time.from_timestring(10)  # type: ignore[arg-type]


def test_str_and_timestring_round_trip():
    for text in ["10ba", "3ep", "0.25dur", "30000tok"]:
        assert Time.from_timestring(text).to_timestring() == text
        assert str(Time.from_timestring(text)) == text


# -- construction ------------------------------------------------------------------------------
def test_integer_units_require_ints():
    with pytest.raises(TypeError):
        Time(1.5, "ba")
    with pytest.raises(TypeError):
        Time(2.0, TimeUnit.EPOCH)


def test_duration_is_stored_as_float():
    assert Time(1, "dur").value == 1.0
    assert isinstance(Time(1, "dur").value, float)


def test_from_input_and_helpers():
    assert Time.from_input("5ep") == Time(5, "ep")
    assert Time.from_input(5, TimeUnit.EPOCH) == Time(5, "ep")
    t = Time(3, "ba")
    assert Time.from_input(t) is t
    with pytest.raises(RuntimeError):
        Time.from_input(5)  # no default unit
    assert Time.from_epoch(2) == Time(2, "ep")
    assert Time.from_batch(2) == Time(2, "ba")
    assert Time.from_sample(2) == Time(2, "sp")
    assert Time.from_token(2) == Time(2, "tok")
    assert Time.from_duration(0.5) == Time(0.5, "dur")


def test_int_float_hash():
    assert int(Time(7, "ba")) == 7
    assert float(Time(0.25, "dur")) == 0.25
    assert hash(Time(7, "ba")) == hash(Time(7, "ba"))
    assert len({Time(7, "ba"), Time(7, "ba"), Time(7, "sp")}) == 2


# -- arithmetic (Composer's docstring examples and rules) -----------------------------------------
def test_same_unit_addition_and_subtraction():
    assert Time(1, "ep") + Time(2, "ep") == Time(3, "ep")
    assert Time(5, "ba") - Time(2, "ba") == Time(3, "ba")
    assert Time(0.25, "dur") + Time(0.5, "dur") == Time(0.75, "dur")
    assert (Time(5, "ba") + 3).value == 8  # a plain number is read in the Time's unit
    assert (3 + Time(5, "ba")).value == 8
    assert (10 - Time(3, "ba")).value == 7
    assert (Time(10, "ba") - "4ba").value == 6
    assert -Time(4, "sp") == Time(-4, "sp")
    assert +Time(4, "sp") == Time(4, "sp")
    assert Time(7, "ba") % Time(3, "ba") == Time(1, "ba")


@pytest.mark.parametrize("op", ["+", "-", "%", "/"])
def test_mixed_unit_arithmetic_raises(op):
    a, b = Time(1, "ep"), Time(1, "ba")
    with pytest.raises(RuntimeError):
        eval(f"a {op} b")


def test_division_by_time_gives_duration():
    result = Time(4, "ep") / Time(2, "ep")
    assert result.unit is TimeUnit.DURATION
    assert result.value == 2.0
    assert (Time(30, "ba") / Time(40, "ba")).value == 30 / 40


def test_division_and_multiplication_by_number_keep_unit_and_truncate():
    assert Time(4, "ep") / 2 == Time(2, "ep")
    assert (Time(5, "ba") / 2).value == 2  # int(2.5)
    assert Time(2, "ep") * 0.5 == Time(1, "ep")
    assert (Time(10, "ba") * 0.55).value == 5  # int(5.5)
    assert (Time(3, "ba") * 0.2).value == 0  # int(0.6): truncation can reach 0
    assert (0.5 * Time(10, "sp")).value == 5
    assert (Time(0.5, "dur") * 0.5).value == 0.25  # dur stays a float


def test_multiplication_by_duration():
    assert Time(2, "ep") * Time(0.5, "dur") == Time(1, "ep")
    assert Time(0.5, "dur") * Time(10, "ba") == Time(5, "ba")
    assert Time(10, "ba") * "0.25dur" == Time(2, "ba")  # int(2.5)
    assert Time(0.5, "dur") * Time(0.5, "dur") == Time(0.25, "dur")
    with pytest.raises(RuntimeError):
        Time(2, "ep") * Time(3, "ba")


def test_division_by_zero_time_is_zero_division_error():
    # what Composer's schedulers would hit with a duration that truncates to 0
    with pytest.raises(ZeroDivisionError):
        Time(3, "ba") / Time(0, "ba")


# -- comparisons --------------------------------------------------------------------------------
def test_comparisons_in_the_same_unit():
    assert Time(3, "ba") < Time(5, "ba")
    assert Time(5, "ba") <= Time(5, "ba")
    assert Time(6, "ba") > Time(5, "ba")
    assert Time(5, "ba") >= Time(5, "ba")
    assert Time(5, "ba") == Time(5, "ba")
    assert Time(5, "ba") != Time(6, "ba")
    assert Time(0.5, "dur") < Time(0.75, "dur")


def test_comparison_with_a_plain_number_reads_it_in_the_left_unit():
    assert Time(3, "ep") < 10
    assert Time(3, "ep") == 3
    assert not Time(3, "ep") > 3
    assert Time(0.5, "dur") < 0.75
    with pytest.raises(TypeError):
        Time(3, "ba") < 2.5  # noqa: B015 - Time(2.5, "ba") is not a valid time


def test_comparison_with_a_time_string():
    assert Time(3, "ba") < "10ba"
    assert Time(3, "ba") == "3ba"


@pytest.mark.parametrize("op", ["<", "<=", ">", ">=", "==", "!="])
def test_comparison_across_units_raises(op):
    a, b = Time(1, "ep"), Time(1, "ba")
    with pytest.raises(RuntimeError):
        eval(f"a {op} b")
    with pytest.raises(RuntimeError):
        eval(f"a {op} '1ba'")


def test_comparison_with_other_types_is_not_equal():
    assert Time(1, "ba") != None  # noqa: E711
    assert not (Time(1, "ba") == object())


# -- Timestamp ----------------------------------------------------------------------------------
def test_timestamp_defaults_to_zero():
    ts = Timestamp()
    for unit in ("ep", "ba", "sp", "tok", "iter"):
        assert ts.get(unit).value == 0
        assert ts.get(unit).unit is TimeUnit(unit)


def test_timestamp_accepts_ints_or_times():
    ts = Timestamp(epoch=2, batch=Time(250, "ba"), sample=8000, token=Time(10**6, "tok"))
    assert ts.epoch == Time(2, "ep")
    assert ts.batch == Time(250, "ba")
    assert ts.sample == Time(8000, "sp")
    assert ts.token == Time(10**6, "tok")
    assert ts.get("ba") is ts.batch
    assert ts.get(TimeUnit.SAMPLE) is ts.sample
    assert ts.get("TOK") is ts.token


def test_timestamp_positional_order_is_composers():
    # composer.core.time.Timestamp(iteration, epoch, batch, sample, token, ...)
    ts = Timestamp(1, 2, 3, 4, 5)
    assert (ts.iteration.value, ts.epoch.value, ts.batch.value, ts.sample.value, ts.token.value) == (1, 2, 3, 4, 5)


@pytest.mark.parametrize("field, wrong", [("epoch", Time(1, "ba")), ("batch", Time(1, "ep")), ("sample", "3tok")])
def test_timestamp_rejects_a_time_in_the_wrong_unit(field, wrong):
    with pytest.raises(ValueError, match=field):
        Timestamp(**{field: wrong})


def test_timestamp_get_rejects_duration():
    with pytest.raises(ValueError):
        Timestamp().get("dur")


def test_timestamp_compares_against_a_time_in_any_unit():
    ts = Timestamp(epoch=3, batch=300, sample=9600, token=4_915_200)
    assert ts < Time(5, "ep")
    assert ts >= Time(300, "ba")
    assert ts > Time(299, "ba")
    assert ts <= "9600sp"
    assert ts == Time(4_915_200, "tok")
    assert ts != Time(4, "ep")
    assert not ts < Time(3, "ep")


def test_timestamp_epoch_compares_with_a_plain_number():
    # the idiom of Composer's ComposerScheduler docstring
    ts = Timestamp(epoch=9, batch=900)
    assert ts.epoch < 10
    assert not Timestamp(epoch=10).epoch < 10


def test_timestamp_equality_between_timestamps():
    assert Timestamp(epoch=1, batch=10) == Timestamp(epoch=1, batch=10)
    assert Timestamp(epoch=1, batch=10) != Timestamp(epoch=1, batch=11)


def test_timestamp_ordering_with_a_plain_number_is_unsupported():
    with pytest.raises(TypeError):
        Timestamp() < 3  # noqa: B015


def test_timestamp_advances_like_the_trainer():
    ts = Timestamp().to_next_batch(samples=32, tokens=32 * 128).to_next_batch(samples=32, tokens=32 * 128)
    assert (ts.epoch.value, ts.batch.value, ts.sample.value, ts.token.value) == (0, 2, 64, 8192)
    ts = ts.to_next_epoch()
    assert (ts.epoch.value, ts.batch.value, ts.sample.value, ts.token.value) == (1, 2, 64, 8192)
    assert ts.copy(batch=7).batch == Time(7, "ba")


def test_in_epoch_counters_advance_and_reset_as_the_trainer_moves_them():
    ts = Timestamp(epoch=2, batch=20, sample=80, token=800, batch_in_epoch=9, sample_in_epoch=36, token_in_epoch=360)
    after = ts.to_next_batch(samples=4, tokens=40)
    assert (int(after.batch), int(after.batch_in_epoch), int(after.sample_in_epoch), int(after.token_in_epoch)) == (
        21,
        10,
        40,
        400,
    )
    new_epoch = after.to_next_epoch()
    assert int(new_epoch.epoch) == 3 and int(new_epoch.batch) == 21
    assert (int(new_epoch.batch_in_epoch), int(new_epoch.sample_in_epoch), int(new_epoch.token_in_epoch)) == (0, 0, 0)
    # Composer's positional order: iteration, epoch, batch, sample, token, ...
    assert Timestamp(0, 1, 2, 3, 4) == Timestamp(epoch=1, batch=2, sample=3, token=4)
