"""CSV, JSON and JSON Lines writers, and atomic output files."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import stat
import tempfile
import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_import_leaves_out
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sched_cli.render import writers
from sched_cli.render.writers import FORMATS, OutputError, atomic_output, format_for_path, write_rows

COLUMNS = ("ssr", "batch", "epoch", "sample", "token", "duration", "multiplier", "lr")
INTS = {"batch", "epoch", "sample", "token"}


def rows_of(n: int, start: int = 0, ssr: float = 0.5) -> dict[str, np.ndarray]:
    """A chunk shaped like the simulator's: int64 counters and float64 values."""
    batch = np.arange(start, start + n, dtype=np.int64)
    duration = batch / 1000.0
    multiplier = 0.5 * (1 + np.cos(np.pi * duration))
    return {
        "ssr": np.full(n, ssr),
        "batch": batch,
        "epoch": batch // 100,
        "sample": batch * 32,
        "token": batch * 32 * 2048,
        "duration": duration,
        "multiplier": multiplier,
        "lr": 3e-4 * multiplier,
    }


def write(chunks, fmt, columns=COLUMNS, meta=None) -> tuple[str, int]:
    out = io.StringIO()
    count = write_rows(chunks, fmt, out, columns, meta)
    return out.getvalue(), count


def parse(text: str, fmt: str) -> list[dict]:
    """Rows read back as Python numbers: ints stay ints, floats become floats."""
    if fmt == "json":
        return json.loads(text)["rows"]
    if fmt == "jsonl":
        return [json.loads(line) for line in text.splitlines()]
    reader = csv.DictReader(io.StringIO(text))
    return [{k: int(v) if k in INTS else float(v) for k, v in row.items()} for row in reader]


def expected(chunk: dict[str, np.ndarray], columns=COLUMNS) -> list[dict]:
    values = zip(*(chunk[c].tolist() for c in columns), strict=True)
    return [dict(zip(columns, row, strict=True)) for row in values]


def same_bits(a: float, b: float) -> bool:
    """Equal, and of the same sign even for zeros."""
    return a == b and math.copysign(1, a) == math.copysign(1, b)


# -- format_for_path ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        ("out.csv", "csv"),
        ("dir.d/OUT.CSV", "csv"),
        ("out.json", "json"),
        ("out.jsonl", "jsonl"),
        (Path("a/b.ndjson"), "jsonl"),
        ("out.txt", None),
        ("out", None),
        ("out.csv.gz", None),
    ],
)
def test_format_for_path(path, fmt):
    assert format_for_path(path) == fmt


def test_formats():
    assert FORMATS == ("csv", "json", "jsonl")


# -- CSV ---------------------------------------------------------------------------------------


def test_csv_header_rows_and_exact_number_text():
    chunk = {
        "batch": np.array([0, 1, 2**62, -5], dtype=np.int64),
        "multiplier": np.array([0.1, 1.0, 1e-20, 0.30000000000000004]),
    }
    text, count = write([chunk], "csv", ["batch", "multiplier"])
    assert count == 4
    assert text == "batch,multiplier\n0,0.1\n1,1.0\n4611686018427387904,1e-20\n-5,0.30000000000000004\n"


def test_csv_writes_only_the_columns_asked_for_in_their_order():
    chunk = rows_of(3)
    text, _ = write([chunk], "csv", ["lr", "batch"])
    lines = text.splitlines()
    assert lines[0] == "lr,batch"
    assert [line.split(",")[1] for line in lines[1:]] == ["0", "1", "2"]


def test_csv_uses_newline_line_endings_only():
    text, _ = write([rows_of(10)], "csv")
    assert "\r" not in text
    assert text.endswith("\n") and text.count("\n") == 11


def test_csv_header_with_no_rows():
    text, count = write([], "csv")
    assert (text, count) == (",".join(COLUMNS) + "\n", 0)


def test_csv_header_quotes_only_names_that_need_it():
    text, _ = write([{"a,b": np.array([1]), "c": np.array([2])}], "csv", ["a,b", "c"])
    assert text.splitlines()[0] == '"a,b",c'


@pytest.mark.parametrize("fmt", FORMATS)
def test_rows_read_back_equal_across_chunks_and_slices(fmt):
    # More rows in one chunk than one slice, an empty chunk, and a short one: boundaries
    # between slices and chunks must neither lose nor repeat a row.
    chunks = [rows_of(writers._SLICE + 123), rows_of(0), rows_of(7, start=writers._SLICE + 123, ssr=0.25)]
    text, count = write(chunks, fmt)
    want = [row for chunk in chunks for row in expected(chunk)]
    assert count == len(want)
    assert parse(text, fmt) == want


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_column_constant_in_one_slice_is_still_right(fmt):
    # Constant columns are folded into the row text: check both constant and varying slices,
    # and that -0.0 is not taken for 0.0 when deciding what is constant.
    chunk = {"a": np.array([2.5] * 5 + [-0.0, 0.0, 1.0]), "b": np.array([7] * 8, dtype=np.int64)}
    text, _ = write([{k: v[:5] for k, v in chunk.items()}, chunk], fmt, ["a", "b"])
    got = [row["a"] for row in parse(text, fmt)]
    want = chunk["a"][:5].tolist() + chunk["a"].tolist()
    assert all(same_bits(g, w) for g, w in zip(got, want, strict=True))
    if fmt == "csv":
        assert "\n-0.0,7\n0.0,7\n" in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_column_constant(fmt):
    chunk = {"ssr": np.full(4, 2.0), "epoch": np.zeros(4, dtype=np.int64)}
    text, count = write([chunk], fmt, ["ssr", "epoch"])
    assert count == 4
    assert parse(text, fmt) == [{"ssr": 2.0, "epoch": 0}] * 4


finite_floats = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=200, deadline=None)
@given(
    floats=hnp.arrays(np.float64, st.integers(1, 40), elements=finite_floats),
    ints=st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=40),
    fmt=st.sampled_from(FORMATS),
)
def test_numbers_round_trip_exactly(floats, ints, fmt):
    n = min(len(floats), len(ints))
    chunk = {"x": floats[:n], "i": np.array(ints[:n], dtype=np.int64)}
    text, _ = write([chunk], fmt, ["x", "i"])
    if fmt == "csv":
        rows = [line.split(",") for line in text.splitlines()[1:]]
        assert all(i.lstrip("-").isdigit() for _, i in rows), "ints are written as plain digits"
        got = [(float(x), int(i)) for x, i in rows]
    else:
        got = [(row["x"], row["i"]) for row in parse(text, fmt)]
        assert all(isinstance(i, int) and isinstance(x, float) for x, i in got)
    assert [i for _, i in got] == chunk["i"].tolist()
    assert all(same_bits(x, w) for (x, _), w in zip(got, chunk["x"].tolist(), strict=True))


def test_float_text_is_shortest():
    # Each float is written with as few significant digits as round-tripping allows.
    values = np.array([0.1, 1 / 3, 2.5e-5, 1e16, 123456789.123, 5e-324, 1.7976931348623157e308])
    text, _ = write([{"x": values}], "csv", ["x"])
    for line, value in zip(text.splitlines()[1:], values.tolist(), strict=True):
        digits = line.split("e")[0].replace("-", "").replace(".", "").strip("0")
        assert float(line) == value
        assert len(digits) == len(repr(value).split("e")[0].replace("-", "").replace(".", "").strip("0"))


def test_other_dtypes_are_widened():
    chunk = {
        "f32": np.array([0.1], dtype=np.float32),
        "i32": np.array([-3], dtype=np.int32),
        "u64": np.array([2**64 - 1], dtype=np.uint64),
        "flag": np.array([True]),
    }
    text, _ = write([chunk], "jsonl", list(chunk))
    row = json.loads(text)
    assert row == {"f32": float(np.float32(0.1)), "i32": -3, "u64": 2**64 - 1, "flag": 1}


def test_strided_arrays_are_written_right():
    base = np.arange(20, dtype=np.int64)
    text, _ = write([{"a": base[::2], "b": base[1::2] * 0.5}], "csv", ["a", "b"])
    assert text.splitlines()[1:3] == ["0,0.5", "2,1.5"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_values_of_very_different_lengths_in_one_slice(fmt, where):
    # Rows are laid out side by side with each column padded to its longest value: the longest
    # value at the start, in the middle or near the end of a slice (where the windows of the values
    # after it run past the end of the column's text), beside columns whose values all have one length.
    n = writers._SLICE + 5
    floats = np.full(n, 0.5)
    floats[::3] = 1.0
    at = {"first": 0, "middle": n // 2, "last": n - 2}[where]
    floats[at] = -2.2250738585072014e-308  # 24 characters, the longest a float can take
    floats[writers._SLICE - 2] = -1.7976931348623157e308  # the longest, near the end of the first slice
    ints = np.full(n, 10**18, dtype=np.int64)  # one length throughout
    ints[at] = -(2**63)
    steps = np.arange(n, dtype=np.int64)  # lengths growing down the column
    chunk = {"f": floats, "i": ints, "s": steps, "c": np.full(n, 3, dtype=np.int64)}
    text, count = write([chunk], fmt, ["s", "f", "c", "i"])
    assert count == n
    if fmt == "csv":
        lines = text.splitlines()
        assert lines[0] == "s,f,c,i" and len(lines) == n + 1
        rows = [dict(zip(["s", "f", "c", "i"], line.split(","), strict=True)) for line in lines[1:]]
        assert all(row["c"] == "3" for row in rows)
        assert [int(row["s"]) for row in rows] == list(range(n))
        assert [int(row["i"]) for row in rows] == ints.tolist()
        assert all(float(row["f"]) == w for row, w in zip(rows, floats.tolist(), strict=True))
    else:
        assert parse(text, fmt) == expected({"s": steps, "f": floats, "c": chunk["c"], "i": ints}, ["s", "f", "c", "i"])


# -- JSON and JSON Lines -----------------------------------------------------------------------


def test_json_is_one_object_with_meta_and_rows():
    meta = {"source": Path("specs/bert.yaml"), "ssrs": [0.5, 1.0], "batches": np.int64(10), "lr": None}
    text, count = write([rows_of(3), rows_of(2, start=3)], "json", meta=meta)
    doc = json.loads(text)
    assert set(doc) == {"meta", "rows"}
    assert doc["meta"] == {"source": "specs/bert.yaml", "ssrs": [0.5, 1.0], "batches": 10, "lr": None}
    assert count == len(doc["rows"]) == 5
    assert all(list(row) == list(COLUMNS) for row in doc["rows"])
    assert isinstance(doc["rows"][0]["batch"], int) and isinstance(doc["rows"][0]["lr"], float)


@pytest.mark.parametrize("chunks", [[], [rows_of(0)]])
def test_json_with_no_rows_is_valid(chunks):
    text, count = write(chunks, "json", meta={"a": 1})
    assert count == 0
    assert json.loads(text) == {"meta": {"a": 1}, "rows": []}


def test_json_without_meta_has_an_empty_one():
    text, _ = write([rows_of(1)], "json")
    assert json.loads(text)["meta"] == {}


def test_json_meta_that_cannot_be_json_is_refused():
    with pytest.raises(TypeError, match="object"):
        write([rows_of(1)], "json", meta={"bad": object()})


def test_jsonl_is_one_object_per_line_without_meta():
    text, count = write([rows_of(4)], "jsonl", meta={"ignored": True})
    lines = text.splitlines()
    assert count == len(lines) == 4 and text.endswith("\n")
    assert [json.loads(line)["batch"] for line in lines] == [0, 1, 2, 3]
    assert "ignored" not in text


def test_json_keys_are_escaped():
    text, _ = write([{'a"b%s': np.array([1.5])}], "jsonl", ['a"b%s'])
    assert json.loads(text) == {'a"b%s': 1.5}


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_are_refused(fmt, bad):
    chunk = rows_of(5)
    chunk["lr"][3] = bad
    with pytest.raises(ValueError, match=r"'lr'.*row 3"):
        write([chunk], fmt)


def test_non_finite_row_is_counted_across_chunks():
    second = rows_of(5)
    second["multiplier"][1] = math.nan
    with pytest.raises(ValueError, match="row 11"):
        write([rows_of(10), second], "csv")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fmt": "xml"}, "format must be one of csv, json, jsonl"),
        ({"columns": []}, "no columns"),
        ({"columns": ["lr", "lr"]}, "distinct"),
        ({"columns": ["nope"]}, "no column 'nope'"),
    ],
)
def test_bad_arguments(kwargs, message):
    args = {"chunks": [rows_of(2)], "fmt": "csv", "stream": io.StringIO(), "columns": COLUMNS} | kwargs
    with pytest.raises(ValueError, match=message):
        write_rows(**args)


def test_ragged_and_non_numeric_columns_are_refused():
    with pytest.raises(ValueError, match="has 2 rows"):
        write([{"a": np.arange(3), "b": np.arange(2)}], "csv", ["a", "b"])
    with pytest.raises(ValueError, match="must hold numbers"):
        write([{"a": np.array(["x"])}], "csv", ["a"])
    with pytest.raises(ValueError, match="1-D"):
        write([{"a": np.zeros((2, 2))}], "csv", ["a"])


# -- streaming ---------------------------------------------------------------------------------


class RecordingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []

    def write(self, text: str) -> int:
        self.sizes.append(len(text))
        return super().write(text)


@pytest.mark.parametrize("fmt", FORMATS)
def test_rows_are_written_as_chunks_arrive(fmt):
    stream = RecordingStream()

    def chunks():
        for k in range(3):
            yield rows_of(10, start=10 * k)
            # By the time the next chunk is asked for, this one's rows are in the stream.
            assert stream.getvalue().count('"batch"' if fmt != "csv" else "\n") >= 10 * (k + 1)

    assert write_rows(chunks(), fmt, stream, COLUMNS, {"m": 1}) == 30


def peak_memory(rows: int, chunk: int = 25_000) -> int:
    """Peak bytes allocated while writing ``rows`` rows as CSV, in chunks of ``chunk``."""

    def chunks():
        for start in range(0, rows, chunk):
            yield rows_of(chunk, start=start)

    with open(os.devnull, "w") as sink:
        tracemalloc.start()
        try:
            assert write_rows(chunks(), "csv", sink, COLUMNS) == rows
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


def test_memory_stays_flat():
    """Three times the rows, in chunks of the same size, take no more memory at the peak."""
    small, large = peak_memory(100_000), peak_memory(300_000)
    # The CSV of 300,000 rows is ~20 MB; one chunk of input is 1.6 MB.
    assert large < 1.2 * small + 1e6, f"{small / 1e6:.1f} MB for 100k rows, {large / 1e6:.1f} MB for 300k"
    assert large < 15e6


# -- atomic_output -----------------------------------------------------------------------------


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_atomic_output_writes_and_replaces(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    with atomic_output(target) as stream:
        stream.write("new\n")
        assert target.read_text() == "old\n", "the old file stays until the new one is complete"
    assert target.read_text() == "new\n"
    assert leftovers(tmp_path) == []


def test_atomic_output_accepts_str_and_binary(tmp_path):
    with atomic_output(str(tmp_path / "a.bin"), binary=True) as stream:
        stream.write(b"\x00\x01")
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"


def test_atomic_output_text_keeps_newlines(tmp_path):
    with atomic_output(tmp_path / "a.txt") as stream:
        stream.write("a\nb\n")
    assert (tmp_path / "a.txt").read_bytes() == b"a\nb\n"


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()])
def test_atomic_output_failure_leaves_the_old_file(tmp_path, error):
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    with pytest.raises(type(error)):
        with atomic_output(target) as stream:
            stream.write("partial")
            raise error
    assert target.read_text() == "old\n"
    assert leftovers(tmp_path) == []


def test_atomic_output_failure_creates_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_output(tmp_path / "new.csv"):
            raise RuntimeError
    assert list(tmp_path.iterdir()) == []


def test_atomic_output_missing_directory(tmp_path):
    target = tmp_path / "nope" / "out.csv"
    with pytest.raises(OutputError, match=r"out\.csv.*does not exist") as info:
        with atomic_output(target):
            pass
    assert isinstance(info.value, OSError)
    assert "\n" not in str(info.value)


def test_atomic_output_parent_is_a_file(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match="is not a directory"):
        with atomic_output(tmp_path / "file" / "out.csv"):
            pass


def test_atomic_output_path_is_a_directory(tmp_path):
    with pytest.raises(OutputError, match="is a directory"):
        with atomic_output(tmp_path):
            pass


def test_atomic_output_unwritable_directory(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(OutputError, match=r"out\.csv.*not writable"):
        with atomic_output(tmp_path / "out.csv"):
            pass


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs POSIX permissions and a non-root user")
def test_atomic_output_read_only_directory(tmp_path):
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="not writable"):
            with atomic_output(tmp_path / "out.csv"):
                pass
    finally:
        tmp_path.chmod(0o700)


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_atomic_output_file_modes(tmp_path):
    mask = os.umask(0o022)
    try:
        with atomic_output(tmp_path / "new.csv") as stream:
            stream.write("x")
        assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) == 0o644
        private = tmp_path / "private.csv"
        private.write_text("old")
        private.chmod(0o600)
        with atomic_output(private) as stream:
            stream.write("x")
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
    finally:
        os.umask(mask)


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_atomic_output_writes_through_a_symlink(tmp_path):
    real = tmp_path / "real.csv"
    real.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    with atomic_output(link) as stream:
        stream.write("new")
    assert link.is_symlink() and real.read_text() == "new"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_atomic_output_writes_straight_into_a_pipe(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    with atomic_output(fifo) as stream:
        stream.write("through the pipe")
    reader.join(timeout=10)
    assert received == ["through the pipe"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_importing_writers_loads_no_heavy_library():
    assert_import_leaves_out("sched_cli.render, sched_cli.render.writers", ("matplotlib", "torch", "orjson", "uniplot"))
