"""Spec files and inline expressions: parsing, validation, and the messages users see."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from sched_cli import registry
from sched_cli.schedulers import (
    CosineAnnealingWithWarmupScheduler,
    LinearWithWarmupScheduler,
    MultiStepWithWarmupScheduler,
)
from sched_cli.specs import (
    LABEL_HARD_LIMIT,
    LABEL_LIMIT,
    Overrides,
    SpecError,
    check,
    load,
    load_file,
    parse_expression,
    short_expression,
    with_ssrs,
)
from sched_cli.time import Time

SAMPLES = Path(__file__).resolve().parent.parent / "sample_specs"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_yaml_spec_builds_the_run_it_describes(tmp_path):
    path = write(
        tmp_path,
        "r.yaml",
        """
        max_duration: 90ep
        dataloader_len: 5005
        batch_size: 256
        lr: 0.1
        ssr: [0.5, 1]
        step_every: epoch
        schedulers:
          - name: multistep_with_warmup
            t_warmup: 5ep
            milestones: [30ep, 60ep, 80ep]
            gamma: 0.1
        """,
    )
    spec = load_file(path)
    run = spec.run
    assert run.max_duration == Time(90, "ep")
    assert (run.dataloader_len, run.batch_size, run.seq_len, run.lr, run.step_every) == (5005, 256, 1, 0.1, "epoch")
    assert spec.ssrs == (0.5, 1.0)
    (scheduler,) = run.schedulers
    assert isinstance(scheduler, MultiStepWithWarmupScheduler)
    assert scheduler.milestones == ["30ep", "60ep", "80ep"] and scheduler.t_warmup == "5ep"


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "s.json",
            json.dumps({"max_duration": "100ba", "scheduler": {"name": "cosine_with_warmup", "t_warmup": "10ba"}}),
        ),
        ("s.toml", 'max_duration = "100ba"\n[scheduler]\nname = "cosine_with_warmup"\nt_warmup = "10ba"\n'),
        ("s.yml", "max_duration: 100ba\nscheduler:\n  name: CosineAnnealingWithWarmupScheduler\n  t_warmup: 10ba\n"),
    ],
)
def test_json_toml_and_single_scheduler_forms(tmp_path, name, text):
    spec = load_file(write(tmp_path, name, text))
    (scheduler,) = spec.run.schedulers
    assert isinstance(scheduler, CosineAnnealingWithWarmupScheduler) and scheduler.t_warmup == "10ba"


def test_every_alias_resolves_and_llm_foundry_names_are_there():
    for name in ("cosine_with_warmup", "linear_decay_with_warmup", "constant_with_warmup"):
        assert registry.lookup(name) is not None
    assert registry.lookup("Linear-Decay-With-Warmup").cls is LinearWithWarmupScheduler
    names = registry.all_names()
    assert len(names) == len(set(n.lower() for n in names)), "an alias is registered twice"


def test_yaml_number_without_dot_is_accepted_for_a_float(tmp_path):
    # YAML 1.1 reads 1e-5 as text; users write it anyway.
    spec = load_file(
        write(tmp_path, "s.yaml", "max_duration: 10ba\nlr: 1e-5\nscheduler: {name: cosine, alpha_f: 1e-3}\n")
    )
    assert spec.run.lr == 1e-5 and spec.run.schedulers[0].alpha_f == 1e-3


def test_overrides_win_over_the_file(tmp_path):
    path = write(tmp_path, "s.yaml", "max_duration: 10ba\nbatch_size: 4\nscheduler: {name: linear}\n")
    spec = load_file(path, Overrides(max_duration="3ep", dataloader_len=7, batch_size=2, lr=0.5, step_every="epoch"))
    assert spec.run.max_duration == Time(3, "ep") and spec.run.dataloader_len == 7
    assert (spec.run.batch_size, spec.run.lr, spec.run.step_every) == (2, 0.5, "epoch")


def test_inline_expression():
    configs = parse_expression("cosine_with_warmup(t_warmup=100ba, alpha_f=0.1, scale_warmup=true)")
    assert configs == [{"name": "cosine_with_warmup", "t_warmup": "100ba", "alpha_f": 0.1, "scale_warmup": True}]
    assert parse_expression("multistep(milestones=[30ep, 60ep], gamma=0.5); linear")[0]["milestones"] == [
        "30ep",
        "60ep",
    ]
    spec = load("cosine_with_warmup(t_warmup=100ba, alpha_f=0.1)", Overrides(max_duration="1000ba", lr=0.2))
    assert spec.source == "<inline>" and spec.run.lr == 0.2
    assert spec.run.schedulers[0].alpha_f == 0.1


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("cosine", "cosine"),
        ("cosine()", "cosine()"),
        # Spaces normalised; up to the limit it is whole.
        ("linear( alpha_i=0 ,alpha_f=1);cosine", "linear(alpha_i=0, alpha_f=1); cosine"),
        # Two arguments have no middle to elide: whole, though past 40 characters.
        ("cosine_with_warmup(t_warmup=100ba, alpha_f=0.1)", "cosine_with_warmup(t_warmup=100ba, alpha_f=0.1)"),
        (
            "multistep_with_warmup(t_warmup=5ep, milestones=[30ep, 60ep, 80ep], gamma=0.1)",
            "multistep_with_warmup(t_warmup=5ep, …, gamma=0.1)",
        ),
        ("wsd(t_warmup=100ba, t_decay=0.2dur, decay_shape=cosine, alpha_f=0.1)", "wsd(t_warmup=100ba, …, alpha_f=0.1)"),
        ("x(a=1, b=2, c=3, d=4, e=5, f=6, g=7, h=8, i=9, j=10)", "x(a=1, b=2, c=3, d=4, …, h=8, i=9, j=10)"),
    ],
)
def test_inline_specs_are_labelled_by_their_expression(text, label):
    assert short_expression(text) == label
    assert len(label) <= LABEL_HARD_LIMIT


def test_an_inline_spec_keeps_its_expression_and_a_title_wins():
    text = "wsd(t_warmup=100ba, t_decay=0.2dur, decay_shape=cosine, alpha_f=0.1)"
    spec = load(text, Overrides(max_duration="1000ba"))
    assert spec.expression == text and spec.label == "wsd(t_warmup=100ba, …, alpha_f=0.1)"
    assert spec.long_label == text
    assert load_file(SAMPLES / "bert_base.yaml").label == "BERT-base pretraining"


def test_a_label_too_long_even_elided_is_cut_in_its_middle():
    text = "cosine_with_warmup(t_warmup=" + "1" * 80 + "ba)"
    label = short_expression(text)
    assert len(label) == LABEL_LIMIT and label.startswith("cosine_with_warmup(t…") and label.endswith("1ba)")
    assert short_expression(text, limit=None) == text


def test_custom_scheduler_file_relative_to_the_spec(tmp_path):
    (tmp_path / "lib").mkdir()
    write(
        tmp_path,
        "lib/mine.py",
        "def half(state):\n    return 0.5\n\n"
        "class Scaled:\n    def __init__(self, k):\n        self.k = k\n"
        "    def __call__(self, state, ssr=1.0):\n        return self.k\n",
    )
    spec = load_file(
        write(
            tmp_path,
            "s.yaml",
            "max_duration: 10ba\nschedulers:\n  - name: lib/mine.py:half\n  - name: lib/mine.py:Scaled\n    k: 0.25\n",
        )
    )
    half, scaled = spec.run.schedulers
    assert half(None) == 0.5 and scaled(None) == 0.25


#: Samples of tools that count their steps from the dataset, which their files cannot say.
_COUNTED_SAMPLES = ("hf_", "axolotl_", "llamafactory_", "recipe_")


def test_sample_specs_load_and_check():
    for path in sorted(SAMPLES.glob("*.yaml")):
        # A Hugging Face file cannot say its dataset size: the command line gives it.
        size = 1000 if path.stem.startswith("llamafactory_") else 2318  # within its max_samples
        spec = load_file(path, Overrides(dataset_size=size) if path.stem.startswith(_COUNTED_SAMPLES) else None)
        notes = check(spec)
        if path.stem == "stacked_schedulers":
            assert len(notes) == 1 and "only the last" in notes[0]
        else:
            assert notes == [], (path, notes)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "is empty"),
        ("- a\n- b\n", "must be a mapping"),
        ("max_duration: [1\n", "malformed YAML at line"),
        ("schedulers: [{name: linear}]\n", "max_duration: is required"),
        ("max_duraton: 10ba\nschedulers: [{name: linear}]\n", "did you mean 'max_duration'"),
        ("max_duration: 10 batches\nschedulers: [{name: linear}]\n", "max_duration: invalid time string"),
        ("max_duration: 1.5ba\nschedulers: [{name: linear}]\n", "not a whole number"),
        ("max_duration: 10sec\nschedulers: [{name: linear}]\n", "wall-clock"),
        ("max_duration: -5ba\nschedulers: [{name: linear}]\n", "max_duration"),
        ("max_duration: 0.5dur\nschedulers: [{name: linear}]\n", "ep, ba, sp or tok"),
        ("max_duration: 9ep\nschedulers: [{name: linear}]\n", "dataloader_len: is required"),
        ("max_duration: 9ba\nschedulers: [{name: step, step_size: 2ep}]\n", "schedulers[0].step_size is in epochs"),
        ("max_duration: 9ba\nbatch_size: 0\nschedulers: [{name: linear}]\n", "batch_size: 0 must be at least 1"),
        ("max_duration: 9ba\nseq_len: 2.5\nschedulers: [{name: linear}]\n", "seq_len: expected a whole number"),
        ("max_duration: 9ba\ndataloader_len: 1e30\nschedulers: [{name: linear}]\n", "dataloader_len"),
        ("max_duration: 9ba\nlr: .nan\nschedulers: [{name: linear}]\n", "lr: nan is not a finite number"),
        ("max_duration: 9ba\nssr: 0\nschedulers: [{name: linear}]\n", "ssr: 0 must be greater than 0"),
        (
            "max_duration: 9ba\nschedulers: [{name: cosine_with_warmpu, t_warmup: 1ba}]\n",
            "did you mean 'cosine_with_warmup'",
        ),
        ("max_duration: 9ba\nschedulers: [{name: cosine_with_warmup, t_warump: 1ba}]\n", "did you mean 't_warmup'"),
        ("max_duration: 9ba\nschedulers: [{name: cosine_with_warmup}]\n", "t_warmup: is required"),
        ("max_duration: 9ba\nschedulers: [{name: step, step_size: 2ba, gamma: fast}]\n", "gamma: expected a number"),
        ("max_duration: 9ba\nschedulers: [{name: step, step_size: [2ba]}]\n", "step_size: expected a time"),
        ("max_duration: 9ba\nschedulers: [{name: multistep, milestones: 3ba}]\n", "milestones: expected a list"),
        (
            "max_duration: 9ba\nschedulers: [{name: cosine_with_warmup, t_warmup: 1ba, scale_warmup: 1}]\n",
            "true or false",
        ),
        ("max_duration: 9ba\nschedulers: [{name: nofile.py:f}]\n", "no such file 'nofile.py'"),
        ("max_duration: 9ba\nschedulers: []\n", "non-empty list"),
    ],
)
def test_bad_specs_say_where_and_what(tmp_path, text, expected):
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(SpecError) as info:
        load_file(path)
    message = str(info.value)
    assert expected in message
    assert str(path) in message


def test_missing_file_and_unknown_extension(tmp_path):
    with pytest.raises(SpecError, match="no such spec file"):
        load(str(tmp_path / "missing.yaml"))
    (tmp_path / "spec.txt").write_text("max_duration: 1ba")
    with pytest.raises(SpecError, match="unknown spec format"):
        load_file(tmp_path / "spec.txt")


def test_composer_errors_surface_in_check(tmp_path):
    path = write(
        tmp_path,
        "s.yaml",
        "max_duration: 100ba\nschedulers: [{name: cosine_with_warmup, t_warmup: 10ba, t_max: 50ba}]\n",
    )
    with pytest.raises(SpecError, match="t_max=50ba .* shorter than max_duration 100ba"):
        check(load_file(path))


def test_check_warns_about_zero_warmup_and_milestones_inside_warmup(tmp_path):
    path = write(
        tmp_path,
        "s.yaml",
        "max_duration: 100ba\nschedulers: [{name: multistep_with_warmup, t_warmup: 20ba, milestones: [10ba, 50ba]}]\n",
    )
    notes = check(load_file(path))
    assert any("milestones 10ba fall inside the warmup" in n for n in notes)
    zero = write(
        tmp_path, "z.yaml", "max_duration: 100ba\nschedulers: [{name: cosine_with_warmup, t_warmup: 0.001dur}]\n"
    )
    assert any("warmup duration is 0" in n for n in check(load_file(zero)))


def test_check_warns_when_the_run_ends_before_its_warmup(tmp_path):
    # 50 batches of a 100-batch linear warmup: the last batch (49) trains at 49/100 of the peak.
    short = load("linear_decay_with_warmup(t_warmup=100ba)", Overrides(max_duration="50ba"))
    [note] = check(short)
    assert "the warmup ends at 100ba but the run ends at 50ba" in note
    assert "the multiplier peaks at 0.49 (batch 49)" in note
    # Ending exactly with the warmup still never trains at the peak: batch 99 gets 0.99.
    exact = load("linear_decay_with_warmup(t_warmup=100ba)", Overrides(max_duration="100ba"))
    assert any("peaks at 0.99 (batch 99)" in n for n in check(exact))
    # An SSR shortens the run but not the warmup (scale_warmup is false).
    assert not check(load("linear_decay_with_warmup(t_warmup=100ba)", Overrides(max_duration="101ba")))
    halved = with_ssrs(load("cosine_with_warmup(t_warmup=60ba)", Overrides(max_duration="100ba")), [0.5])
    assert any("run ends at 50ba (ssr 0.5)" in n and "peaks at 0.8167 (batch 49)" in n for n in check(halved))


def test_check_turns_a_warning_into_one_line():
    zero = load("cosine_with_warmup(t_warmup=0ba)", Overrides(max_duration="100ba"))
    [note] = check(zero)
    assert "\n" not in note and note.startswith("CosineAnnealingWithWarmupScheduler: The warmup duration is 0.")
    assert note.endswith("the same unit as the trainer's max_duration parameter.")


def test_ssr_from_the_command_line_is_validated(tmp_path):
    spec = load("linear", Overrides(max_duration="10ba"))
    assert with_ssrs(spec, [0.5, 2]).ssrs == (0.5, 2.0)
    with pytest.raises(SpecError, match="must be greater than 0"):
        with_ssrs(spec, [-1])
    with pytest.raises(SpecError, match="scales max_duration 10ba to 0ba"):
        check(with_ssrs(spec, [0.01]))


def test_nested_phases_and_word_arguments(tmp_path):
    from sched_cli.schedulers import SequentialScheduler, WarmupStableDecayScheduler

    path = write(
        tmp_path,
        "p.yaml",
        """
        max_duration: 100ba
        schedulers:
          - name: sequential
            phases:
              - {duration: 10ba, scheduler: {name: linear, alpha_i: 0, alpha_f: 1}}
              - {duration: 0.9dur, scheduler: {name: cosine_with_warmup, t_warmup: 0ba}}
          - name: wsd
            t_warmup: 5ba
            t_decay: 20ba
            decay_shape: 1-sqrt
        """,
    )
    sequential, wsd = load_file(path).run.schedulers
    assert isinstance(sequential, SequentialScheduler) and isinstance(wsd, WarmupStableDecayScheduler)
    assert wsd.decay_shape == "1-sqrt"
    bad_phase = write(
        tmp_path,
        "b.yaml",
        "max_duration: 10ba\nschedulers:\n  - name: sequential\n"
        "    phases: [{duration: 5ba, scheduler: {name: cosin}}]\n",
    )
    with pytest.raises(SpecError, match=r"schedulers\[0\]\.phases\[0\]\.scheduler\.name: unknown scheduler 'cosin'"):
        load_file(bad_phase)
    bad_word = write(
        tmp_path, "w.yaml", "max_duration: 10ba\nscheduler: {name: wsd, t_warmup: 1ba, t_decay: 2ba, decay_shape: 9}\n"
    )
    with pytest.raises(SpecError, match="decay_shape: expected a word"):
        load_file(bad_word)
    unknown_word = write(
        tmp_path,
        "u.yaml",
        "max_duration: 10ba\nscheduler: {name: wsd, t_warmup: 1ba, t_decay: 2ba, decay_shape: square}\n",
    )
    with pytest.raises(SpecError, match="square"):
        load_file(unknown_word)


# -- run geometry ---------------------------------------------------------------------------------
GEOMETRY_SPEC = """
max_duration: 2ep
dataset_size: 1000
devices: 3
device_batch_size: 10
schedulers: [{name: linear}]
"""


def test_geometry_keys_derive_the_loader(tmp_path):
    # 1000 samples over 3 devices: 334 per device (2 repeated), 33 batches of 10 and one of 4.
    run = load_file(write(tmp_path, "g.yaml", GEOMETRY_SPEC)).run
    assert (run.dataloader_len, run.batch_size, run.last_batch_size) == (34, 30, 12)
    assert run.geometry.samples_per_epoch == 33 * 30 + 12
    assert run.batches(1.0) == 68


@pytest.mark.parametrize(
    "extra, overrides, expected",
    [
        ("", Overrides(devices=5), (20, 50, None)),  # 200 per device: 20 full batches of 10 on 5 devices
        ("", Overrides(drop_last=True), (33, 30, None)),
        ("", Overrides(dataloader_len=7), (7, 30, None)),  # a given length replaces the dataset's
        ("", Overrides(batch_size=60), (17, 60, 42)),  # 334 per device in 16 x 20 + 14
        ("dataloader_len: 34\n", Overrides(), (34, 30, 12)),  # agrees: fine
    ],
)
def test_geometry_overrides_ask_what_if(tmp_path, extra, overrides, expected):
    run = load_file(write(tmp_path, "g.yaml", GEOMETRY_SPEC + extra), overrides).run
    assert (run.dataloader_len, run.batch_size, run.last_batch_size) == expected  # None: no short batch


@pytest.mark.parametrize(
    "extra, expected",
    [
        ("dataloader_len: 35\n", "dataloader_len: 35 disagrees with the 34 batches per epoch"),
        ("batch_size: 64\n", "batch_size: 64 disagrees with devices x device_batch_size = 3 x 10 = 30"),
        ("drop_last: maybe\n", "drop_last: expected true or false"),
    ],
)
def test_geometry_contradictions_are_errors(tmp_path, extra, expected):
    with pytest.raises(SpecError, match=expected):
        load_file(write(tmp_path, "g.yaml", GEOMETRY_SPEC + extra))


def test_global_batch_must_divide_among_devices_and_drop_last_needs_a_dataset(tmp_path):
    text = "max_duration: 10ba\ndevices: 3\nbatch_size: 64\nschedulers: [{name: linear}]\n"
    with pytest.raises(SpecError, match="not divisible by devices 3; give device_batch_size"):
        load_file(write(tmp_path, "a.yaml", text))
    text = "max_duration: 10ba\ndrop_last: true\nschedulers: [{name: linear}]\n"
    with pytest.raises(SpecError, match="drop_last: needs dataset_size"):
        load_file(write(tmp_path, "b.yaml", text))


def test_sample_milestones_and_dur_follow_the_short_last_batch(tmp_path):
    # 35 samples per device: batches of 15, 15 and 5 on each of 2 devices, so epochs of 30, 30 and
    # 10 samples. 100sp is reached at the start of batch 4 (70 + 30); 144sp after batch 6 (140 + 30).
    from sched_cli.simulator import collect, plan, simulate

    text = """
    max_duration: 144sp
    dataset_size: 70
    device_batch_size: 15
    devices: 2
    schedulers: [{name: multistep, milestones: [100sp]}]
    """
    spec = load_file(write(tmp_path, "s.yaml", text))
    p = plan(spec.run)
    assert p.batches == 7 and [b for _, b in p.breakpoints] == [4]
    rows = collect(simulate(spec.run, 1.0))
    assert rows["sample"].tolist() == [0, 30, 60, 70, 100, 130, 140]
    assert rows["epoch"].tolist() == [0, 0, 0, 1, 1, 1, 2]
    assert rows["multiplier"].tolist() == [1, 1, 1, 1, 0.1, 0.1, 0.1]
    assert rows["duration"].tolist() == [s / 144 for s in [0, 30, 60, 70, 100, 130, 140]]


def test_an_integer_beyond_any_float_is_a_clear_error(tmp_path):
    # Found by the CLI fuzzing in CI: lr: 10**400 overflowed while being checked (an internal error).
    text = "max_duration: 100ba\nlr: 1" + "0" * 400 + "\nschedulers: [{name: linear}]\n"
    with pytest.raises(SpecError, match="lr: an integer of about 401 digits is too large"):
        load_file(write(tmp_path, "big.yaml", text))
    with pytest.raises(SpecError, match="alpha_f: an integer of about 401 digits is too large"):
        load_file(
            write(
                tmp_path,
                "big2.yaml",
                "max_duration: 100ba\nschedulers: [{name: linear, alpha_f: 1" + "0" * 400 + "}]\n",
            )
        )


# -- skipped_steps ---------------------------------------------------------------------------------
def test_skipped_steps_forms():
    from sched_cli.specs import skipped_steps

    assert skipped_steps("x", None) == ()
    assert skipped_steps("x", 3) == (0, 1, 2)
    assert skipped_steps("x", "3") == (0, 1, 2)
    assert skipped_steps("x", "7,") == (7,)
    assert skipped_steps("x", "3,10,40-42") == (3, 10, 40, 41, 42)
    assert skipped_steps("x", [5, 1, 5]) == (1, 5)
    for bad in ("a", "5-2", [-1], True, 1.5):
        with pytest.raises(SpecError, match="skipped_steps"):
            skipped_steps("x", bad)


def test_skipped_steps_spec_key(tmp_path):
    from sched_cli.simulator import collect, simulate

    path = tmp_path / "s.yaml"
    path.write_text(
        "max_duration: 6ba\nlr: 1.0\ntrainer: hf\n"
        "schedulers: [{name: 'hf:linear', warmup_steps: 4}]\nskipped_steps: 2\n"
    )
    spec = load_file(path)
    assert spec.run.skipped_steps == (0, 1)
    assert list(collect(simulate(spec.run, mode="trainer"))["lr"][:4]) == [0.0, 0.0, 0.0, 0.25]


def test_importing_the_package_loads_no_module_until_a_name_is_used():
    import subprocess
    import sys

    code = (
        "import sys, sched_cli.specs as s; before = sorted(m for m in sys.modules if m.startswith('sched_cli.')); "
        "s.Overrides; print(before, 'sched_cli.specs.types' in sys.modules, 'sched_cli.specs.loading' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "['sched_cli.specs'] True False"


def test_batch_schedule_counts_samples_for_any_scheduler(tmp_path):
    """A batch size that changes with the batch: 2 samples for batches 0-4, then 4 (a ramp)."""
    from sched_cli.simulator import collect, simulate

    path = tmp_path / "ramp.yaml"
    path.write_text("max_duration: 30sp\nbatch_schedule: {0: 2, 5: 4}\nschedulers:\n  - name: linear\n")
    spec = load_file(path)
    rows = collect(simulate(spec.run))
    # Samples before each batch: 0, 2, 4, 6, 8, 10, 14, 18, 22, 26; batch 10 starts at 30 = the end.
    assert rows["sample"].tolist() == [0, 2, 4, 6, 8, 10, 14, 18, 22, 26]
    assert rows["multiplier"][7] == pytest.approx(1 - 18 / 30)
    path.write_text("max_duration: 30sp\nbatch_size: 4\nbatch_schedule: {0: 2, 5: 4}\nschedulers: [{name: linear}]\n")
    with pytest.raises(SpecError, match="cannot go with batch_schedule"):
        load_file(path)
    path.write_text("max_duration: 30sp\nbatch_schedule: {1: 2}\nschedulers: [{name: linear}]\n")
    with pytest.raises(SpecError, match="starts at batch 0"):
        load_file(path)


@pytest.mark.parametrize(
    "name", ["dataloader_len", "dataset_size", "devices", "device_batch_size", "batch_size", "seq_len"]
)
@pytest.mark.parametrize("value", [0, -1, 2.5, True])
def test_overrides_refuse_a_count_below_one_for_library_callers_too(name, value):
    # The CLI bounds the options (min=1); a library caller's Overrides(devices=0) is refused the same way,
    # before a reader can take 0 for "not given" (axolotl's reader did: `devices or 1`).
    with pytest.raises(SpecError, match=f"--{name.replace('_', '-')} {value!r} must be a whole number of at least 1"):
        Overrides(**{name: value})
    assert getattr(Overrides(**{name: 3}), name) == 3


@pytest.mark.parametrize("value", [0, 0.0, -1e-3, float("nan"), float("inf"), True])
def test_overrides_refuse_a_base_lr_that_is_not_positive_and_finite(value):
    # timm's, axolotl's and Megatron-LM's readers took `--lr 0` for "not given" and showed the file's LR.
    with pytest.raises(SpecError, match=r"--lr .* must be a finite number greater than 0"):
        Overrides(lr=value)
    assert Overrides(lr=3e-4).lr == 3e-4 and Overrides(lr=1).lr == 1
