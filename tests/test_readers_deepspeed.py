"""The DeepSpeed reader (sched_cli.readers.deepspeed): ds_config.json alone, and under a Hugging Face Trainer.

LRs below are worked out by hand from DeepSpeed 0.19's lr_schedules.py and the engine's stepping
(update k trains with the LR after k scheduler steps); HF's filling from
transformers.integrations.deepspeed (``auto`` -> the TrainingArguments value; anything else must
match it).
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import pytest

from sched_cli import readers
from sched_cli.simulator import collect, simulate
from sched_cli.specs import Overrides, SpecError, load_file

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "deepspeed"
SAMPLES = ROOT / "sample_specs"


def _write(tmp_path: Path, data: dict[str, Any], name: str = "ds_config.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def _lrs(path: Path, **overrides: Any) -> list[float]:
    spec = load_file(path, Overrides(**overrides))
    return list(collect(simulate(spec.run, mode="trainer"))["lr"])


# -- recognising ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["cifar_ds_config.json", "llamafactory_ds_z2_config.json", "axolotl_zero1.json"])
def test_real_configs_are_recognised_as_deepspeed(name):
    assert readers.recognise(json.loads((CORPUS / name).read_text())) == "deepspeed"


def test_hf_files_and_sched_specs_are_not_claimed():
    hf = json.loads((SAMPLES / "hf_deepspeed_sft.json").read_text())
    assert readers.recognise(hf) == "hf"
    assert readers.recognise({"max_duration": "10ba", "scheduler": {"name": "cosine"}}) is None
    assert readers.recognise({"scheduler": {"name": "cosine"}}) is None
    # gradient_accumulation_steps alone is HF's too; with train_batch_size it is DeepSpeed's
    assert readers.recognise({"train_batch_size": 8, "gradient_accumulation_steps": 2}) == "deepspeed"


# -- on its own -------------------------------------------------------------------------------------
def test_cifar_warmup_lr_needs_a_length_then_gives_deepspeeds_log_warmup(tmp_path):
    path = CORPUS / "cifar_ds_config.json"
    with pytest.raises(SpecError, match=r"WarmupLR has no total_num_steps.*--max-duration"):
        load_file(path)
    got = _lrs(path, max_duration="1200ba")
    assert len(got) == 1200
    assert got[0] == 0.0 and got[1] == 0.0
    assert got[2] == pytest.approx(0.001 * math.log(2) / math.log(1000))
    assert got[500] == pytest.approx(0.001 * math.log(500) / math.log(1000))
    assert got[1001] == 0.001 and got[1199] == 0.001
    spec = load_file(path, Overrides(max_duration="1200ba"))
    assert spec.run.batch_size == 16  # train_batch_size: samples per update
    assert spec.run.trainer == "deepspeed"
    assert not spec.notes  # bf16 has no loss scaling, fp16 is off


def test_warmup_decay_lr_runs_for_its_total_num_steps(tmp_path):
    path = _write(
        tmp_path,
        {
            "train_batch_size": 8,
            "optimizer": {"type": "Adam", "params": {"lr": 0.5}},
            "scheduler": {
                "type": "WarmupDecayLR",
                "params": {"total_num_steps": 20, "warmup_max_lr": 1.0, "warmup_num_steps": 4, "warmup_type": "linear"},
            },
        },
    )
    got = _lrs(path)
    assert len(got) == 20
    assert got[:6] == [0.0, 0.0, 0.25, 0.5, 0.75, 1.0]
    assert got[6] == pytest.approx(15 / 16)  # i = 5: (20 - 5) / (20 - 4)
    assert got[19] == pytest.approx(2 / 16)
    spec = load_file(path)
    assert spec.run.lr == 0.5  # the optimizer's LR is the base; multipliers are relative to it
    assert collect(simulate(spec.run, mode="trainer"))["multiplier"][5] == 2.0


def test_torch_scheduler_types_are_built_as_the_engine_builds_them(tmp_path):
    path = _write(
        tmp_path,
        {
            "train_batch_size": 8,
            "optimizer": {"type": "AdamW", "params": {"lr": 0.1}},
            "scheduler": {"type": "StepLR", "params": {"step_size": 3, "gamma": 0.5}},
        },
    )
    got = _lrs(path, max_duration="8ba")
    assert got == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025])


def test_skipped_steps_shift_the_schedule(tmp_path):
    path = _write(
        tmp_path,
        {
            "train_batch_size": 8,
            "fp16": {"enabled": True},
            "scheduler": {
                "type": "WarmupLR",
                "params": {"warmup_max_lr": 1.0, "warmup_num_steps": 4, "warmup_type": "linear"},
            },
        },
    )
    spec = load_file(path, Overrides(max_duration="8ba"))
    assert any("fp16 with dynamic loss scaling" in note for note in spec.notes)
    assert _lrs(path, max_duration="8ba", skipped_steps="3") == [0.0, 0.0, 0.0, 0.0, 0.0, 0.25, 0.5, 0.75]
    assert _lrs(path, max_duration="8ba", skipped_steps="2,4-5,") == [0.0, 0.0, 0.25, 0.25, 0.5, 0.5, 0.5, 0.75]


def test_fp16_with_a_static_loss_scale_gets_no_note(tmp_path):
    data = {"train_batch_size": 8, "fp16": {"enabled": True, "loss_scale": 128}, "optimizer": {"params": {"lr": 1e-3}}}
    spec = load_file(_write(tmp_path, data), Overrides(max_duration="4ba"))
    assert not any("fp16 with dynamic" in note for note in spec.notes)
    assert any("no scheduler block" in note for note in spec.notes)  # and the LR stays the optimizer's
    assert set(collect(simulate(spec.run, mode="trainer"))["lr"]) == {1e-3}


@pytest.mark.parametrize(
    ("scheduler", "message"),
    [
        ({"type": "WarmupLRR", "params": {}}, "neither a DeepSpeed scheduler"),
        (
            {"type": "WarmupLR", "params": {"warmup_max_lr": 1.0, "warm_steps": 10}},
            r"params.warm_steps: WarmupLR takes no",
        ),
        ({"type": "WarmupLR"}, "params: missing"),
        ({"type": "WarmupLR", "params": {"warmup_max_lr": 1.0, "warmup_num_steps": 0}}, "warmup_num_steps"),
        ({"type": "WarmupDecayLR", "params": {"warmup_max_lr": 1.0}}, "total_num_steps"),
        ({"type": "WarmupLR", "params": {"warmup_max_lr": "auto"}}, "'auto' is filled only by Hugging Face"),
        ({"type": "WarmupLR", "params": {"last_batch_iteration": 10, "warmup_max_lr": 1.0}}, "resumes"),
    ],
)
def test_what_deepspeed_would_reject_is_refused_in_one_line(tmp_path, scheduler, message):
    path = _write(tmp_path, {"train_batch_size": 8, "scheduler": scheduler})
    with pytest.raises(SpecError, match=message) as info:
        load_file(path, Overrides(max_duration="10ba"))
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_a_hf_file_read_as_deepspeed_is_refused():
    with pytest.raises(SpecError, match=r"learning_rate: a DeepSpeed config has no such key.*--from hf"):
        load_file(SAMPLES / "hf_deepspeed_sft.json", Overrides(source="deepspeed"))


def test_auto_values_are_refused_on_their_own():
    with pytest.raises(SpecError, match=r"optimizer.params.lr: 'auto'"):
        load_file(CORPUS / "axolotl_zero1.json", Overrides(max_duration="10ba"))


def test_unknown_keys_that_could_change_the_schedule_are_named(tmp_path):
    data = {"train_batch_size": 8, "curriculum_learning": {"enabled": True}, "optimizer": {"params": {"lr": 1.0}}}
    spec = load_file(_write(tmp_path, data), Overrides(max_duration="4ba"))
    assert any("curriculum_learning is not modelled" in note for note in spec.notes)


# -- under Hugging Face ------------------------------------------------------------------------------
def test_the_sample_deepspeed_block_replaces_hfs_cosine():
    spec = load_file(SAMPLES / "hf_deepspeed_sft.json")
    assert spec.notes[0].startswith("ds_z2_warmuplr.json's scheduler (WarmupLR) replaces lr_scheduler_type 'cosine'")
    rows = collect(simulate(spec.run, mode="trainer"))
    # warmup_steps 0.03 of max_steps 2000 -> warmup_num_steps ceil(60) = 60; lr auto -> 2e-5.
    assert rows["lr"][0] == 0.0 and rows["lr"][1] == 0.0
    assert rows["lr"][2] == pytest.approx(2e-5 * math.log(2) / math.log(60))
    assert rows["lr"][61] == 2e-5 and rows["lr"][-1] == 2e-5  # held: no cosine decay at all
    intended = load_file(SAMPLES / "hf_deepspeed_sft_intended.json")
    assert not intended.notes
    assert collect(simulate(intended.run, mode="trainer"))["lr"][-1] < 1e-7  # HF's cosine ends near 0


def _hf(tmp_path: Path, deepspeed: Any, **fields: Any) -> Path:
    args = {"learning_rate": 1e-4, "lr_scheduler_type": "cosine", "max_steps": 100, "warmup_steps": 10}
    args.update(fields)
    args["deepspeed"] = deepspeed
    return _write(tmp_path, args, "args.json")


def test_auto_values_are_filled_from_the_trainer(tmp_path):
    ds = {
        "train_batch_size": "auto",
        "scheduler": {
            "type": "WarmupDecayLR",
            "params": {
                "warmup_min_lr": "auto",
                "warmup_max_lr": "auto",
                "warmup_num_steps": "auto",
                "total_num_steps": "auto",
            },
        },
    }
    got = _lrs(_hf(tmp_path, ds, warmup_type="linear"))
    assert len(got) == 100
    assert got[11] == pytest.approx(1e-4)  # warmup_num_steps 10 (log): the peak at update 11
    assert got[12] == pytest.approx(1e-4 * 89 / 90)  # (T - i) / (T - w) with T 100, i 11, w 10


def test_a_mismatch_is_refused_as_hf_refuses_it(tmp_path):
    ds = {"train_batch_size": 64, "scheduler": {"type": "WarmupLR", "params": {"warmup_max_lr": 3e-4}}}
    with pytest.raises(SpecError) as info:
        load_file(_hf(tmp_path, ds), Overrides(devices=2))
    message = str(info.value)
    assert "ds train_batch_size=64 vs hf train_batch_size (calculated)=16" in message  # 2 x 8 x 1
    assert "ds scheduler.params.warmup_max_lr=0.0003 vs hf learning_rate=0.0001" in message
    assert "\n" not in message


def test_no_scheduler_block_keeps_hfs_schedule(tmp_path):
    spec = load_file(_hf(tmp_path, str(CORPUS / "llamafactory_ds_z2_config.json")))
    assert spec.configs[0]["name"] == "hf:cosine"
    assert any("no scheduler block: lr_scheduler_type 'cosine' is in force" in fact for fact in spec.facts)
    notes = load_file(_hf(tmp_path, str(CORPUS / "axolotl_zero1.json"), fp16=True)).notes
    assert any("fp16 with dynamic" in note for note in notes)  # fp16.enabled auto -> TrainingArguments.fp16


def _config_fact(spec: Any) -> str:
    return next(fact for fact in spec.facts if fact.startswith("deepspeed config:"))


def test_a_relative_path_is_looked_up_next_to_the_file_then_in_the_working_directory(tmp_path, monkeypatch):
    ds = {"scheduler": {"type": "WarmupLR", "params": {"warmup_num_steps": 10}}}
    (tmp_path / "runs").mkdir()
    args = _hf(tmp_path / "runs", "ds.json")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    with pytest.raises(SpecError, match=r"'ds.json' not found .*--deepspeed-config"):
        load_file(args)
    _write(work, ds, "ds.json")  # where HF looks: the working directory
    assert "work/ds.json" in _config_fact(load_file(args))
    _write(tmp_path / "runs", {"scheduler": {"type": "WarmupLR", "params": {"warmup_num_steps": "auto"}}}, "ds.json")
    assert "runs/ds.json" in _config_fact(load_file(args))  # next to the file wins
    other = _write(tmp_path, {"train_batch_size": 8}, "other.json")
    spec = load_file(args, Overrides(deepspeed_config=str(other)))
    assert spec.configs[0]["name"] == "hf:cosine"


def test_an_inline_block_and_the_option_on_a_plain_spec(tmp_path):
    spec = load_file(_hf(tmp_path, {"scheduler": {"type": "WarmupLR", "params": {"warmup_num_steps": 10}}}))
    assert "args.json's deepspeed block's scheduler (WarmupLR)" in spec.notes[0]
    plain = _write(tmp_path, {"max_duration": "10ba", "schedulers": "constant"}, "plain.json")
    with pytest.raises(SpecError, match="--deepspeed-config"):
        load_file(plain, Overrides(deepspeed_config="x.json"))


# -- the command line ---------------------------------------------------------------------------------
def test_export_one_row_per_update(sched, tmp_path):
    out = tmp_path / "out.csv"
    code, _, err = sched(
        "export", str(CORPUS / "cifar_ds_config.json"), "--from", "deepspeed", "--max-duration", "20ba", "-o", str(out)
    )
    assert code == 0, err
    rows = list(csv.DictReader(out.open()))
    assert [int(r["batch"]) for r in rows] == list(range(20))
    assert float(rows[2]["lr"]) == pytest.approx(0.001 * math.log(2) / math.log(1000))
    code, _, err = sched("export", str(CORPUS / "cifar_ds_config.json"), "-o", str(out))
    assert code == 2 and err.startswith("sched: error:") and err.count("\n") == 1 and "--max-duration" in err


def test_skipped_steps_option_on_the_command_line(sched):
    args = ("table", str(CORPUS / "cifar_ds_config.json"), "--max-duration", "50ba", "--at", "10ba", "-f", "csv")
    code, out, err = sched(*args, "--skipped-steps", "8")
    assert code == 0, err
    lr = float(list(csv.DictReader(out.splitlines()))[0]["lr"])
    assert lr == pytest.approx(0.001 * math.log(2) / math.log(1000))  # 10 - 8 = 2 steps taken
    code, _, err = sched(*args, "--skipped-steps", "x")
    assert code == 2 and "skipped_steps" in err and err.count("\n") == 1


def test_hf_yaml_with_a_deepspeed_path_counted_in_epochs(sched, tmp_path):
    ds = {
        "train_batch_size": "auto",
        "gradient_accumulation_steps": "auto",
        "scheduler": {"type": "WarmupDecayLR", "params": {"total_num_steps": "auto", "warmup_num_steps": "auto"}},
    }
    _write(tmp_path, ds, "ds.json")
    args = tmp_path / "args.yaml"
    args.write_text(
        "learning_rate: 1.0e-4\nlr_scheduler_type: cosine\nnum_train_epochs: 2\nwarmup_steps: 0.1\n"
        "per_device_train_batch_size: 4\ngradient_accumulation_steps: 2\ndeepspeed: ds.json\n"
    )
    out = tmp_path / "out.csv"
    code, _, err = sched(
        "export", str(args), "--from", "hf", "--dataset-size", "1000", "--devices", "2", "-o", str(out)
    )
    assert code == 0, err
    assert "replaces lr_scheduler_type 'cosine'" in err
    assert "warmup_max_lr is not set, so WarmupDecayLR warms up to its default 0.001" in err
    rows = list(csv.DictReader(out.open()))
    # 1000 samples / 4 = 250 micro-batches, 125 per rank, ceil(125 / 2) = 63 updates an epoch, T = 126;
    # warmup ceil(0.1 x 126) = 13; WarmupDecayLR's warmup_max_lr is its own default, 0.001.
    assert len(rows) == 126
    assert float(rows[14]["lr"]) == pytest.approx(0.001)
    assert float(rows[20]["lr"]) == pytest.approx(0.001 * (126 - 19) / (126 - 13))


def test_describe_shows_the_deepspeed_types(sched):
    code, out, err = sched("describe", "ds:WarmupCosineLR")
    assert code == 0, err
    assert "cos_min_ratio" in out and "total_num_steps" in out
