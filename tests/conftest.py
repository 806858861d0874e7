"""Shared fixtures: States at a given point of a run, and small runs for the simulator.

Factories are session-scoped so that Hypothesis tests can use them too (they hold no state).
"""

from __future__ import annotations

import json
import os
import subprocess
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sched_cli.state import State
from sched_cli.time import Time, Timestamp


def timestamp_at(batch: int, dataloader_len: int | None = None, batch_size: int = 1, seq_len: int = 1) -> Timestamp:
    """The timestamp at the start of ``batch`` of a run with constant batch and sequence sizes."""
    epoch = batch // dataloader_len if dataloader_len else 0
    sample = batch * batch_size
    return Timestamp(epoch=epoch, batch=batch, sample=sample, token=sample * seq_len)


def state_at(
    max_duration: str | Time,
    batch: int = 0,
    dataloader_len: int | None = None,
    batch_size: int = 1,
    seq_len: int = 1,
) -> State:
    """A State whose clock stands at the start of ``batch``."""
    return State(max_duration, dataloader_len, timestamp_at(batch, dataloader_len, batch_size, seq_len))


@pytest.fixture(scope="session")
def at() -> Callable[..., State]:
    """``at(max_duration, batch, dataloader_len=None, batch_size=1, seq_len=1)`` -> State."""
    return state_at


@pytest.fixture(scope="session")
def stamp() -> Callable[..., Timestamp]:
    """``stamp(batch, dataloader_len=None, batch_size=1, seq_len=1)`` -> Timestamp."""
    return timestamp_at


@pytest.fixture(scope="session")
def alpha() -> Callable[..., float]:
    """``alpha(scheduler, max_duration, batch, ssr=1.0, **run)``: the scheduler's value there."""

    def evaluate(scheduler: Any, max_duration: str, batch: int, ssr: float = 1.0, **run: Any) -> float:
        return scheduler(state_at(max_duration, batch, **run), ssr)

    return evaluate


@pytest.fixture
def run_factory() -> Callable[..., Any]:
    """``run_factory(max_duration, *schedulers, **options)`` -> simulator Run."""
    from sched_cli.simulator import Run

    def make(max_duration: str, *schedulers: Any, **options: Any) -> Run:
        return Run(max_duration=Time.from_input(max_duration), schedulers=tuple(schedulers), **options)

    return make


@pytest.fixture
def rows() -> Callable[..., dict]:
    """``rows(run, ssr=1.0, **simulate_options)``: every streamed chunk joined into one dict."""
    from sched_cli.simulator import collect, simulate

    def run_rows(run: Any, ssr: float = 1.0, **options: Any) -> dict:
        return collect(simulate(run, ssr, **options))

    return run_rows


def assert_import_leaves_out(modules: str, heavy: tuple[str, ...]) -> None:
    """Importing ``modules`` (comma-separated) in a fresh Python loads none of ``heavy``."""
    import subprocess
    import sys

    code = f"import sys, {modules}\nheavy = [m for m in {heavy!r} if m in sys.modules]\nassert not heavy, heavy\n"
    subprocess.run([sys.executable, "-c", code], check=True)


def outcome(fn: Callable[[], Any]) -> tuple[Any, type[BaseException] | None]:
    """The value of ``fn()`` and None, or None and the type of what it raised (warnings silenced):
    for tests that compare two paths, errors included."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(), None
        except Exception as exc:  # noqa: BLE001 - the point is to compare error types
            return None, type(exc)


# -- sched as a real process --------------------------------------------------------------------
REPO = Path(__file__).resolve().parent.parent


def run_sched(
    *args: str,
    timeout: float = 120,
    prelude: str = "",
    **popen: Any,
) -> tuple[int, str, str]:
    """Run ``python -m sched_cli ARGS`` as a real subprocess; return (exit code, stdout, stderr).

    ``prelude`` is Python run in that process before sched starts (e.g. to break something on
    purpose); other keywords go to :class:`subprocess.Popen` (``cwd``, ``env``, ``stdout``,
    ``preexec_fn``...). A run that outlives ``timeout`` seconds is killed and fails the test.
    """
    import subprocess

    command = sched_command(*args, prelude=prelude)
    popen.setdefault("cwd", REPO)
    popen.setdefault("stdin", subprocess.DEVNULL)
    popen.setdefault("stdout", subprocess.PIPE)
    popen.setdefault("stderr", subprocess.PIPE)
    with subprocess.Popen(command, **popen) as process:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            pytest.fail(f"sched {' '.join(args)} did not finish within {timeout} s")
    return process.returncode, _text(out), _text(err)


def _text(data: bytes | str | None) -> str:
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else (data or "")


def sched_command(*args: str, prelude: str = "") -> list[str]:
    """The argv that runs sched in a fresh Python (the installed entry point's own code path)."""
    import sys

    if not prelude:
        return [sys.executable, "-m", "sched_cli", *args]
    # The entry point is imported first (it imports nothing heavy), so that whatever the prelude
    # sets off (a timer's signal) finds sched's own code running.
    code = f"import sys\nfrom sched_cli.__main__ import main\n{prelude}\nsys.argv = ['sched', *sys.argv[1:]]\nmain()\n"
    return [sys.executable, "-c", code, *args]


def one_error_line(err: str) -> str:
    """The single line sched printed on stderr, checked to be one ``sched: ...`` line and no traceback."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sched: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture(scope="session")
def sched() -> Callable[..., tuple[int, str, str]]:
    """``sched(*args, timeout=120, prelude='', **popen)`` -> (exit code, stdout, stderr) of a real process."""
    return run_sched


# -- a real browser, for the HTML report -----------------------------------------------------------
#: Debian's chromium package; the tests drive it with playwright and never download a browser.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium() -> Any:
    """A headless Chromium (the system's), or a skip saying why there is none."""
    import os

    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium); the browser tests need it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the browser tests need playwright (the test extra)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# -- the reference environments of the differential tests -------------------------------------------
def reference_python(variable: str, probe: str, needs: str, how: str, timeout: int = 300, **run: Any) -> str:
    """The Python that environment variable ``variable`` names, once it imports what ``probe``
    imports; else a skip saying what is missing (``needs``) and how to build it (``how``).
    ``run``: more arguments for the probe's ``subprocess.run`` (its ``env``)."""
    python = os.environ.get(variable)
    if not python:
        pytest.skip(f"{variable} is not set: {how}")
    try:
        ok = subprocess.run([python, "-c", probe], capture_output=True, timeout=timeout, **run).returncode == 0
    except OSError:
        ok = False
    if not ok:
        pytest.skip(f"{variable}={python} cannot import {needs}: {how}")
    return python


def ask_oracle(python: str, oracle: Path, request: dict[str, Any], answer: str = "results", timeout: int = 3600) -> Any:
    """What an oracle script of tools/ answers (its last line of JSON, key ``answer``) to ``request``,
    run in a reference environment; a failing oracle is an error with its output."""
    proc = subprocess.run(
        [python, str(oracle)], input=json.dumps(request), capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        raise RuntimeError(f"{oracle.name} failed ({proc.returncode}): {proc.stdout[-2000:]} {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.splitlines()[-1])[answer]


def compare_with_library(
    library: str, case: dict[str, Any], ours: Any, theirs: dict[str, Any], stats: dict[str, Any], tol: float
) -> None:
    """One case of a differential test: sched's LRs (``ours["lr"]``, or its error as a string)
    against the real ``library``'s answer (``theirs["lrs"]``, or ``theirs["error"]``), update by
    update within relative ``tol``; both failing is counted in ``stats["both_fail"]``."""
    import numpy as np

    where = json.dumps(case)
    if "error" in theirs:
        assert isinstance(ours, str), f"{library} fails ({theirs['error']}) but sched does not: {where}"
        stats["both_fail"].append(theirs["error"].split(":")[0])
        return
    trains = f"{library} trains {theirs['max_steps']} updates"
    assert not isinstance(ours, str), f"sched fails ({ours}) but {trains}: {where}"
    lrs = np.asarray(theirs["lrs"], dtype=np.float64)
    mine = np.asarray(ours["lr"], dtype=np.float64)
    assert len(mine) == len(lrs), f"{len(mine)} updates in sched, {len(lrs)} in {library}: {where}"
    gap = np.abs(mine - lrs) / np.maximum(np.abs(lrs), 1e-300)
    gap[mine == lrs] = 0.0
    worst = int(np.argmax(gap)) if len(gap) else 0
    assert not len(gap) or gap[worst] <= tol, (
        f"update {worst}: sched {mine[worst]!r}, {library} {lrs[worst]!r}: {where}"
    )
    stats["updates"] += len(lrs)
    stats["bit_equal"] += int(np.sum(mine == lrs))
    stats["max_gap"] = max(stats["max_gap"], float(gap.max()) if len(gap) else 0.0)
