"""TensorBoard event files, read without TensorFlow or the ``tensorboard`` package.

An event file (``events.out.tfevents.*``) is a sequence of TFRecord records, each::

    uint64 length | uint32 masked CRC-32C of length | length bytes of data | uint32 masked CRC-32C of data

and each record's data is an ``Event`` protocol buffer. The few fields read here:

- ``Event``: ``wall_time`` (1, double), ``step`` (2, int64), ``summary`` (5, ``Summary``);
- ``Summary``: ``value`` (1, repeated ``Summary.Value``);
- ``Summary.Value``: ``tag`` (1, string), ``simple_value`` (2, float), ``tensor`` (8, ``TensorProto``);
- ``TensorProto``: ``dtype`` (1), ``tensor_content`` (4, bytes), ``float_val`` (5), ``double_val`` (6).

Protocol buffers (proto3) leave out fields at their default: a step of 0 or a value of 0.0 is
absent, and reads as 0. PyTorch's ``SummaryWriter.add_scalar`` (used by Lightning, Composer and
Hugging Face's callbacks) writes ``simple_value``, a float32; TensorFlow 2's ``tf.summary.scalar``
writes a ``tensor``. Every scalar is kept (no 10,000-point reservoir as TensorBoard's own loader
has). CRCs are not verified: a record whose length runs past the end of the file is a truncated
file (a run still writing), reported, and the records before it are kept.

Most scalar records share one byte layout; those are decoded column-wise with numpy, the rest
one by one.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["EventScalars", "TensorBoardError", "is_event_file", "read_event_file", "MAX_EVENT_FILE_BYTES"]

#: Bound on one event file (the scalars of a long run are a few tens of MB; a larger file holds
#: images, histograms or graphs that sched does not read).
MAX_EVENT_FILE_BYTES = 4 * 2**30
_HEADER = 12  # length (8) + its CRC (4)
_FOOTER = 4  # the data's CRC

# TensorProto dtypes that a scalar may have.
_DT_FLOAT, _DT_DOUBLE, _DT_HALF, _DT_BFLOAT16 = 1, 2, 19, 14


class TensorBoardError(ValueError):
    """An event file that cannot be read; the message names the file and the byte offset."""


@dataclass
class EventScalars:
    """The scalars of one event file: for each tag, its steps and values in file order."""

    path: str
    steps: dict[str, np.ndarray] = field(default_factory=dict)
    values: dict[str, np.ndarray] = field(default_factory=dict)
    #: float32 values (``simple_value``), as opposed to float64 tensors.
    float32: bool = True
    #: A note when the file ends inside a record (a run still writing, a copy cut short).
    truncated: str | None = None


def is_event_file(path: Path) -> bool:
    """Whether ``path`` is named as TensorBoard names its event files."""
    return "tfevents" in path.name


def read_event_file(path: str | Path, tags: Iterable[str] | None = None) -> EventScalars:
    """Every scalar of an event file (only ``tags`` if given)."""
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_EVENT_FILE_BYTES:
        raise TensorBoardError(f"{path}: {size:,} bytes is more than sched reads from one event file (4 GiB)")
    buf = path.read_bytes()
    wanted = None if tags is None else set(tags)
    offsets, lengths, truncated = _records(buf, str(path))
    out = EventScalars(str(path), truncated=truncated)
    columns: dict[str, tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]] = {}
    slow = _decode_common_layout(buf, offsets, lengths, columns, wanted)
    for index in slow:
        start = int(offsets[index])
        try:
            step, scalars = _parse_event(buf, start, start + int(lengths[index]))
        except (IndexError, ValueError, struct.error) as exc:
            raise TensorBoardError(
                f"{path}: byte {start - _HEADER:,}: not a TensorBoard event record ({exc})"
            ) from None
        for tag, value, is32 in scalars:
            if wanted is not None and tag not in wanted:
                continue
            order, steps, values = columns.setdefault(tag, ([], [], []))
            order.append(np.array([index], dtype=np.int64))
            steps.append(np.array([step], dtype=np.int64))
            values.append(np.array([value], dtype=np.float64))
            out.float32 = out.float32 and is32
    for tag, (order, steps, values) in columns.items():
        o = np.concatenate(order)
        sort = np.argsort(o, kind="stable")
        out.steps[tag] = np.concatenate(steps)[sort]
        out.values[tag] = np.concatenate(values)[sort]
    return out


def _records(buf: bytes, where: str) -> tuple[np.ndarray, np.ndarray, str | None]:
    """Where each record's data starts, and its length (one pass: each length gives the next)."""
    n = len(buf)
    starts: list[int] = []
    lengths: list[int] = []
    pos = 0
    unpack = struct.Struct("<Q").unpack_from
    truncated = None
    while pos < n:
        if pos + _HEADER > n:
            truncated = f"{where}: the file ends inside a record header at byte {pos:,} (still being written?)"
            break
        (length,) = unpack(buf, pos)
        end = pos + _HEADER + length + _FOOTER
        if end > n:
            truncated = f"{where}: the file ends inside the record at byte {pos:,} (still being written?)"
            break
        starts.append(pos + _HEADER)
        lengths.append(length)
        pos = end
    return np.array(starts, dtype=np.int64), np.array(lengths, dtype=np.int64), truncated


def _decode_common_layout(
    buf: bytes,
    offsets: np.ndarray,
    lengths: np.ndarray,
    columns: dict[str, tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]],
    wanted: set[str] | None,
) -> list[int]:
    """Decode, column-wise, the records laid out as ``add_scalar`` writes them::

        09 <wall_time:8> 10 <step varint> 2a <n> 0a <m> 0a <k> <tag:k> 15 <float32:4>

    and return the indices of every other record, for :func:`_parse_event`. Records are grouped
    by length; within a group each byte position is one gathered column."""
    data = np.frombuffer(buf, dtype=np.uint8)
    slow: list[int] = []
    for length in np.unique(lengths).tolist():
        rows = np.flatnonzero(lengths == length)
        starts = offsets[rows]
        if length < 20:
            slow.extend(rows.tolist())
            continue

        def byte(k: int, where: np.ndarray = starts) -> np.ndarray:
            return data[where + k]

        # The step's varint: from byte 10, its last byte below 0x80.
        size = np.full(len(rows), 0, dtype=np.int64)
        done = np.zeros(len(rows), dtype=bool)
        for i in range(min(10, length - 11)):
            last = ~done & (byte(10 + i) < 0x80)
            size[last] = i + 1
            done |= last
        for n in np.unique(size[done]).tolist():
            pick = done & (size == n)
            sub, at = rows[pick], starts[pick]
            p = 10 + n
            tag_len = length - p - 11
            if tag_len <= 0:
                slow.extend(sub.tolist())
                continue
            ok = (byte(0, at) == 0x09) & (byte(9, at) == 0x10) & (byte(p, at) == 0x2A)
            ok &= (byte(p + 1, at) == length - p - 2) & (byte(p + 2, at) == 0x0A) & (byte(p + 3, at) == length - p - 4)
            ok &= (byte(p + 4, at) == 0x0A) & (byte(p + 5, at) == tag_len) & (byte(p + 6 + tag_len, at) == 0x15)
            slow.extend(sub[~ok].tolist())
            sub, at = sub[ok], at[ok]
            if not len(sub):
                continue
            step = np.zeros(len(sub), dtype=np.uint64)
            for i in range(n):
                step |= (byte(10 + i, at).astype(np.uint64) & np.uint64(0x7F)) << np.uint64(7 * i)
            raw = np.stack([byte(p + 7 + tag_len + i, at) for i in range(4)], axis=1)
            values = np.ascontiguousarray(raw).view("<f4")[:, 0].astype(np.float64)
            tags = np.stack([byte(p + 6 + i, at) for i in range(tag_len)], axis=1)
            remaining = np.ones(len(sub), dtype=bool)
            while remaining.any():
                first = tags[np.argmax(remaining)]
                mask = remaining & (tags == first).all(axis=1)
                remaining &= ~mask
                tag = first.tobytes().decode("utf-8", "replace")
                if wanted is not None and tag not in wanted:
                    continue
                order, steps, vals = columns.setdefault(tag, ([], [], []))
                order.append(sub[mask])
                steps.append(step[mask].astype(np.int64))
                vals.append(values[mask])
        slow.extend(rows[~done].tolist())
    return slow


# -- one record at a time ------------------------------------------------------------------------
def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("a varint longer than 10 bytes")


def _fields(buf: bytes, pos: int, end: int):
    """The (field number, wire type, value) of a protocol buffer message in ``buf[pos:end]``;
    a length-delimited value is given as its (start, end)."""
    while pos < end:
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos : pos + 8], pos + 8
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value, pos = (pos, pos + size), pos + size
        elif wire == 5:
            value, pos = buf[pos : pos + 4], pos + 4
        else:
            raise ValueError(f"wire type {wire}")
        if pos > end:
            raise ValueError("a field runs past its message")
        yield number, wire, value


def _parse_event(buf: bytes, start: int, end: int) -> tuple[int, list[tuple[str, float, bool]]]:
    """An ``Event``'s step and its scalar values (tag, value, is float32)."""
    step = 0
    scalars: list[tuple[str, float, bool]] = []
    for number, wire, value in _fields(buf, start, end):
        if number == 2 and wire == 0:
            step = value - (1 << 64) if value >= 1 << 63 else value
        elif number == 5 and wire == 2:
            for vnum, vwire, vspan in _fields(buf, *value):
                if vnum == 1 and vwire == 2:
                    scalar = _parse_value(buf, *vspan)
                    if scalar is not None:
                        scalars.append(scalar)
    return step, scalars


def _parse_value(buf: bytes, start: int, end: int) -> tuple[str, float, bool] | None:
    tag = ""
    value: float | None = None
    is32 = True
    kind = None
    for number, wire, field_value in _fields(buf, start, end):
        if number == 1 and wire == 2:
            tag = buf[field_value[0] : field_value[1]].decode("utf-8", "replace")
        elif number == 2 and wire == 5:
            value, kind = struct.unpack("<f", field_value)[0], "simple"
        elif number == 8 and wire == 2:
            tensor = _parse_tensor(buf, *field_value)
            if tensor is not None:
                value, is32 = tensor
                kind = "tensor"
        elif number in (3, 4, 5, 6):  # histograms, images, audio: not scalars
            kind = "other"
    if kind == "other" or (kind is None and not tag):
        return None
    # A simple_value of 0.0 is left out of the record (proto3): a tag alone is a scalar of 0.
    return tag, 0.0 if value is None else value, is32


def _parse_tensor(buf: bytes, start: int, end: int) -> tuple[float, bool] | None:
    """A scalar ``TensorProto`` (TensorFlow 2's summaries) as (value, is float32)."""
    dtype = _DT_FLOAT
    content = floats = doubles = None
    for number, wire, value in _fields(buf, start, end):
        if number == 1 and wire == 0:
            dtype = value
        elif number == 4 and wire == 2:
            content = buf[value[0] : value[1]]
        elif number == 5:
            floats = buf[value[0] : value[1]] if wire == 2 else value
        elif number == 6:
            doubles = buf[value[0] : value[1]] if wire == 2 else value
    if dtype == _DT_FLOAT:
        raw = content or floats
        return (float(np.frombuffer(raw[:4], "<f4")[0]), True) if raw and len(raw) >= 4 else (0.0, True)
    if dtype == _DT_DOUBLE:
        raw = content or doubles
        return (float(np.frombuffer(raw[:8], "<f8")[0]), False) if raw and len(raw) >= 8 else (0.0, False)
    if dtype == _DT_HALF and content and len(content) >= 2:
        return float(np.frombuffer(content[:2], "<f2")[0]), True
    return None
