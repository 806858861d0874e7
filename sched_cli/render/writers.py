"""Write schedule rows as CSV, JSON or JSON Lines, streamed chunk by chunk, and save files safely.

Rows arrive as chunks, each a dict of equal-length numpy arrays keyed by column name, and leave
as text without the whole table ever being in memory. Every number is written so that reading
it back gives the same value: integers as plain digits, floats as the shortest text that
round-trips (``0.1``, ``1.0``, ``1e-20``; the exponent is written without padding, ``1e-6``
where Python's ``repr`` writes ``1e-06``).

Speed: numbers are turned into text by ``orjson``, which formats whole numpy arrays in native
code. On the reference machine (2 shared cores) a million rows of eight columns take ~0.47 s
as CSV, where Python's ``repr`` over ``.tolist()`` takes ~2.7 s and ``numpy.savetxt`` longer
still; pyarrow writes ``1.0`` as ``1`` and polars, though faster (~0.15 s), is a 180 MB
install that takes ~0.13 s to import. ``benchmarks/bench_writers.py`` measures it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, TextIO

import numpy as np

__all__ = ["FORMATS", "OutputError", "format_for_path", "write_rows", "atomic_output", "check_output"]

#: Formats :func:`write_rows` writes.
FORMATS = ("csv", "json", "jsonl")

_EXTENSIONS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}

# Rows turned into text at once: big enough for the per-call overhead to vanish, small enough
# that the text of one slice (~1 MB) stays in cache and memory stays flat.
_SLICE = 1 << 14


class OutputError(OSError):
    """An output file that cannot be written; the message names the path and the reason."""


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
    separator = b",\n" if fmt == "json" else b"\n"

    count = 0
    for chunk in chunks:
        arrays = _checked_columns(chunk, columns, first_row=count)
        n = len(arrays[0])
        for start in range(0, n, _SLICE):
            text = _rows_text([a[start : start + _SLICE] for a in arrays], befores, row_end, separator)
            # JSON rows are separated (no comma after the last); CSV and JSONL lines are ended.
            if fmt == "json" and count:
                stream.write(",\n")
            stream.write(text.decode("ascii"))
            if fmt != "json":
                stream.write("\n")
            count += min(_SLICE, n - start)
    if fmt == "json":
        stream.write("\n]}\n")
    return count


def _rows_text(arrays: list[np.ndarray], befores: list[bytes], row_end: bytes, separator: bytes) -> bytes:
    """The rows of equal-length columns, ``separator`` between them.

    Row *i* is ``befores[0] + text(arrays[0][i]) + befores[1] + ... + row_end``. Python's work
    per row is what costs here (orjson formats a million numbers in ~0.1 s), so there is as
    little of it as possible: a column that holds one value throughout (``ssr``, usually) joins
    the literal text around it, and neighbouring columns of one dtype that only a comma
    separates go through orjson as one 2-D block, which comes back already comma-separated.
    """
    literals: list[bytes] = []  # literals[k] comes before blocks[k]; the last one ends the row
    blocks: list[list[np.ndarray]] = []
    literal = b""
    for a, before in zip(arrays, befores, strict=True):
        literal += before
        bits = a.view(np.uint64)  # compared as bits, so that -0.0 is not taken for 0.0
        if bits[0] == bits[-1] and (bits == bits[0]).all():
            literal += _number_texts(a[:1])[0]
        elif blocks and literal == b"," and blocks[-1][-1].dtype == a.dtype:
            blocks[-1].append(a)
            literal = b""
        else:
            literals.append(literal)
            blocks.append([a])
            literal = b""
    if not blocks:
        return separator.join([literal + row_end] * len(arrays[0]))
    head, *inner, tail = [*literals, literal + row_end]
    texts = [_number_texts(b[0] if len(b) == 1 else np.column_stack(b)) for b in blocks]
    if len(texts) == 1:
        rows: Iterable[bytes] = texts[0]
    elif len(set(inner)) == 1:
        rows = map(inner[0].join, zip(*texts, strict=True))
    else:
        template = b"%b" + b"".join(lit.replace(b"%", b"%%") + b"%b" for lit in inner)
        rows = map(template.__mod__, zip(*texts, strict=True))
    return head + (tail + separator + head).join(rows) + tail


def _number_texts(block: np.ndarray) -> list[bytes]:
    """Each row of a 1-D or 2-D array as JSON number text, a row's values comma-separated."""
    import orjson  # here, not at the top, so that importing this module stays cheap

    raw = orjson.dumps(block, option=orjson.OPT_SERIALIZE_NUMPY)
    return raw[1:-1].split(b",") if block.ndim == 1 else raw[2:-2].split(b"],[")


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
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX)
    except OSError as exc:
        reason = "is not writable" if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS) else "refused a new file"
        raise _output_error(
            f"cannot write {path}: directory {directory} {reason} ({exc.strerror})", exc.errno
        ) from None
    try:
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
