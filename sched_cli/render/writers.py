"""Write schedule rows as CSV, JSON or JSON Lines, streamed chunk by chunk, and save files safely.

Rows arrive as chunks, each a dict of equal-length numpy arrays keyed by column name, and leave
as text without the whole table ever being in memory. Every number is written so that reading
it back gives the same value: integers as plain digits, floats as the shortest text that
round-trips (``0.1``, ``1.0``, ``1e-20``; the exponent is written without padding, ``1e-6``
where Python's ``repr`` writes ``1e-06``).

Speed: numbers are turned into text by ``orjson``, which formats a whole numpy column in native
code (a million floats in ~25 ms), and numpy lays the columns' texts out row by row without a
Python object per row or per value (see :func:`_rows_text`). On a 2-core machine a million rows
of eight columns take ~0.33 s of CPU as CSV, where Python's ``repr`` over ``.tolist()`` takes
~2.7 s and ``numpy.savetxt`` longer still; pyarrow writes ``1.0`` as ``1`` and polars is a
180 MB install that takes ~0.13 s to import. ``benchmarks/bench_writers.py`` measures it.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, TextIO

import numpy as np

__all__ = ["FORMATS", "OutputError", "format_for_path", "write_rows", "atomic_output", "check_output", "preload"]

#: Formats :func:`write_rows` writes.
FORMATS = ("csv", "json", "jsonl")

_EXTENSIONS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}

# Rows turned into text at once: big enough for the per-call overhead to vanish, small enough
# that the text of one slice (~1 MB) stays in cache and memory stays flat.
_SLICE = 1 << 14


class OutputError(OSError):
    """An output file that cannot be written; the message names the path and the reason."""


def preload() -> None:
    """Import the native number formatter (orjson) now, before an output file is opened.

    A signal that arrives while an extension module initialises can crash it (orjson 3.9 does):
    loaded up front, that can no longer happen with a half-written temporary file on disk.
    """
    import orjson  # noqa: F401


def format_for_path(path: str | os.PathLike[str]) -> str | None:
    """The format a file name asks for by its extension (``.csv``, ``.json``, ``.jsonl``/``.ndjson``).

    ``None`` when the extension is none of these.
    """
    return _EXTENSIONS.get(Path(path).suffix.lower())


def write_rows(
    chunks: Iterable[dict[str, np.ndarray]],
    fmt: str,
    stream: TextIO,
    columns: Sequence[str],
    meta: dict[str, Any] | None = None,
) -> int:
    """Write rows to ``stream`` in format ``fmt`` and return how many were written.

    Args:
        chunks: Dicts of equal-length numpy arrays, one per column name; keys beyond
            ``columns`` are ignored. Integer arrays are written as integers, float arrays as
            floats.
        fmt: ``"csv"`` (a header line, then one line per row), ``"json"`` (one object
            ``{"meta": meta, "rows": [...]}``) or ``"jsonl"`` (one object per line, no meta).
        stream: A text stream; written slice by slice, never holding the whole output.
        columns: The columns to write, in this order.
        meta: Metadata for the ``json`` format; ignored by the others.

    Raises:
        ValueError: An unknown format, a missing or ragged column, a column that is not
            numbers, or a float that is NaN or infinite (no format here can hold one).
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    columns = list(columns)
    if not columns:
        raise ValueError("no columns to write")
    if len(set(columns)) != len(columns):
        raise ValueError(f"columns must be distinct, got {columns}")

    # A row is, for each column, a literal and then the value's text, then a row end.
    if fmt == "csv":
        stream.write(",".join(_csv_field(c) for c in columns) + "\n")
        befores = [b""] + [b","] * (len(columns) - 1)
        row_end = b""
    else:
        keys = [_json_text(str(c)) + b":" for c in columns]
        befores = [b"{" + keys[0]] + [b"," + k for k in keys[1:]]
        row_end = b"}"
        if fmt == "json":
            stream.write('{"meta":' + _json_text(meta or {}).decode() + ',"rows":[\n')
            # JSON rows are separated, not ended: each row starts with ",\n" but the first.
            befores[0] = b",\n" + befores[0]
    separator = b"" if fmt == "json" else b"\n"

    count = 0
    for chunk in chunks:
        arrays = _checked_columns(chunk, columns, first_row=count)
        n = len(arrays[0])
        for start in range(0, n, _SLICE):
            text = _rows_text([a[start : start + _SLICE] for a in arrays], befores, row_end, separator)
            stream.write(text[2:] if fmt == "json" and not count else text)
            count += min(_SLICE, n - start)
    if fmt == "json":
        stream.write("\n]}\n")
    return count


def _rows_text(arrays: list[np.ndarray], befores: list[bytes], row_end: bytes, separator: bytes) -> str:
    """The rows of equal-length columns, each row followed by ``separator``.

    Row *i* is ``befores[0] + text(arrays[0][i]) + befores[1] + ... + row_end``. No Python
    object is made per row or per value: orjson turns each column into one comma-separated text
    (a 1-D array of a million floats in ~25 ms; a 2-D block costs ~8x more per value), and numpy
    lays the rows out side by side in a byte table, each column's values padded to its longest,
    then squeezes the padding out. A column that holds one value throughout (``ssr``, usually)
    joins the literal text around it.
    """
    n = len(arrays[0])
    literals: list[bytes] = []  # literals[k] comes before fields[k]; the last one ends the row
    fields: list[tuple[bytes, np.ndarray, np.ndarray]] = []
    literal = b""
    for a, before in zip(arrays, befores, strict=True):
        literal += before
        bits = a.view(np.uint64)  # compared as bits, so that -0.0 is not taken for 0.0
        if bits[0] == bits[-1] and (bits == bits[0]).all():
            literal += _number_text(a)
        else:
            literals.append(literal)
            fields.append(_value_spans(a))
            literal = b""
    literals.append(literal + row_end + separator)
    if not fields:
        return (literals[0] * n).decode("ascii")
    # A row is laid out as cells, one per field: the literal before it, then the field padded to
    # its longest value; the last cell also holds the row's end.
    widths = [int(lengths.max()) for _, _, lengths in fields]
    template = b"".join(lit + bytes(w) for lit, w in zip(literals, widths, strict=False)) + literals[-1]
    table = np.empty((n, len(template)), dtype=np.uint8)  # the rows, padded
    table[:] = np.frombuffer(template, dtype=np.uint8)
    keep = np.ones_like(table)  # 1 where the table holds text, 0 where it holds padding
    at = 0
    for k, (text, starts, lengths) in enumerate(fields):
        lead, w = len(literals[k]), widths[k]
        if lengths[0] == w and (lengths == w).all():
            # Values of one length (counters, often): evenly spaced in the text, nothing to pad.
            _cells(table, at + lead, w)[...] = np.ndarray((n,), np.dtype(f"V{w}"), text, offset=1, strides=(w + 1,))
        else:
            trail = len(literals[-1]) if k == len(fields) - 1 else 0
            _copy_windows(_cells(table, at + lead, w), text, starts, w)
            _cells(keep, at, lead + w + trail)[...] = _prefixes(lead, w, trail)[lengths]
        at += lead + w
    return str(table[keep.view(bool)], "ascii")


def _value_spans(a: np.ndarray) -> tuple[bytes, np.ndarray, np.ndarray]:
    """A 1-D array as JSON number text ``[v0,v1,...]``, with each value's start and length in it."""
    import orjson

    text = orjson.dumps(a, option=orjson.OPT_SERIALIZE_NUMPY)
    ends = np.empty(len(a), dtype=np.int64)
    ends[:-1] = np.flatnonzero(np.frombuffer(text, dtype=np.uint8) == ord(","))
    ends[-1] = len(text) - 1
    starts = np.empty_like(ends)
    starts[0] = 1
    starts[1:] = ends[:-1] + 1
    return text, starts, ends - starts


# Numpy copies a run of bytes fastest as one item of a void dtype ``V<width>``: gathering a
# million 20-byte windows that way takes ~5 ms, as a 2-D uint8 gather ~12 ms, since the cost is
# per item.
def _cells(table: np.ndarray, at: int, width: int) -> np.ndarray:
    """Columns ``at .. at + width`` of a C-contiguous 2-D uint8 table, one void item per row."""
    return np.ndarray((len(table),), dtype=np.dtype(f"V{width}"), buffer=table, offset=at, strides=(table.shape[1],))


def _copy_windows(out: np.ndarray, text: bytes, starts: np.ndarray, width: int) -> None:
    """``out[i]`` = the ``width`` bytes of ``text`` from ``starts[i]`` (zeros past its end)."""
    kind = np.dtype(f"V{width}")
    # Windows that would run past the end of the text (the last few) come from a padded copy of
    # its tail; the rest straight from the text, without copying it.
    inside = int(np.searchsorted(starts, len(text) - width, side="right"))
    windows = np.ndarray((len(text) - width + 1,), dtype=kind, buffer=text, strides=(1,))
    out[:inside] = windows[starts[:inside]]
    if inside < len(starts):
        first = int(starts[inside])
        tail = text[first:] + bytes(width)
        out[inside:] = np.ndarray((len(tail) - width + 1,), dtype=kind, buffer=tail, strides=(1,))[
            starts[inside:] - first
        ]


@functools.lru_cache(maxsize=256)
def _prefixes(lead: int, width: int, trail: int) -> np.ndarray:
    """Which bytes of a cell to keep, for each length of its value: item ``l`` is ``lead`` ones,
    ``l`` ones and ``width - l`` zeros, then ``trail`` ones, as one void item."""
    ones = np.arange(width) < np.arange(width + 1)[:, None]
    cells = np.hstack([np.ones((width + 1, lead), dtype=bool), ones, np.ones((width + 1, trail), dtype=bool)])
    return cells.astype(np.uint8).view(np.dtype(f"V{lead + width + trail}")).reshape(width + 1)


def _number_text(a: np.ndarray) -> bytes:
    """The first value of a 1-D array as JSON number text."""
    import orjson  # here, not at the top, so that importing this module stays cheap

    return orjson.dumps(a[:1], option=orjson.OPT_SERIALIZE_NUMPY)[1:-1]


def _json_text(value: Any) -> bytes:
    """``value`` as compact JSON; numpy scalars and arrays and paths are welcome in metadata."""
    import orjson

    def fallback(obj: Any) -> Any:
        if isinstance(obj, os.PathLike):
            return os.fspath(obj)
        raise TypeError(f"{type(obj).__name__} cannot be written as JSON")

    return orjson.dumps(value, default=fallback, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)


def _checked_columns(chunk: dict[str, np.ndarray], columns: list[str], first_row: int) -> list[np.ndarray]:
    """The chunk's columns as contiguous int64/uint64/float64 arrays, checked for the writers."""
    missing = [c for c in columns if c not in chunk]
    if missing:
        raise ValueError(f"chunk has no column {missing[0]!r} (it has {', '.join(map(repr, chunk))})")
    out = []
    for name in columns:
        a = np.asarray(chunk[name])
        if a.ndim != 1:
            raise ValueError(f"column {name!r} must be 1-D, got shape {a.shape}")
        if a.dtype.kind == "f":
            a = np.ascontiguousarray(a, dtype=np.float64)
            finite = np.isfinite(a)
            if not finite.all():
                i = int(np.argmin(finite))
                raise ValueError(
                    f"column {name!r} has the non-finite value {float(a[i])} at row {first_row + i}; "
                    "CSV and JSON rows hold finite numbers only"
                )
        elif a.dtype.kind in "iub":
            wide = np.uint64 if a.dtype.kind == "u" and a.dtype.itemsize == 8 else np.int64
            a = np.ascontiguousarray(a, dtype=wide)
        else:
            raise ValueError(f"column {name!r} must hold numbers, not {a.dtype}")
        if out and len(a) != len(out[0]):
            raise ValueError(f"column {name!r} has {len(a)} rows but {columns[0]!r} has {len(out[0])}")
        out.append(a)
    return out


def _csv_field(text: str) -> str:
    """A header field, quoted only if it needs to be."""
    if any(ch in text for ch in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


#: The temporary file's name: short (well within NAME_MAX whatever the target's name), hidden,
#: and recognisably sched's. ``mkstemp`` adds 8 random characters.
_TEMP_PREFIX, _TEMP_SUFFIX = ".sched-", ".tmp"
#: Write failures reported as such (the file system's, not a bug of ours).
_WRITE_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EIO, errno.EROFS, errno.EACCES, errno.EPERM}


def _output_error(message: str, code: int | None = None) -> OutputError:
    error = OutputError(message)
    error.errno = code  # type: ignore[misc] # exit code 1 for a full disk is read from it
    return error


def check_output(
    path: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str]] = (), *, option: str = "-o"
) -> None:
    """Refuse, before anything runs, an output path that cannot or must not be written.

    Refused: a directory; a directory that does not exist or is not writable; a name longer than
    the file system allows (``NAME_MAX``); an existing file that is write-protected (no write
    permission bits, or no write access); and any of ``inputs`` (compared by device and inode,
    so a symlink or another spelling of a spec file is caught too).

    Raises:
        OutputError: The message starts with ``{option} {path}:`` and says why.
    """
    shown = f"{option} {os.fspath(path)}"
    if os.fspath(path) == "-":
        # Only `sched export` writes to standard output (it handles `-` itself): never a file named '-'.
        raise _output_error(f"{shown}: standard output takes text only (sched export); give a file name", errno.EINVAL)
    target = Path(os.path.realpath(path))
    existing = _stat(target)
    if existing is not None and stat.S_ISDIR(existing.st_mode):
        raise _output_error(f"{shown}: is a directory; give a file name", errno.EISDIR)
    for source in inputs:
        found = _stat(Path(source))
        if existing is not None and found is not None and os.path.samestat(existing, found):
            raise _output_error(f"{shown}: is the input {os.fspath(source)}; writing it would destroy it", errno.EEXIST)
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        return  # a device or a pipe: written to, not replaced
    directory = target.parent
    if not directory.is_dir():
        reason = "is not a directory" if directory.exists() else "does not exist"
        raise _output_error(f"{shown}: directory {str(directory)!r} {reason}", errno.ENOENT)
    if not os.access(directory, os.W_OK | os.X_OK):
        raise _output_error(f"{shown}: directory {str(directory)!r} is not writable", errno.EACCES)
    limit = _name_max(directory)
    if len(os.fsencode(target.name)) > limit:
        raise _output_error(
            f"{shown}: the file name is {len(os.fsencode(target.name))} bytes long, more than this file system "
            f"allows ({limit}); choose a shorter name",
            errno.ENAMETOOLONG,
        )
    if existing is not None and (not existing.st_mode & 0o222 or not os.access(target, os.W_OK)):
        # As `rm` and `cp` do, a file without write permission is not silently replaced, even by
        # root (who could): it was protected on purpose.
        raise _output_error(
            f"{shown}: the existing file is write-protected (mode {stat.filemode(existing.st_mode)}); "
            "make it writable (chmod u+w) or choose another name",
            errno.EACCES,
        )


def _name_max(directory: Path) -> int:
    try:
        return os.pathconf(directory, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # pragma: no cover - not POSIX
        return 255


def _hold_signals() -> Any:
    """Block SIGINT, SIGTERM and SIGHUP (in the main thread, where Python handles them); the
    previous mask, for :func:`_release_signals`, which delivers what arrived meanwhile."""
    import signal
    import threading

    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGHUP})


def _release_signals(held: Any) -> None:
    if held is not None:
        import signal

        signal.pthread_sigmask(signal.SIG_SETMASK, held)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str], *, binary: bool = False) -> Iterator[IO[Any]]:
    """Open a stream whose contents replace ``path`` only once everything is written.

    The stream is a temporary file ``.sched-XXXXXXXX.tmp`` in the same directory as ``path``. On
    normal exit it is flushed, synced to disk and moved onto ``path`` in one step; on any
    exception, including ``KeyboardInterrupt`` and the exception a signal handler raises, it is
    removed and whatever was at ``path`` stays as it was. A path that is not a regular file
    (``/dev/stdout``, a pipe) is written to directly. Text streams are UTF-8 with ``\\n`` line
    endings; ``binary=True`` yields a binary stream instead.

    Raises:
        OutputError: ``path`` is refused by :func:`check_output`, or writing fails (a full disk,
            a file size limit: ``errno`` is then ``ENOSPC``/``EFBIG``/``EDQUOT``).
    """
    target = Path(os.path.realpath(path))
    mode = "wb" if binary else "w"
    text_args: dict[str, Any] = {} if binary else {"encoding": "utf-8", "newline": ""}
    check_output(path, option="cannot write")
    existing = _stat(target)
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        # Devices and pipes cannot be replaced, only written to.
        with open(target, mode, **text_args) as stream:
            yield stream
        return
    directory = target.parent
    # A signal that lands between the temporary file's creation and the `try` below would leave
    # it behind: hold the signals that end sched until the file is in the `try`'s care.
    held = _hold_signals()
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX)
    except OSError as exc:
        _release_signals(held)
        reason = "is not writable" if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS) else "refused a new file"
        raise _output_error(
            f"cannot write {path}: directory {directory} {reason} ({exc.strerror})", exc.errno
        ) from None
    try:
        _release_signals(held)
        # mkstemp makes the file private; give it the mode the file it replaces had, or the
        # mode a newly created file would get.
        if hasattr(os, "fchmod"):
            os.fchmod(fd, stat.S_IMODE(existing.st_mode) if existing else 0o666 & ~_umask())
        with os.fdopen(fd, mode, **text_args) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, OutputError) and exc.errno in _WRITE_ERRNOS:
            raise _output_error(f"cannot write {path}: {exc.strerror}", exc.errno) from None
        raise
    _sync_directory(directory)


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable, where the platform allows it."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
