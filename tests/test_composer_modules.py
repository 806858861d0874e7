"""Composer's module names answered by sched's classes while a custom scheduler file loads."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from sched_cli import composer_modules
from sched_cli.composer_modules import STAND_IN_MODULES, composer_available, composer_stand_ins
from sched_cli.schedulers import CosineAnnealingScheduler
from sched_cli.specs import SpecError, load_file
from sched_cli.state import State
from sched_cli.time import Time, Timestamp, TimeUnit

DATA = Path(__file__).resolve().parent / "data" / "composer_style"

pytestmark = pytest.mark.skipif(composer_available(), reason="a real Composer is installed here")


def composer_names() -> list[str]:
    return [name for name in sys.modules if name == "composer" or name.startswith("composer.")]


def test_the_imports_of_composers_docs_resolve_only_inside_the_block():
    assert composer_names() == []
    with composer_stand_ins() as standing_in:
        assert standing_in
        import composer.core.state
        from composer.core import State as CoreState
        from composer.core import Time as CoreTime
        from composer.core import Timestamp as CoreTimestamp
        from composer.core import TimeUnit as CoreTimeUnit
        from composer.core.time import ensure_time
        from composer.optim import ComposerScheduler, CosineAnnealingWithWarmupScheduler
        from composer.optim.scheduler import MultiStepWithWarmupScheduler

        assert (CoreState, CoreTime, CoreTimeUnit, CoreTimestamp) == (State, Time, TimeUnit, Timestamp)
        assert composer.core.state.State is State
        assert ComposerScheduler.__module__ == "sched_cli.schedulers.base"
        assert CosineAnnealingWithWarmupScheduler.__module__ == "sched_cli.schedulers.composer"
        assert MultiStepWithWarmupScheduler(t_warmup="1ba", milestones=["5ba"])(State("10ba")) == 0.0
        assert ensure_time(3, "ep") == Time(3, TimeUnit.EPOCH) and ensure_time("5ba", "ep") == Time(5, "ba")
        with pytest.raises(ModuleNotFoundError, match="composer.utils"):
            import composer.utils  # noqa: F401
        with pytest.raises(ImportError, match="DecoupledAdamW"):
            from composer.optim import DecoupledAdamW  # noqa: F401
    assert composer_names() == []


def test_the_stand_ins_are_removed_after_a_failure_too():
    with pytest.raises(RuntimeError), composer_stand_ins():
        import composer.optim  # noqa: F401

        raise RuntimeError("boom")
    assert composer_names() == []


def test_a_real_composer_is_never_shadowed(tmp_path):
    package = tmp_path / "composer"
    (package / "core").mkdir(parents=True)
    (package / "__init__.py").write_text("REAL = True\n")
    (package / "core" / "__init__.py").write_text("State = 'the real one'\n")
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from sched_cli.composer_modules import composer_available, composer_stand_ins\n"
        "assert composer_available()\n"
        "with composer_stand_ins() as standing_in:\n"
        "    from composer.core import State\n"
        "print(standing_in, State)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False the real one"


def test_every_scheduler_answers_to_its_composer_name():
    from sched_cli.schedulers import composer as builtins

    assert set(builtins.__all__) <= set(STAND_IN_MODULES["composer.optim"])
    assert len(builtins.__all__) == 13
    assert STAND_IN_MODULES["composer.optim"] == STAND_IN_MODULES["composer.optim.scheduler"]


def test_a_scheduler_file_written_for_composer_runs_unchanged():
    # halfway.yaml: 20 epochs of 10 batches; 1 until half the epochs are done, then 0.25.
    spec = load_file(DATA / "halfway.yaml")
    [scheduler] = spec.run.schedulers
    state = State("20ep", dataloader_len=10)
    for epoch, expected in [(0, 1.0), (9, 1.0), (10, 0.25), (19, 0.25)]:
        state.timestamp = Timestamp(epoch=epoch, batch=10 * epoch + 9)
        assert scheduler(state) == expected
    assert composer_names() == []
    # cosine.yaml: a 10-batch linear warmup, then Composer's cosine over the whole run (100ba).
    [cosine] = load_file(DATA / "cosine.yaml").run.schedulers
    ours = CosineAnnealingScheduler(alpha_f=0.0)
    for batch, expected in [(0, 0.0), (5, 0.5)]:
        assert cosine(State("100ba", timestamp=Timestamp(batch=batch))) == expected
    at_55 = State("100ba", timestamp=Timestamp(batch=55))
    assert cosine(at_55) == ours(at_55) == pytest.approx(0.5 * (1 + math.cos(0.55 * math.pi)))


def test_an_import_sched_does_not_stand_in_for_says_so(tmp_path):
    (tmp_path / "s.py").write_text("from composer.optim import DecoupledAdamW\n\ndef f(state):\n    return 1.0\n")
    (tmp_path / "spec.yaml").write_text("max_duration: 10ba\nschedulers: [{name: s.py:f}]\n")
    with pytest.raises(SpecError) as caught:
        load_file(tmp_path / "spec.yaml")
    message = str(caught.value)
    assert "cannot import name 'DecoupledAdamW'" in message and "Composer is not installed" in message


def test_the_module_imports_nothing_heavy():
    from conftest import assert_import_leaves_out

    assert_import_leaves_out("sched_cli.composer_modules", ("torch", "matplotlib", "composer"))
    assert composer_modules.__all__
