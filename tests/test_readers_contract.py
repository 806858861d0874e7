"""The reader contract of sched_cli/readers/__init__.py, checked for every reader in readers.NAMES:
attributes present and typed, recognition that claims only its own tool's files, and the
key-accounting rule on a real sample of each tool (with validate --strict in a real process)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sched_cli import readers
from sched_cli.simulator import TRAINERS
from sched_cli.specs import TOP_LEVEL_KEYS, Overrides

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_specs"

#: A real file of each reader's tool, and the options it needs to be read.
READER_SAMPLES: dict[str, tuple[Path, dict[str, object]]] = {
    "foundry": (ROOT / "tests" / "data" / "foundry" / "mpt-125m.yaml", {}),
    "hf": (SAMPLES / "hf_trl_sft.json", {"dataset_size": 1000}),
    "timm": (SAMPLES / "timm_imagenet_args.yaml", {}),
    "mmengine": (SAMPLES / "mmdet_schedule.yaml", {"dataset_size": 1000}),
    "megatron": (SAMPLES / "megatron_model_config.yaml", {"devices": 32}),
    "deepspeed": (ROOT / "tests" / "data" / "deepspeed" / "cifar_ds_config.json", {"max_duration": "2000ba"}),
    "axolotl": (SAMPLES / "axolotl_llama3_lora.yml", {"dataset_size": 2000}),
    "llamafactory": (SAMPLES / "llamafactory_qwen3_lora_sft.yaml", {"dataset_size": 1000}),
}
#: A key whose name says it could change the schedule, and one that says it does not.
SCHEDULE_LIKE = "lr_warmup_foo"
IRRELEVANT_LOOKING = "wandb_project_x"


def sample(name: str) -> tuple[Path, dict, dict[str, object]]:
    if name not in READER_SAMPLES or not READER_SAMPLES[name][0].exists():
        pytest.fail(f"no sample file for reader {name!r}: add a real file of its tool to READER_SAMPLES")
    path, options = READER_SAMPLES[name]
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    return path, data, options


def notes_of(name: str, data: dict, options: dict[str, object]) -> list[str]:
    return readers.read(name, data, "sample", dict(options)).notes


@pytest.mark.parametrize("name", readers.NAMES)
def test_every_attribute_is_present_and_typed(name):
    module = readers.reader(name)
    missing = [
        a for a in ("NAME", "TITLE", "TRAINER", "REFERENCE", "CONSUMES", "KEYS", "IRRELEVANT") if not hasattr(module, a)
    ]
    assert not missing, f"reader {name} lacks {', '.join(missing)}"
    assert module.NAME == name
    assert isinstance(module.TITLE, str) and module.TITLE
    assert module.TRAINER in TRAINERS
    assert isinstance(module.REFERENCE, str)
    assert (ROOT / "tools" / "envs" / f"{module.REFERENCE}.sh").is_file()
    assert (ROOT / "tests" / f"test_against_{module.REFERENCE}.py").is_file()
    fields = {f.name for f in dataclasses.fields(Overrides)}
    assert isinstance(module.CONSUMES, tuple) and set(module.CONSUMES) <= fields
    for attribute in ("KEYS", "IRRELEVANT"):
        keys = getattr(module, attribute)
        assert isinstance(keys, (frozenset, set, tuple)) and all(isinstance(k, str) for k in keys), attribute
    assert not set(module.KEYS) & set(module.IRRELEVANT), "a key is either read or irrelevant, not both"
    assert callable(module.recognise) and callable(module.read)


def plain_specs() -> list[Path]:
    """The bundled files that are sched specs by their keys alone."""
    out = []
    for path in sorted([*SAMPLES.glob("*.yaml"), *SAMPLES.glob("*.json")]):
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        if isinstance(data, dict) and set(data) <= set(TOP_LEVEL_KEYS):
            out.append(path)
    return out


def test_there_are_plain_specs_to_check():
    assert len(plain_specs()) >= 5


@pytest.mark.parametrize("name", readers.NAMES)
def test_recognise_claims_no_sched_spec_and_no_other_readers_sample(name):
    module = readers.reader(name)
    for path in plain_specs():
        assert not module.recognise(yaml.safe_load(path.read_text(encoding="utf-8"))), path.name
    _, own, _ = sample(name)
    assert module.recognise(own)
    for other in readers.NAMES:
        if other != name and other in READER_SAMPLES and READER_SAMPLES[other][0].exists():
            assert not module.recognise(sample(other)[1]), f"{name} claims {other}'s sample"


@pytest.mark.parametrize("name", readers.NAMES)
def test_the_sample_reads_without_notes_and_its_keys_are_accounted_for(name):
    module = readers.reader(name)
    _, data, options = sample(name)
    assert notes_of(name, data, options) == []
    accounted = getattr(module, "accounted", None)
    places = accounted(data) if accounted else [("", data)]
    known = set(module.KEYS) | set(module.IRRELEVANT)
    unaccounted = [k for _, mapping in places for k in mapping if k not in known]
    assert not unaccounted, f"keys of {name}'s sample in neither KEYS nor IRRELEVANT: {unaccounted}"


@pytest.mark.parametrize("name", readers.NAMES)
def test_an_unknown_schedule_like_key_is_named_and_an_irrelevant_looking_one_is_not(name):
    _, data, options = sample(name)
    notes = notes_of(name, {**data, SCHEDULE_LIKE: 3}, options)
    assert len([n for n in notes if SCHEDULE_LIKE in n]) == 1, notes
    assert notes_of(name, {**data, IRRELEVANT_LOOKING: "a"}, options) == []


@pytest.mark.parametrize("name", readers.NAMES)
def test_every_known_key_gives_no_note(name):
    module = readers.reader(name)
    _, data, options = sample(name)
    notes = " ".join(notes_of(name, data, options))
    for key in data:
        if key in module.KEYS or key in module.IRRELEVANT:
            assert f" {key} " not in notes and f": {key}:" not in notes


def _options(options: dict[str, object]) -> list[str]:
    return [arg for key, value in options.items() for arg in (f"--{key.replace('_', '-')}", str(value))]


@pytest.mark.parametrize("name", readers.NAMES)
def test_validate_strict_fails_on_an_unknown_schedule_like_key(name, tmp_path):
    path, data, options = sample(name)
    for key, code in ((SCHEDULE_LIKE, 1), (IRRELEVANT_LOOKING, 0)):
        target = tmp_path / f"{'schedule' if code else 'other'}{path.suffix}"
        changed = {**data, key: 3}
        target.write_text(json.dumps(changed) if path.suffix == ".json" else yaml.safe_dump(changed))
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "sched_cli",
                "validate",
                str(target),
                "--strict",
                "--from",
                name,
                *_options(options),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == code, proc.stdout + proc.stderr
        assert (key in proc.stdout + proc.stderr) == (code == 1)
        assert "Traceback" not in proc.stderr


def test_from_offers_every_reader():
    proc = subprocess.run(
        [sys.executable, "-m", "sched_cli", "validate", "--help"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0
    for name in readers.NAMES:
        assert name in proc.stdout


# -- the rule itself -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("lr_warmup_foo", True),
        ("num_cycles", True),
        ("gradient_accumulation_steps", True),
        ("max_epochs", True),
        ("wandb_project_x", False),
        ("model_name_or_path", False),
        ("report_to", False),
    ],
)
def test_could_change_schedule_reads_the_name(key, expected):
    assert readers.could_change_schedule(key) is expected


def test_a_key_of_another_tool_is_named_even_without_a_schedule_word():
    notes = readers.unknown_key_notes({"base_model": "x", "report_to": "none"}, "f.yaml", "T", known=())
    assert len(notes) == 1 and "base_model" in notes[0]


@pytest.mark.parametrize("name", readers.NAMES)
def test_an_option_the_tool_has_no_use_for_is_refused_by_name(name):
    """``NOT_FOR``: options that mean nothing for the tool's files are refused in one line naming the option and the
    tool, never dropped (timm, MMEngine and Megatron-LM readers took --step-every and showed the same schedule)."""
    module = readers.reader(name)
    not_for = getattr(module, "NOT_FOR", {})
    fields = {f.name for f in dataclasses.fields(Overrides)}
    assert isinstance(not_for, dict) and set(not_for) <= fields
    if module.TRAINER != "composer":
        # Only Composer's Trainer has a stepping switch (step_schedulers_every_batch); every other tool steps its
        # scheduler by its own rule, which its file says.
        assert "step_every" in not_for
    _, data, options = sample(name)
    for option, instead in not_for.items():
        value = {"step_every": "epoch", "deepspeed_config": "ds.json"}.get(option, 7)
        with pytest.raises(readers.ReaderError) as refused:
            readers.read(name, data, "sample.cfg", {**options, option: value})
        flag = "--" + option.replace("_", "-")
        assert str(refused.value) == f"sample.cfg: {flag} does not apply to this {module.TITLE} file; {instead}"
