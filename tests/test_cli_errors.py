"""Bad input, every kind a user can type: one clear line, exit code 2, no traceback, no file.

Each case runs the real CLI (through Typer's runner) with an output path that either does not
exist or holds yesterday's good file, and checks that the path is left exactly as it was.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import one_error_line, run_sched
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sched_cli.cli import app
from sched_cli.specs import SpecError, load_file
from sched_cli.time import Time, TimeStringError

GOOD = "max_duration: 100ba\nschedulers:\n  - name: cosine_with_warmup\n    t_warmup: 10ba\n"
KEEP = "yesterday's good export\n"


def spec_with(**changes: str) -> str:
    """The good spec with some top-level lines replaced (or added)."""
    lines = {"max_duration": "max_duration: 100ba"}
    lines.update(changes)
    head = "\n".join(v for v in lines.values() if v)
    return head + "\nschedulers:\n  - name: cosine_with_warmup\n    t_warmup: 10ba\n"


def scheduler(body: str, max_duration: str = "100ba") -> str:
    return f"max_duration: {max_duration}\nschedulers:\n  - " + textwrap.indent(body, "    ").lstrip() + "\n"


# (spec file text, or None for no file; extra CLI args; words the message must contain)
CASES = {
    "missing spec file": (None, [], ["no such spec file"]),
    "empty spec file": ("", [], ["is empty"]),
    "malformed YAML": ("max_duration: [100ba\n", [], ["malformed YAML", "line"]),
    "spec is a list": ("- 1\n- 2\n", [], ["must be a mapping"]),
    "spec is a scalar": ("hello\n", [], ["must be a mapping"]),
    "unknown top-level key": (GOOD + "batchsize: 4\n", [], ["batchsize", "did you mean 'batch_size'"]),
    "missing max_duration": ("schedulers: [{name: linear}]\n", [], ["max_duration", "required"]),
    "epochs without dataloader_len": (spec_with(max_duration="max_duration: 3ep"), [], ["dataloader_len", "epochs"]),
    "zero dataloader_len": (spec_with(d="dataloader_len: 0"), [], ["dataloader_len", "at least 1"]),
    "negative batch_size": (spec_with(b="batch_size: -4"), [], ["batch_size", "at least 1"]),
    "fractional seq_len": (spec_with(s="seq_len: 2.5"), [], ["seq_len", "whole number"]),
    "absurd batch_size": (spec_with(b="batch_size: 1e300"), [], ["batch_size"]),
    "text batch_size": (spec_with(b="batch_size: lots"), [], ["batch_size", "whole number"]),
    "unknown scheduler": (scheduler("name: cosine_with_warmpu\nt_warmup: 1ba"), [], ["'cosine_with_warmup'?"]),
    "unknown argument": (scheduler("name: cosine_with_warmup\nt_warmup: 1ba\nalpha_final: 0"), [], ["alpha_final"]),
    "missing argument": (scheduler("name: step"), [], ["step_size", "required"]),
    "text where a number belongs": (scheduler("name: step\nstep_size: 1ba\ngamma: half"), [], ["gamma", "number"]),
    "list where a time belongs": (scheduler("name: step\nstep_size: [1ba]"), [], ["step_size", "time"]),
    "time string with a word unit": (scheduler("name: step\nstep_size: 10 batches"), [], ["10 batches"]),
    "negative time": (scheduler("name: step\nstep_size: -5ba"), [], ["-5ba", "at least 0"]),
    "fractional batches": (scheduler("name: step\nstep_size: 1.5ba"), [], ["1.5ba", "whole number"]),
    "wall-clock time": (scheduler("name: step\nstep_size: 10sec"), [], ["wall-clock"]),
    "unit without a number": (scheduler("name: step\nstep_size: ba"), [], ["'ba'"]),
    "overflowing time": (scheduler("name: step\nstep_size: 1e400tok"), [], ["1e400tok", "not finite"]),
    "empty time": (scheduler("name: step\nstep_size: ''"), [], ["invalid time string ''"]),
    "NaN gamma": (scheduler("name: step\nstep_size: 2ba\ngamma: .nan"), [], ["gamma", "finite"]),
    "infinite alpha_f": (scheduler("name: cosine\nalpha_f: .inf"), [], ["alpha_f", "finite"]),
    "NaN power": (scheduler("name: polynomial\npower: .nan"), [], ["power", "finite"]),
    "NaN lr": (spec_with(lr="lr: .nan"), [], ["lr", "finite"]),
    "zero ssr": (GOOD, ["--ssr", "0"], ["ssr", "greater than 0"]),
    "negative ssr": (GOOD, ["--ssr", "-1"], ["ssr", "greater than 0"]),
    "NaN ssr": (GOOD, ["--ssr", "nan"], ["ssr", "finite"]),
    "infinite ssr": (GOOD, ["--ssr", "inf"], ["ssr", "finite"]),
    "ssr shrinks the run to nothing": (GOOD, ["--ssr", "0.001"], ["0ba", "ssr"]),
    "warmup and t_max in different units": (
        scheduler("name: cosine_with_warmup\nt_warmup: 10ba\nt_max: 5000sp"),
        [],
        ["t_warmup", "t_max", "same unit"],
    ),
    "t_max shorter than the run": (
        scheduler("name: cosine_with_warmup\nt_warmup: 10ba\nt_max: 50ba"),
        [],
        ["t_max", "shorter than max_duration"],
    ),
    "duration truncating to zero": (scheduler("name: linear\nt_max: 0.001dur"), [], ["t_max", "divides by zero"]),
    "restart interval decaying to zero": (
        scheduler("name: sgdr\nt_0: 10ba\nt_mult: 0.5"),
        [],
        ["restarts decays to 0"],
    ),
    "custom file missing": (scheduler("name: nowhere.py:f"), [], ["no such file 'nowhere.py'"]),
    "custom module missing": (
        scheduler("name: no_such_module_xyz:f"),
        ["--allow-import", "no_such_module_xyz"],
        ["cannot import module"],
    ),
    "custom module not allowed": (scheduler("name: os:system"), [], ["--allow-import os"]),
    "custom file fails to import": (scheduler("name: broken.py:f"), [], ["importing 'broken.py' failed", "line 2"]),
    "custom scheduler raises": (scheduler("name: mine.py:boom"), [], ["raised ZeroDivisionError", "batch 5"]),
    "custom scheduler returns text": (scheduler("name: mine.py:text"), [], ["returned 'fast'", "batch 0"]),
    "custom scheduler returns NaN": (scheduler("name: mine.py:nan"), [], ["returned nan", "batch 7"]),
    "custom attribute missing": (scheduler("name: mine.py:bom"), [], ["no attribute 'bom'", "did you mean 'boom'"]),
    "bad --format": (GOOD, ["--format", "xml"], ["xml"]),
    "run too long to list": (scheduler("name: cosine", max_duration="1e12ba"), [], ["1,000,000,000,000", "--points"]),
}

CUSTOM = {
    "broken.py": "import math\nraise ImportError('needs a GPU')\n",
    "mine.py": textwrap.dedent(
        """
        def boom(state):
            return 1 / (5 - int(state.timestamp.batch))

        def text(state):
            return "fast"

        def nan(state):
            return float("nan") if state.timestamp.batch == 7 else 1.0
        """
    ),
}


@pytest.mark.parametrize("existing", [False, True], ids=["no-output-yet", "output-exists"])
@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_input_is_one_clear_line_and_exit_2(tmp_path, case, existing):
    text, extra, words = CASES[case]
    for name, source in CUSTOM.items():
        (tmp_path / name).write_text(source)
    spec = tmp_path / "spec.yaml"
    if text is not None:
        spec.write_text(text)
    out = tmp_path / "out.csv"
    if existing:
        out.write_text(KEEP)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = CliRunner().invoke(app, ["export", str(spec), "-o", str(out), *extra])
    assert result.exit_code == 2, (case, result.output)
    assert "Traceback" not in result.output
    message = result.output.strip()
    for word in words:
        assert word in message, (case, message)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    if existing:
        assert out.read_text() == KEEP


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["-o", "{tmp}/report.parquet"], ["cannot tell the format", ".parquet"]),
        (["-o", "{tmp}/no/such/dir/out.csv"], ["does not exist"]),
        (["-o", "{tmp}"], ["is a directory"]),
    ],
)
def test_bad_output_paths(tmp_path, args, words):
    spec = tmp_path / "spec.yaml"
    spec.write_text(GOOD)
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = CliRunner().invoke(app, ["export", str(spec), *args])
    assert result.exit_code == 2 and "Traceback" not in result.output
    for word in words:
        assert word in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]


def test_debug_shows_the_traceback(tmp_path):
    result = CliRunner().invoke(app, ["--debug", "export", str(tmp_path / "missing.yaml")])
    assert result.exit_code != 0 and isinstance(result.exception, SpecError)


def test_errors_go_to_stderr_and_nothing_to_stdout(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(scheduler("name: exponential\ngamma: -0.5\ndecay_period: 2ba"))
    sched = Path(sys.executable).with_name("sched")
    command = [str(sched)] if sched.exists() else [sys.executable, "-m", "sched_cli"]
    result = subprocess.run([*command, "export", str(spec)], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stdout == ""  # not even the CSV header
    assert len(result.stderr.strip().splitlines()) == 1 and "nan at batch 1" in result.stderr


def test_ctrl_c_exits_130_and_leaves_no_file(tmp_path):
    out = tmp_path / "big.csv"
    out.write_text(KEEP)
    sched = Path(sys.executable).with_name("sched")
    command = [str(sched)] if sched.exists() else [sys.executable, "-m", "sched_cli"]
    process = subprocess.Popen(
        [*command, "export", "cosine", "--max-duration", "40000000ba", "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # A child of a background job may inherit an ignored SIGINT: give it the default back.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    # Interrupt once the export is under way (its temporary file exists), however loaded the
    # machine: Ctrl-C during start-up has tests of its own (tests/test_cli_process.py).
    deadline = time.monotonic() + 60
    while not any(p.name.endswith(".tmp") for p in tmp_path.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "interrupted" in err.decode() and b"Traceback" not in err
    assert out.read_text() == KEEP
    assert os.listdir(tmp_path) == ["big.csv"]


def test_a_trillion_batch_run_previews_with_points_in_bounded_time(tmp_path):
    out = tmp_path / "huge.csv"
    start = time.perf_counter()
    result = CliRunner().invoke(
        app,
        ["export", "cosine_with_warmup(t_warmup=0.01dur)", "--max-duration", "1e12ba", "--points", "2000"]
        + ["-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert time.perf_counter() - start < 20
    lines = out.read_text().splitlines()
    assert 2001 <= len(lines) <= 2010
    assert lines[-1].split(",")[1] == str(10**12 - 1)


# -- fuzzing ------------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_any_time_string_parses_or_fails_cleanly(text):
    try:
        Time.from_timestring(text)
    except TimeStringError:
        pass


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    # Numbers at and past every edge: 2**53, int64, floats' range, Python's 4300-digit limit.
    st.sampled_from([2**53 + 1, 2**63, 10**400, -(10**400), 1e308, 5e-324, 10**4000]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["10ba", "2ep", "0.5dur", "1e4tok", "-1ba", "1.5ba", "sec", "cosine", "mine.py:f", "a:b"]),
    st.sampled_from(["1e30ba", "1e400ba", "9" * 30 + "ba", "os:system", "../x.py:f", "subprocess:Popen"]),
)
# Nested lists and mappings, a few levels deep, where any value may go.
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
KEYS = st.sampled_from(
    ["max_duration", "dataloader_len", "batch_size", "seq_len", "lr", "ssr", "step_every", "schedulers", "bogus"]
)
SCHEDULER_KEYS = st.sampled_from(
    ["name", "t_warmup", "t_max", "alpha_f", "gamma", "milestones", "step_size", "t_0", "t_mult", "power"]
    + ["scale_warmup", "phases"]
)
NAMES = st.sampled_from(
    ["cosine_with_warmup", "multistep_with_warmup", "step", "sgdr", "linear", "polynomial", "constant", "nope"]
    + ["sequential", "os:system", "builtins:eval", "../x.py:f", "/tmp/x.py:f", "torch.optim.lr_scheduler.StepLR"]
)


@st.composite
def specs(draw):
    data = {"max_duration": draw(st.sampled_from(["100ba", "3ep", "1000sp", "5000tok", "0ba"]) | VALUES)}
    data.update(draw(st.dictionaries(KEYS, VALUES, max_size=4)))
    schedulers = []
    for _ in range(draw(st.integers(0, 2))):
        entry = {"name": draw(NAMES | VALUES)}
        entry.update(draw(st.dictionaries(SCHEDULER_KEYS, VALUES, max_size=4)))
        schedulers.append(entry)
    data["schedulers"] = draw(st.just(schedulers) | VALUES)
    return data


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs())
def test_random_specs_load_or_fail_cleanly_through_the_cli(tmp_path, data):
    import yaml

    spec = tmp_path / "fuzz.yaml"
    spec.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(app, ["export", str(spec), "--points", "20", "-o", str(tmp_path / "o.csv")])
    assert result.exit_code in (0, 2), (data, result.output, result.exception)
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert result.output.startswith("sched: error:"), result.output
        assert not (tmp_path / "o.csv").exists()
    (tmp_path / "o.csv").unlink(missing_ok=True)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=80))
def test_mutated_spec_text_loads_or_fails_cleanly(tmp_path, noise):
    spec = tmp_path / "m.yaml"
    cut = len(noise) % (len(GOOD) + 1)
    spec.write_text(GOOD[:cut] + noise + GOOD[cut:])
    try:
        load_file(spec)
    except SpecError as exc:
        assert str(exc).startswith(str(spec))


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("spec.json", '{"max_duration": "10ba",}', ["malformed JSON", "line 1"]),
        ("spec.toml", "max_duration = 10ba\n", ["malformed TOML", "line 1"]),
        ("spec.json", '["max_duration"]', ["must be a mapping"]),
        (
            "spec.yml",
            "max_duration: 10ba\nschedulers:\n  - name: cosine\n   alpha_f: 0.1\n",
            ["malformed YAML", "line 4"],
        ),
        ("spec.txt", "max_duration: 10ba\n", ["unknown spec format '.txt'"]),
    ],
)
def test_malformed_files_of_every_format(tmp_path, name, text, words):
    spec = tmp_path / name
    spec.write_text(text)
    result = CliRunner().invoke(app, ["export", str(spec), "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    for word in words:
        assert word in result.output, result.output
    assert not (tmp_path / "out.csv").exists()


def test_a_pytorch_scheduler_without_torch_names_the_extra(tmp_path):
    code = (
        "import sys; sys.modules['torch'] = None\n"  # as if torch were not installed
        "from typer.testing import CliRunner\n"
        "from sched_cli.cli import app\n"
        "args = ['export', 'StepLR(step_size=2)', '--max-duration', '4ep', '--dataloader-len', '2']\n"
        "r = CliRunner().invoke(app, args)\n"
        "print(r.exit_code); print(r.output)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("2\n") and "pip install 'sched-cli[torch]'" in out


@pytest.mark.parametrize(
    "option", ["--devices", "--dataset-size", "--device-batch-size", "--batch-size", "--dataloader-len", "--seq-len"]
)
@pytest.mark.parametrize(
    "spec",
    [
        "sample_specs/resnet50_imagenet.yaml",
        # Readers that took a missing world size as 1: `--devices 0` was read as one device.
        "tests/data/axolotl/llama-3_lora-1b.yml",
        "tests/data/megatron/gpt3_mcore_tp1_pp2_fp16.yaml",
    ],
)
def test_a_count_option_below_one_is_refused_for_every_reader(spec, option):
    """A device count, sample count, batch or sequence length of 0 or less is a typo, refused before any reader
    can take it for 'not given' (axolotl's `devices or 1` read --devices 0 as one device)."""
    for value in ("0", "-2") if option == "--devices" else ("0",):
        code, out, err = run_sched("table", spec, "--dataset-size", "1000", option, value, "-q")
        assert code == 2 and out == ""
        line = one_error_line(err)
        # click's own words ("not in the range x>=1") before typer 0.23, sched's coercion's after: same facts.
        assert f"'{option}': {value} is" in line and ("minimum, 1" in line or "x>=1" in line)


@pytest.mark.parametrize(
    "spec",
    [
        "sample_specs/resnet50_imagenet.yaml",
        "tests/data/axolotl/llama-3_lora-1b.yml",
        "tests/data/megatron/gpt3_mcore_tp1_pp2_fp16.yaml",
    ],
)
def test_a_base_lr_of_zero_is_refused_for_every_reader(spec):
    """Megatron-LM's reader showed the file's LR for `--lr 0` (exit 0, no word); axolotl's and timm's would too."""
    code, out, err = run_sched("table", spec, "--dataset-size", "1000", "--max-duration", "100ba", "--lr", "0", "-q")
    assert code == 2 and out == ""
    assert one_error_line(err).endswith("--lr 0.0 must be a finite number greater than 0")
