"""Recognise a log by its content and read its LRs: JSON (``trainer_state.json``), JSON lines
(LLaMA-Factory's ``trainer_log.jsonl``, MMEngine's ``scalars.json``, W&B exports), CSV
(Lightning's ``metrics.csv``, W&B exports, anything with a step and an LR column) and TensorBoard
event files, or a directory holding one of them."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from sched_cli.logs import ALIGNMENTS, FLOAT32_EPS, LogError, LoggedLRs, composer
from sched_cli.logs import tensorboard as tb

__all__ = ["read_log", "read_logs", "MAX_LOG_BYTES", "MAX_EVENT_FILES"]

#: Bound on a text log (a CSV or JSON lines of a few million rows).
MAX_LOG_BYTES = 1 * 2**30
#: Bound on the event files read from one directory.
MAX_EVENT_FILES = 1_000
#: The LR tags trainers write, most specific first (``--tag`` picks another).
LR_TAGS = (
    "train/learning_rate",  # Hugging Face's TensorBoardCallback
    "learning-rate",  # Megatron-LM
    "learning_rate",
    "Train/Samples/lr",  # DeepSpeed's monitor (x: samples)
    "learning-rate vs samples",  # Megatron-LM (x: consumed samples)
    "learning-rate_vs_samples",  # the same, written by tensorboardX (its tags have no spaces)
    "train/lr",
    "lr",  # MMEngine, many scripts
)
#: The tags whose x is the samples seen, not the updates done.
SAMPLE_TAGS = ("Train/Samples/lr", "learning-rate vs samples", "learning-rate_vs_samples")
#: Column names read as the step, the trainer's own first (``--step-col`` picks another): a W&B
#: export has W&B's ``_step`` (one per ``wandb.log`` call) beside the trainer's step column
#: (``train/global_step`` from Hugging Face's WandbCallback, ``trainer/global_step`` from
#: Lightning's WandbLogger).
STEP_COLUMNS = (
    "train/global_step",
    "trainer/global_step",
    "global_step",
    "step",
    "current_steps",
    "iteration",
    "iter",
    "_step",
)


def read_log(path: str | Path, tag: str | None = None, step_col: str | None = None) -> LoggedLRs:
    """The LRs of one log file or directory (``tag``: the tag or column to read)."""
    if str(path) == "-" or Path(path).exists() and not (Path(path).is_file() or Path(path).is_dir()):
        return _read_stream(str(path), tag, step_col)
    path = Path(path)
    if not path.exists():
        raise LogError(f"{path}: no such file or directory")
    if path.is_dir():
        return _read_directory(path, tag, step_col)
    if tb.is_event_file(path):
        return _from_events([path], tag, str(path))
    head = _head(path)
    if composer.is_file_log(head):
        found = composer.read_file_log(
            str(path), _read_text(path), lambda names, asked: _choose(names, asked, str(path), "metric", "--tag"), tag
        )
        return _deduplicated(found)
    if head.startswith(b"\x00") or (len(head) >= 12 and not _is_text(head)):
        # A TFRecord starts with a little-endian length, which is not text.
        return _from_events([path], tag, str(path))
    text = _read_text(path)
    stripped = text.lstrip()
    if stripped.startswith("{") or stripped.startswith("["):
        return _from_json(path, text, tag, step_col)
    return _from_csv(path, text, tag, step_col)


def _read_stream(name: str, tag: str | None, step_col: str | None) -> LoggedLRs:
    """A log piped in: ``-`` (the standard input) or a named pipe, read once, whole (up to
    :data:`MAX_LOG_BYTES`), then as the file it holds; the messages name ``name``."""
    import sys
    import tempfile

    shown = "stdin" if name == "-" else name
    if name == "-":
        data = sys.stdin.buffer.read(MAX_LOG_BYTES + 1)
    else:
        with open(name, "rb") as f:
            data = f.read(MAX_LOG_BYTES + 1)
    if len(data) > MAX_LOG_BYTES:
        raise LogError(f"{shown}: more than sched reads from one log (1 GiB)")
    with tempfile.TemporaryDirectory(prefix="sched-log-") as directory:
        copy = Path(directory) / ("stdin" if name == "-" else Path(name).name)
        copy.write_bytes(data)
        try:
            log = read_log(copy, tag, step_col)
        except LogError as exc:
            raise LogError(str(exc).replace(str(copy), shown)) from None
    log.source = shown
    log.notes = [n.replace(str(copy), shown) for n in log.notes]
    return log


# -- directories ---------------------------------------------------------------------------------
def _read_directory(path: Path, tag: str | None, step_col: str | None) -> LoggedLRs:
    """A checkpoint or output directory: its ``trainer_state.json`` (the last checkpoint's when only
    checkpoints hold one), LLaMA-Factory's ``trainer_log.jsonl``, MMEngine's ``scalars.json``, or
    its TensorBoard event files."""
    for name in ("trainer_state.json", "trainer_log.jsonl", "metrics.csv"):
        if (path / name).is_file():
            return read_log(path / name, tag, step_col)
    checkpoints = sorted(
        (p for p in path.glob("checkpoint-*") if (p / "trainer_state.json").is_file()),
        key=lambda p: int(p.name.split("-")[-1]) if p.name.split("-")[-1].isdigit() else -1,
    )
    if checkpoints:
        return read_log(checkpoints[-1] / "trainer_state.json", tag, step_col)
    events = sorted(_walk(path, lambda p: tb.is_event_file(p)), key=_written_at)
    if events:
        return _from_events(events, tag, str(path))
    scalars = sorted(_walk(path, lambda p: p.name == "scalars.json"))
    if scalars:
        return read_log(scalars[-1], tag, step_col)
    for what, wanted in (
        ("Lightning metrics.csv logs", lambda p: p.name == "metrics.csv"),  # lightning_logs/version_<N>/
        ("Composer FileLogger logs", lambda p: p.suffix == ".txt" and composer.is_file_log(_head(p))),
    ):
        found = sorted(_walk(path, wanted))
        if len(found) > 1:
            raise LogError(f"{path}: several {what} ({', '.join(map(str, found[:4]))}): several runs? give one")
        if found:
            return read_log(found[0], tag, step_col)
    raise LogError(
        f"{path}: no log found in this directory (looked for trainer_state.json, checkpoint-*/, trainer_log.jsonl, "
        "metrics.csv, TensorBoard event files, vis_data/scalars.json and Composer FileLogger .txt logs); "
        "give the log file itself"
    )


def _written_at(path: Path) -> tuple[int, str]:
    """When an event file was opened, from its name (``events.out.tfevents.<unix time>.<host>...``):
    a resumed run's files, in the order they were written (their directories' names, such as
    Hugging Face's ``runs/Dec04_19-13-22_host``, do not sort by time)."""
    after = path.name.split("tfevents.", 1)[-1].split(".", 1)[0]
    return (int(after) if after.isdigit() else 0, str(path))


def _walk(path: Path, wanted) -> list[Path]:
    found = []
    for i, p in enumerate(path.rglob("*")):
        if i > 100_000:
            raise LogError(f"{path}: more than 100,000 entries under this directory; give the log file itself")
        if p.is_file() and wanted(p):
            found.append(p)
            if len(found) > MAX_EVENT_FILES:
                raise LogError(f"{path}: more than {MAX_EVENT_FILES:,} log files under this directory; give one")
    return found


# -- TensorBoard ---------------------------------------------------------------------------------
def _from_events(paths: list[Path], tag: str | None, where: str) -> LoggedLRs:
    try:
        files = [tb.read_event_file(p) for p in paths]
    except tb.TensorBoardError as exc:
        raise LogError(str(exc)) from None
    tags = sorted({t for f in files for t in f.steps})
    if not tags:
        if not any(tb.is_event_file(p) for p in paths):
            raise LogError(
                f"{where}: not a log sched reads: a binary file that is not TensorBoard events; give a "
                "trainer_state.json, an event file (events.out.tfevents.*), or a CSV or JSON lines log"
            )
        raise LogError(f"{where}: these TensorBoard events hold no scalar (had the run logged any yet?)")
    notes: list[str] = []
    chosen = _choose(tags, tag, where, "tag", "--tag", notes)
    _one_run(files, chosen, where)
    steps = np.concatenate([f.steps[chosen] for f in files if chosen in f.steps])
    values = np.concatenate([f.values[chosen] for f in files if chosen in f.steps])
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        raise LogError(
            f"{where}: {chosen} is {values[bad[0]]} at step {steps[bad[0]]:,} ({len(bad):,} such points), not a "
            "finite number: no schedule gives it; check the run itself"
        )
    notes += [f.truncated for f in files if f.truncated]
    float32 = all(f.float32 for f in files if chosen in f.steps)
    log = LoggedLRs(
        where,
        "tensorboard",
        chosen,
        steps,
        values,
        alignment=_tag_alignment(chosen),
        unit="sample" if chosen in SAMPLE_TAGS else "update",
        precision=FLOAT32_EPS if float32 else 0.0,
        notes=notes,
    )
    return _deduplicated(log)


def _one_run(files: list[tb.EventScalars], tag: str, where: str) -> None:
    """Refuse the event files of several runs under one directory (Hugging Face's ``runs/`` keeps
    one directory per launch): a directory whose files start again at or before the first
    directory's first step is another run, not the same run resumed from a checkpoint."""
    starts: dict[str, int] = {}
    for f in files:
        if tag in f.steps and len(f.steps[tag]):
            parent = str(Path(f.path).parent)
            starts[parent] = min(starts.get(parent, int(f.steps[tag].min())), int(f.steps[tag].min()))
    if len(starts) < 2:
        return
    first, *later = starts.items()
    again = [d for d, start in later if start <= first[1]]
    if again:
        runs = ", ".join([first[0], *again][:4])
        raise LogError(
            f"{where}: {tag!r} is logged from step {first[1]:,} in more than one directory ({runs}): several runs, "
            "not one resumed; give one run's directory"
        )


def _tag_alignment(tag: str):
    if tag == "train/learning_rate":
        return ALIGNMENTS["hf"]
    if tag.startswith("lr-") and "/group" in tag:
        return ALIGNMENTS["composer"]
    if tag.startswith("lr-"):
        return ALIGNMENTS["lightning"]
    if tag in ("learning-rate", "learning-rate vs samples", "learning-rate_vs_samples"):
        return ALIGNMENTS["megatron"]
    if tag == "Train/Samples/lr":
        return ALIGNMENTS["deepspeed"]
    return None


def _table_kind(lr_key: str, step_key: str, default: str):
    """What wrote a table (a CSV, JSON or JSON lines log), told by its LR and step columns, and its rule."""
    wandb = step_key in ("_step", "train/global_step", "trainer/global_step")
    if lr_key == "Train/Samples/lr":  # DeepSpeed's WandbMonitor logs at step=global_samples
        return ("wandb export (DeepSpeed monitor)" if wandb else default), ALIGNMENTS["deepspeed"]
    if lr_key == "learning-rate":  # Megatron-LM's training_log: wandb_writer.log(..., iteration)
        return ("wandb export (Megatron-LM)" if wandb else default), ALIGNMENTS["megatron"]
    if lr_key == "train/learning_rate" and step_key == "train/global_step":
        return "wandb export (Hugging Face WandbCallback)", ALIGNMENTS["hf"]
    if lr_key.startswith("lr-") and "/group" in lr_key:
        return ("wandb export (Composer WandBLogger)" if wandb else default), ALIGNMENTS["composer"]
    if lr_key.startswith("lr-"):
        return ("wandb export (Lightning WandbLogger)" if wandb else "lightning metrics.csv"), ALIGNMENTS["lightning"]
    return default, None


def _names_an_lr(name: str) -> bool:
    """``lr``, ``lr-AdamW/pg1``, ``train/my_lr``, ``learning_rate``...: a word of the name says LR."""
    import re

    words = re.split(r"[/_\-. ]+", name.lower())
    if {"momentum", "decay", "beta", "betas", "beta1", "beta2", "base", "min", "max"} & set(words):
        # Lightning's lr-Adam-momentum, lr-Adam-weight_decay; MMEngine's base_lr; the __MIN and
        # __MAX columns beside each run's in a W&B chart's CSV export
        return False
    return "lr" in words or "learning" in words and "rate" in words or name.lower().startswith("lr-")


#: Tags that hold the same LR as another (Megatron-LM's, by iteration and by samples).
_TWINS = ("learning-rate", "learning-rate vs samples", "learning-rate_vs_samples")


def _choose(
    names: list[str], asked: str | None, where: str, what: str, option: str, notes: list[str] | None = None
) -> str:
    """The LR tag or column: the one asked for, else the known LR names, else the only LR-like one;
    a known name picked among other LR-like ones is said in ``notes``, with the option to pick another."""
    if asked is not None:
        if asked in names:
            return asked
        import difflib

        close = difflib.get_close_matches(asked, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f" (it has: {', '.join(names[:12]) or 'none'})"
        raise LogError(f"{where}: no {what} {asked!r} in this log{hint}")
    lr_like = [n for n in names if _names_an_lr(n)]
    for known in LR_TAGS:
        if known in names:
            others = [n for n in lr_like if n != known and not (known in _TWINS and n in _TWINS)]
            if others and notes is not None:
                notes.append(
                    f"{where}: read the LR {what} {known!r}; it also has {', '.join(map(repr, others[:8]))}: "
                    f"pick another with {option}"
                )
            return known
    if len(lr_like) == 1:
        return lr_like[0]
    if len(lr_like) > 1:
        raise LogError(
            f"{where}: several LR {what}s ({', '.join(map(repr, lr_like[:8]))}); pick one with {option} {lr_like[0]!r}"
        )
    raise LogError(
        f"{where}: no learning-rate {what} found (it has: {', '.join(names[:12]) or 'none'}); name it with {option}"
    )


# -- JSON ----------------------------------------------------------------------------------------
def _from_json(path: Path, text: str, tag: str | None, step_col: str | None) -> LoggedLRs:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        records, notes = _json_lines(path, text)
        return _from_records(path, records, tag, step_col, kind="json lines", notes=notes)
    if isinstance(data, dict) and isinstance(data.get("log_history"), list):
        return _trainer_state(path, data, tag)
    if isinstance(data, list) and all(isinstance(r, dict) for r in data):
        return _from_records(path, data, tag, step_col, kind="json")
    if isinstance(data, dict):  # a single JSON line
        return _from_records(path, [data], tag, step_col, kind="json lines")
    raise LogError(f"{path}: a JSON log is a trainer_state.json, a list of records or JSON lines")


def _json_lines(path: Path, text: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The records of a JSON lines log, and a note when its last line is cut short."""
    records: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            if number == len(text.splitlines()) and records:
                # a last line cut short: the run was still writing
                return records, [f"{path}: line {number} is cut short (still being written?); read up to it"]
            raise LogError(f"{path}: line {number}: not JSON ({exc.msg})") from None
        if isinstance(record, dict):
            records.append(record)
    return records, []


def _trainer_state(path: Path, data: dict[str, Any], tag: str | None) -> LoggedLRs:
    """A Hugging Face ``trainer_state.json``: ``log_history`` holds ``{"step", "learning_rate"}``."""
    key = tag or "learning_rate"
    rows = [r for r in data["log_history"] if isinstance(r, dict) and key in r and "step" in r]
    if not rows and tag is not None:
        keys = sorted({k for r in data["log_history"] if isinstance(r, dict) for k in r} - {"step"})
        _choose(keys, tag, str(path), "key", "--tag")  # the keys it has, or the one meant
    if not rows:
        raise LogError(f"{path}: log_history has no {key!r} entries (was logging_steps larger than the run?)")
    facts = {k: data[k] for k in ("max_steps", "global_step", "train_batch_size", "num_train_epochs") if k in data}
    log = LoggedLRs(
        str(path),
        "hf trainer_state.json",
        key,
        np.array([int(r["step"]) for r in rows], dtype=np.int64),
        np.array([_number(path, r[key], key) for r in rows], dtype=np.float64),
        alignment=ALIGNMENTS["hf"],
        facts=facts,
    )
    return _deduplicated(log)


def _from_records(
    path: Path,
    records: list[dict[str, Any]],
    tag: str | None,
    step_col: str | None,
    kind: str,
    notes: list[str] | None = None,
) -> LoggedLRs:
    columns = sorted({k for r in records for k in r})
    notes = list(notes or [])
    lr_key = _choose(columns, tag, str(path), "column", "--lr-col", notes)
    step_key = _step_column(columns, step_col, path)
    if "current_steps" in columns and "lr" in columns:  # LLaMA-Factory's trainer_log.jsonl
        kind, alignment = "llamafactory trainer_log.jsonl", ALIGNMENTS["hf"]
    elif "lr" in columns and "step" in columns and ("data_time" in columns or "time" in columns):
        kind, alignment = "mmengine scalars.json", ALIGNMENTS["mmengine"]
    else:
        kind, alignment = _table_kind(lr_key, step_key, kind)
    rows = [r for r in records if r.get(lr_key) is not None and r.get(step_key) is not None]
    if not rows:
        raise LogError(f"{path}: no record has both {step_key!r} and {lr_key!r}")
    log = LoggedLRs(
        str(path),
        kind,
        lr_key,
        np.array([_step(path, r[step_key], step_key) for r in rows], dtype=np.int64),
        np.array([_number(path, r[lr_key], lr_key) for r in rows], dtype=np.float64),
        alignment=alignment,
        unit="sample" if lr_key in SAMPLE_TAGS else "update",
        notes=notes,
    )
    return _deduplicated(log)


# -- CSV -----------------------------------------------------------------------------------------
def _from_csv(path: Path, text: str, tag: str | None, step_col: str | None) -> LoggedLRs:
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        return _csv_rows(path, text, reader, dialect.delimiter, tag, step_col)
    except csv.Error as exc:  # a field over the csv module's limit (131,072 characters), a stray NUL...
        raise LogError(
            f"{path}: line {reader.line_num}: not a CSV log sched reads ({exc}); give a CSV or JSON lines log "
            "with a step and an LR column"
        ) from None


def _csv_rows(path: Path, text: str, reader, delimiter: str, tag: str | None, step_col: str | None) -> LoggedLRs:
    header = next(reader, None)
    if not header:
        raise LogError(f"{path}: the log is empty (nothing was logged yet?)")
    notes: list[str] = []
    lr_key = _choose(header, tag, str(path), "column", "--lr-col", notes)
    step_key = _step_column(header, step_col, path)
    li, si = header.index(lr_key), header.index(step_key)
    columns = _plain_columns(text, delimiter, len(header), (si, li))
    if columns is not None:
        steps, lrs = columns
    else:
        steps, lrs = [], []
        for number, row in enumerate(reader, 2):
            if len(row) <= max(li, si) or not row[li].strip() or not row[si].strip():
                continue  # Lightning writes other metrics on rows of their own
            steps.append(_step(path, row[si], step_key, number))
            lrs.append(_number(path, row[li], lr_key, number))
    if not len(steps):
        raise LogError(f"{path}: no row has both {step_key!r} and {lr_key!r}")
    kind, alignment = _table_kind(lr_key, step_key, "csv")
    unit = "sample" if lr_key in SAMPLE_TAGS else "update"
    if path.name == "Train_Samples_lr.csv" and header == ["step", "lr"]:
        # DeepSpeed's csv_monitor: one file per tag, named after it; "step" is the engine's global_samples.
        kind, alignment, unit = "deepspeed csv_monitor", ALIGNMENTS["deepspeed"], "sample"
    log = LoggedLRs(
        str(path),
        kind,
        lr_key,
        np.asarray(steps, dtype=np.int64),
        np.asarray(lrs, dtype=np.float64),
        alignment=alignment,
        unit=unit,
        notes=notes,
    )
    if not text.endswith("\n"):
        # Every writer here (csv, Lightning, pandas, DeepSpeed's csv_monitor) ends its rows with one.
        log.notes.append(
            f"{path}: the last line has no line end: the file may have been cut short (still being written?), "
            "and its last row is read as it stands"
        )
    return _deduplicated(log)


def _plain_columns(
    text: str, delimiter: str, width: int, wanted: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray] | None:
    """The step and LR columns of a table with no quotes and no empty cell, every row ``width``
    cells (a million rows in a fraction of a second); ``None`` for any other table, which the
    csv module reads row by row, with its line numbers in the errors."""
    if '"' in text or "'" in text:
        return None
    body = text.split("\n", 1)[1] if "\n" in text else ""
    lines = body.count("\n") + (0 if body.endswith("\n") or not body else 1)
    if not lines or body.count(delimiter) != (width - 1) * lines:
        return None
    cells = body.replace(delimiter, "\n").split()
    if len(cells) != width * lines:  # an empty cell, or a row of its own length
        return None
    try:
        step = np.array(cells[wanted[0] :: width], dtype=np.float64)
        lr = np.array(cells[wanted[1] :: width], dtype=np.float64)
    except ValueError:
        return None  # a cell that is not a number: the row-by-row reading names its line
    if not (np.isfinite(lr).all() and np.isfinite(step).all() and (step >= 0).all() and (step == np.floor(step)).all()):
        return None
    return step.astype(np.int64), lr


def _step_column(columns: list[str], asked: str | None, path: Path) -> str:
    if asked is not None:
        if asked not in columns:
            import difflib

            close = difflib.get_close_matches(asked, columns, n=1)
            hint = f"; did you mean --step-col {close[0]!r}?" if close else f" (it has: {', '.join(columns[:12])})"
            raise LogError(f"{path}: no column {asked!r} in this log{hint}")
        return asked
    for name in STEP_COLUMNS:
        if name in columns:
            return name
    for name in STEP_COLUMNS:  # a W&B chart's CSV export names its x "Step"
        found = [c for c in columns if c.lower() == name]
        if found:
            return found[0]
    raise LogError(f"{path}: no step column (looked for {', '.join(STEP_COLUMNS)}); name it with --step-col")


# -- values --------------------------------------------------------------------------------------
def _number(path: Path, value: Any, key: str, line: int | None = None) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        at = f" line {line}:" if line else ""
        raise LogError(f"{path}:{at} {key} {value!r} is not a number") from None
    if not math.isfinite(number):
        at = f" line {line}:" if line else ""
        raise LogError(f"{path}:{at} {key} is {value!r}, not a finite number")
    return number


def _step(path: Path, value: Any, key: str, line: int | None = None) -> int:
    number = _number(path, value, key, line)
    if number != int(number) or number < 0:
        at = f" line {line}:" if line else ""
        raise LogError(f"{path}:{at} {key} {value!r} is not a step (a whole number, 0 or more)")
    return int(number)


def _deduplicated(log: LoggedLRs) -> LoggedLRs:
    """Steps in increasing order; a step logged twice (a resumed run re-logging) keeps its last
    value, and says so."""
    order = np.argsort(log.steps, kind="stable")
    steps, lrs = log.steps[order], log.lrs[order]
    last = np.append(steps[1:] != steps[:-1], True)
    if not last.all():
        again = np.unique(steps[~last])
        where = (
            f"step {again[0]:,} is" if len(again) == 1 else f"{len(again):,} steps ({again[0]:,} to {again[-1]:,}) are"
        )
        log.notes.append(
            f"{log.source}: {where} logged more than once (a resumed run logs again from its checkpoint): "
            "the value logged last is used, as TensorBoard shows it"
        )
    log.steps, log.lrs = steps[last], lrs[last]
    return log


def _head(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(64)


def _is_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(b >= 9 for b in head)


def _read_text(path: Path) -> str:
    size = path.stat().st_size
    if size > MAX_LOG_BYTES:
        raise LogError(f"{path}: {size:,} bytes is more than sched reads from one text log (1 GiB)")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LogError(f"{path}: not a text log (byte {exc.start} is not UTF-8)") from None


def read_logs(paths: list[str], tag: str | None = None, step_col: str | None = None) -> LoggedLRs:
    """Several logs of one run (a resumed run's event files, its checkpoints' states), as one: the
    same kind and tag in each; a step logged in several keeps the value of the last log given."""
    logs = [read_log(p, tag, step_col) for p in paths]
    seen: dict[Path, str] = {}
    for arg, log in zip(paths, logs, strict=True):
        read = Path(log.source).resolve()  # the file a directory led to, or the directory of event files
        if read in seen:
            raise LogError(f"{arg}: the log {seen[read]} is given already ({log.source}); give each log once")
        seen[read] = arg
    first = logs[0]
    for other in logs[1:]:
        if (other.kind, other.tag, other.unit) != (first.kind, first.tag, first.unit):
            raise LogError(
                f"{other.source}: a {other.kind} log of {other.tag!r}, but {first.source} is a {first.kind} log of "
                f"{first.tag!r}; check one kind of log at a time"
            )
    if len(logs) == 1:
        return first
    merged = LoggedLRs(
        ", ".join(log.source for log in logs),
        first.kind,
        first.tag,
        np.concatenate([log.steps for log in logs]),
        np.concatenate([log.lrs for log in logs]),
        alignment=first.alignment,
        unit=first.unit,
        precision=max(log.precision for log in logs),
        facts={k: v for log in logs for k, v in log.facts.items()},
        notes=[note for log in logs for note in log.notes],
    )
    return _deduplicated(merged)
