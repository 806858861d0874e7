"""LLM Foundry training YAMLs read as specs: the keys sched takes, OmegaConf interpolation, errors.

The fixtures in tests/data/foundry/ are LLM Foundry's own YAMLs, unmodified (see the README
there), plus variables_interpolation.yaml, ours, which routes every value through an interpolation.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from sched_cli import registry
from sched_cli.readers.foundry import (
    FOUNDRY_SCHEDULERS,
    FoundryConfigError,
    is_foundry_config,
    is_mcli_run,
    to_spec_mapping,
)
from sched_cli.simulator import collect, simulate
from sched_cli.specs import Overrides, SpecError, from_mapping, load_file

DATA = Path(__file__).resolve().parent / "data" / "foundry"
SAMPLES = Path(__file__).resolve().parent.parent / "sample_specs"


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((DATA / name).read_text())


def spec_of(text: str) -> dict[str, Any]:
    return to_spec_mapping(yaml.safe_load(textwrap.dedent(text)), "t.yaml")


MINIMAL = """
max_duration: 1000ba
global_train_batch_size: 32
max_seq_len: 512
scheduler: {name: cosine_with_warmup, t_warmup: 10ba}
optimizer: {name: decoupled_adamw, lr: 1.0e-4}
"""


def with_keys(**changes: Any) -> dict[str, Any]:
    """MINIMAL with some top-level keys replaced (``None`` removes one)."""
    data = yaml.safe_load(MINIMAL)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


# -- LLM Foundry's own YAMLs ---------------------------------------------------------------------
def test_mpt_125m():
    assert to_spec_mapping(load("mpt-125m.yaml"), "mpt-125m.yaml") == {
        "max_duration": "4800ba",
        "batch_size": 256,
        "seq_len": 2048,
        "lr": 6.0e-4,
        "schedulers": [{"name": "cosine_with_warmup", "t_warmup": "100ba", "alpha_f": 0.1}],
    }


def test_gpt2_small():
    assert to_spec_mapping(load("gpt2-small.yaml"), "gpt2-small.yaml") == {
        "max_duration": "33696ba",
        "batch_size": 256,
        "seq_len": 2048,
        "lr": 6.0e-4,
        "schedulers": [{"name": "cosine_with_warmup", "t_warmup": "100ba", "alpha_f": 0.1}],
    }


def test_mpt_7b_dolly_finetune_runs_in_epochs():
    options = {"dataloader_len": 300}
    mapping = to_spec_mapping(load("mpt-7b_dolly_sft.yaml"), "mpt-7b_dolly_sft.yaml", options)
    assert mapping == {
        "max_duration": "2ep",
        "batch_size": 48,
        "seq_len": 2048,
        "lr": 5.0e-6,
        "schedulers": [{"name": "linear_decay_with_warmup", "t_warmup": "50ba", "alpha_f": 0}],
    }
    spec = from_mapping(Overrides(**options).apply(mapping), "mpt-7b_dolly_sft.yaml", DATA)
    assert spec.run.batches(1.0) == 600


@pytest.mark.parametrize(
    ("name", "key"),
    [("mpt-7b_dolly_sft.yaml", "max_duration"), ("mcli-llama2-finetune.yaml", "parameters.max_duration")],
)
def test_an_epoch_based_run_without_a_length_names_the_options_to_pass(name, key):
    with pytest.raises(FoundryConfigError) as caught:
        to_spec_mapping(load(name), name, {})  # as `sched` reads it, with no length option given
    message = str(caught.value)
    assert message.startswith(f"{name}: {key}: ") and "is in epochs" in message
    assert "--dataset-size N" in message and "--dataloader-len L" in message and "floor(N / " in message
    assert "dataloader_len:" not in message  # a key Foundry files do not have
    for options in ({"dataset_size": 1000}, {"dataloader_len": 10}):  # either is enough
        assert to_spec_mapping(load(name), name, options)["max_duration"].endswith("ep")


def test_a_scheduler_time_in_epochs_needs_a_length_too():
    data = yaml.safe_load(MINIMAL.replace("t_warmup: 10ba", "t_warmup: 1ep"))
    with pytest.raises(FoundryConfigError, match=r"t.yaml: scheduler.t_warmup: 1ep is in epochs.*--dataset-size N"):
        to_spec_mapping(data, "t.yaml", {})
    assert to_spec_mapping(yaml.safe_load(MINIMAL), "t.yaml", {})["max_duration"] == "1000ba"


def test_an_mcli_run_file_is_read_through_its_parameters():
    run = load("mcli-llama2-finetune.yaml")
    assert set(run) == {"integrations", "command", "image", "name", "compute", "parameters"}
    assert is_mcli_run(run) and not is_foundry_config(run)
    # Interpolations resolve inside parameters: (${max_seq_len} is parameters.max_seq_len, 4096).
    assert to_spec_mapping(run, "run.yaml", {"dataloader_len": 100}) == {
        "max_duration": "1ep",
        "batch_size": 64,
        "seq_len": 4096,
        "lr": 5.0e-7,
        "schedulers": [{"name": "cosine_with_warmup", "t_warmup": "100ba", "alpha_f": 0.1}],
        "devices": 8,  # compute.gpus
    }
    # With the dataset's size, drop_last comes from train_loader and the epoch from the geometry:
    # 10,000 samples over 8 GPUs is 1,250 each, in batches of 64 / 8 = 8: 156 full batches.
    mapping = to_spec_mapping(run, "run.yaml", {"dataset_size": 10_000})
    assert mapping["drop_last"] is True
    spec = from_mapping(Overrides(dataset_size=10_000).apply(mapping), "run.yaml", DATA)
    assert spec.run.dataloader_len == 156 and spec.run.batches(1.0) == 156


def test_mcli_problems_name_the_key_under_parameters():
    run = load("mcli-llama2-finetune.yaml")
    del run["parameters"]["global_train_batch_size"]
    run["parameters"]["model"]["name"] = "mpt"  # still a Foundry config by its sections
    run["parameters"]["global_train_batch_size"] = "sixty-four"
    with pytest.raises(FoundryConfigError, match=r"^r.yaml: parameters.global_train_batch_size: expected a whole"):
        to_spec_mapping(run, "r.yaml", {"dataloader_len": 1})


@pytest.mark.parametrize("parameters", [{}, None, "x"])
def test_an_mcli_run_file_without_a_training_config(parameters):
    run = {"name": "mpt-1b", "image": "img", "command": "composer train.py x.yaml", "parameters": parameters}
    assert not is_mcli_run(run) and not is_foundry_config(run)
    with pytest.raises(FoundryConfigError, match="parameters: holds no LLM Foundry training config"):
        to_spec_mapping(run, "r.yaml", {})


def test_mpt_125m_previews_like_the_hand_written_sample():
    """sample_specs/gpt_llm_foundry.yaml is MPT-125M's schedule written in tokens by hand."""
    foundry = from_mapping(to_spec_mapping(load("mpt-125m.yaml"), "mpt-125m.yaml"), "mpt-125m.yaml", DATA)
    sample = load_file(SAMPLES / "gpt_llm_foundry.yaml")
    ours, theirs = collect(simulate(foundry.run)), collect(simulate(sample.run))
    assert len(ours["batch"]) == len(theirs["batch"]) == 4800
    np.testing.assert_array_equal(ours["token"], theirs["token"])
    np.testing.assert_allclose(ours["lr"], theirs["lr"], rtol=1e-12, atol=0)


def test_our_fixture_resolves_every_kind_of_interpolation():
    assert to_spec_mapping(load("variables_interpolation.yaml"), "v.yaml") == {
        "max_duration": "2000ba",  # ${variables.durations.${variables.length}}
        "batch_size": 64,
        "seq_len": 1024,  # ${variables.seq_len} -> ${variables.max_seq_len}
        "lr": 3.0e-4,
        "schedulers": [{"name": "cosine_with_warmup", "t_warmup": "50ba", "alpha_f": 0.1}],
    }


def test_our_fixture_agrees_with_omegaconf():
    omegaconf = pytest.importorskip("omegaconf")
    resolved = omegaconf.OmegaConf.to_container(
        omegaconf.OmegaConf.load(DATA / "variables_interpolation.yaml"), resolve=True
    )
    mapping = to_spec_mapping(load("variables_interpolation.yaml"), "v.yaml")
    assert mapping["max_duration"] == resolved["max_duration"]
    assert mapping["seq_len"] == resolved["max_seq_len"]
    assert mapping["lr"] == resolved["optimizer"]["lr"]
    assert mapping["schedulers"] == [resolved["scheduler"]]


# -- recognising a Foundry config ------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", ["mpt-125m.yaml", "gpt2-small.yaml", "mpt-7b_dolly_sft.yaml", "variables_interpolation.yaml"]
)
def test_foundry_yamls_are_recognised(name):
    assert is_foundry_config(load(name)) and name in {p.name for p in DATA.glob("*.yaml")}


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_sched_specs_are_not(path):
    assert not is_foundry_config(yaml.safe_load(path.read_text()))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"global_train_batch_size": 8}, True),
        ({"scheduler": {"name": "cosine_with_warmup"}, "optimizer": {"lr": 1}}, True),
        ({"scheduler": {"name": "linear_decay_with_warmup"}, "model": {}}, True),
        ({"scheduler": {"name": "cosine_with_warmup"}, "max_duration": "10ba"}, False),  # a sched spec
        ({"scheduler": {"name": "CosineAnnealingScheduler"}, "optimizer": {}}, False),
        ({"optimizer": {}, "model": {}, "train_loader": {}}, True),
        ({"optimizer": {}, "model": {}}, False),
        ([1, 2], False),
        ("text", False),
        (None, False),
    ],
)
def test_recognition_rules(data, expected):
    assert is_foundry_config(data) is expected


# -- the keys sched reads ------------------------------------------------------------------------
def test_everything_else_is_ignored_even_broken_interpolations():
    mapping = spec_of(
        MINIMAL
        + """
device_train_microbatch_size: auto
eval_interval: ${nowhere.to_be_found}
run_name: ${oc.env:SCHED_SURELY_UNSET_VARIABLE}
model: {name: mpt_causal_lm, d_model: "${oc.decode:'768'}"}
train_loader: {dataset: {local: "${variables.missing}/train"}}
callbacks: {lr_monitor: {}}
loggers: ???
"""
    )
    assert mapping["max_duration"] == "1000ba" and mapping["batch_size"] == 32


@pytest.mark.parametrize(("value", "expected"), [(3, "3ep"), (2.0, "2ep"), (" 200ba ", "200ba"), ("5e3tok", "5e3tok")])
def test_max_duration(value, expected):
    assert to_spec_mapping(with_keys(max_duration=value), "t.yaml")["max_duration"] == expected


def test_an_integer_max_duration_is_epochs_even_through_an_interpolation():
    data = with_keys(max_duration="${variables.epochs}", variables={"epochs": 4})
    assert to_spec_mapping(data, "t.yaml")["max_duration"] == "4ep"
    data = with_keys(max_duration="${variables.epochs}ep", variables={"epochs": 4})
    assert to_spec_mapping(data, "t.yaml")["max_duration"] == "4ep"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"max_duration": None}, "t.yaml: max_duration: is required, e.g. max_duration: 4800ba"),
        ({"max_duration": True}, "max_duration: expected a time such as 4800ba or a number of epochs, got True"),
        ({"max_duration": 0}, "max_duration: 0 must be a positive number of epochs"),
        ({"max_duration": [1]}, "max_duration: expected a time such as 4800ba, got list"),
        ({"global_train_batch_size": None}, "global_train_batch_size: is required: samples per batch"),
        ({"global_train_batch_size": 0}, "global_train_batch_size: expected a whole number of at least 1, got 0"),
        ({"global_train_batch_size": 2.5}, "global_train_batch_size: expected a whole number of at least 1, got 2.5"),
        ({"global_train_batch_size": "lots"}, "global_train_batch_size: expected a whole number of at least 1"),
        ({"max_seq_len": None}, "max_seq_len: is required: tokens per sample, at the top level"),
        ({"max_seq_len": -4}, "max_seq_len: expected a whole number of at least 1, got -4"),
        ({"scheduler": None}, "scheduler: is required: a mapping with a name"),
        ({"scheduler": "cosine_with_warmup"}, "scheduler: expected a mapping with a name, got str"),
        ({"scheduler": {"t_warmup": "1ba"}}, "scheduler.name: is required: one of constant_with_warmup"),
        (
            {"scheduler": {"name": "cosine_warmup"}},
            "scheduler.name: 'cosine_warmup' is not in LLM Foundry's scheduler registry "
            "(did you mean 'cosine_with_warmup'?)",
        ),
        ({"optimizer": {"lr": -1}}, "optimizer.lr: expected a number greater than 0, got -1"),
        ({"optimizer": {"lr": "fast"}}, "optimizer.lr: expected a number, got text 'fast'"),
        ({"train_subset_num_batches": 0}, "train_subset_num_batches: expected a whole number of at least 1, got 0"),
    ],
)
def test_problems_name_the_key_and_what_was_expected(changes, message):
    with pytest.raises(FoundryConfigError, match="^t.yaml: ") as info:
        to_spec_mapping(with_keys(**changes), "t.yaml")
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


def test_not_a_mapping():
    with pytest.raises(FoundryConfigError, match="t.yaml: an LLM Foundry config is a mapping of keys, not list"):
        to_spec_mapping([1], "t.yaml")  # type: ignore[arg-type]


INV_SQRT = {"name": "inv_sqrt_with_warmup", "t_warmup": "10ba", "t_scale": "10ba", "t_cooldown": "10ba"}


def test_inv_sqrt_with_warmup_passes_through_to_sched():
    if registry.lookup("inv_sqrt_with_warmup") is None:
        pytest.skip("sched has no inv_sqrt_with_warmup in this tree")
    mapping = to_spec_mapping(with_keys(scheduler=INV_SQRT), "t.yaml")
    assert mapping["schedulers"] == [INV_SQRT]
    from_mapping(mapping, "t.yaml", DATA)


def test_a_foundry_scheduler_sched_lacks_is_a_clear_error(monkeypatch):
    assert FOUNDRY_SCHEDULERS["inv_sqrt_with_warmup"] == "InverseSquareRootWithWarmupScheduler"
    monkeypatch.setattr(registry, "lookup", lambda name: None)
    with pytest.raises(FoundryConfigError) as info:
        to_spec_mapping(with_keys(scheduler=INV_SQRT), "t.yaml")
    assert str(info.value) == (
        "t.yaml: scheduler.name: 'inv_sqrt_with_warmup' (LLM Foundry's InverseSquareRootWithWarmupScheduler) "
        "is not one of sched's schedulers yet; see `sched list`"
    )


@pytest.mark.parametrize("name", ["constant_with_warmup", "cosine_with_warmup", "linear_decay_with_warmup"])
def test_each_foundry_scheduler_builds(name):
    mapping = to_spec_mapping(with_keys(scheduler={"name": name, "t_warmup": "10ba"}), "t.yaml")
    spec = from_mapping(mapping, "t.yaml", DATA)
    assert spec.run.schedulers[0].t_warmup == "10ba"


def test_scheduler_arguments_pass_through_for_the_spec_to_check():
    mapping = to_spec_mapping(
        with_keys(scheduler={"name": "cosine_with_warmup", "t_warmup": "10ba", "t_wamrup": 1}), "t.yaml"
    )
    with pytest.raises(SpecError, match="has no parameter 't_wamrup' \\(did you mean 't_warmup'\\?\\)"):
        from_mapping(mapping, "t.yaml", DATA)


def test_max_seq_len_falls_back_to_variables():
    assert to_spec_mapping(with_keys(max_seq_len=None, variables={"max_seq_len": 4096}), "t.yaml")["seq_len"] == 4096
    # the top level wins: it is what LLM Foundry reads
    assert to_spec_mapping(with_keys(variables={"max_seq_len": 4096}), "t.yaml")["seq_len"] == 512


def test_lr_is_optional_and_text_numbers_are_numbers():
    assert "lr" not in to_spec_mapping(with_keys(optimizer=None), "t.yaml")
    assert "lr" not in to_spec_mapping(with_keys(optimizer={"name": "no_op"}), "t.yaml")
    assert to_spec_mapping(with_keys(optimizer={"lr": "1e-4"}), "t.yaml")["lr"] == 1e-4  # YAML 1.1 reads text


def test_dataloader_len():
    assert "dataloader_len" not in to_spec_mapping(with_keys(), "t.yaml")
    assert "dataloader_len" not in to_spec_mapping(with_keys(train_subset_num_batches=-1), "t.yaml")
    assert to_spec_mapping(with_keys(train_subset_num_batches=250), "t.yaml")["dataloader_len"] == 250
    both = with_keys(train_subset_num_batches=250, dataloader_len=100)
    assert to_spec_mapping(both, "t.yaml")["dataloader_len"] == 100


def test_numbers_from_the_environment_are_whole_numbers(monkeypatch):
    monkeypatch.setenv("SCHED_TEST_BATCH", "128")
    data = with_keys(global_train_batch_size="${oc.env:SCHED_TEST_BATCH}")
    assert to_spec_mapping(data, "t.yaml")["batch_size"] == 128


# -- interpolation ---------------------------------------------------------------------------------
# Expected values checked against OmegaConf 2.3.0 (OmegaConf.select / to_container(resolve=True)).
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("variables: {n: 2048}\nmax_seq_len: ${variables.n}", 2048),
        ("n: 2048\nmax_seq_len: ${n}", 2048),
        ("variables: {a: '${variables.b}', b: 1024}\nmax_seq_len: ${variables.a}", 1024),
        ("variables: {k: long, s: {long: 64}}\nmax_seq_len: ${variables.s.${variables.k}}", 64),
        ("l: [8, 16]\nmax_seq_len: ${l[1]}", 16),
        ("l: [8, 16]\nmax_seq_len: ${l.0}", 8),
        ("v: {x: 4}\nalias: ${v}\nmax_seq_len: ${alias.x}", 4),
        ("max_seq_len: ${ variables.n }\nvariables: {n: 7}", 7),
        ("max_seq_len: ${oc.select:variables.n,96}", 96),
        ("variables: {n: 5}\nmax_seq_len: ${oc.select:variables.n,96}", 5),
    ],
)
def test_interpolations_resolve_as_omegaconf_does(text, expected):
    data = yaml.safe_load(MINIMAL)
    data.pop("max_seq_len")
    data.update(yaml.safe_load(text))
    assert to_spec_mapping(data, "t.yaml")["seq_len"] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v: {n: 100}\nmax_duration: ${v.n}ba", "100ba"),
        ("v: {n: 1, m: 0}\nmax_duration: ${v.n}${v.m}${v.m}ba", "100ba"),
        ("v: {u: tok}\nmax_duration: 5e6${v.u}", "5e6tok"),
        ("v: {u: tok}\nmax_duration: 5e6\\${v.u}", "5e6${v.u}"),  # escaped: not an interpolation
        ("max_duration: ${oc.env:SCHED_SURELY_UNSET_VARIABLE,300ba}", "300ba"),
        ("max_duration: ${oc.env:SCHED_TEST_DURATION}", "700ba"),
    ],
)
def test_interpolations_inside_text(text, expected, monkeypatch):
    monkeypatch.setenv("SCHED_TEST_DURATION", "700ba")
    data = yaml.safe_load(MINIMAL)
    data.update(yaml.safe_load(text))
    assert to_spec_mapping(data, "t.yaml")["max_duration"] == expected


def test_relative_interpolations():
    data = yaml.safe_load(MINIMAL)
    data["scheduler"] = {"name": "cosine_with_warmup", "t_warmup": "${.t_max}", "t_max": "1dur"}
    data["optimizer"] = {"lr": "${..base_lr}"}  # climbs out of optimizer: the top-level key
    data["base_lr"] = 0.25
    mapping = to_spec_mapping(data, "t.yaml")
    assert mapping["schedulers"][0]["t_warmup"] == "1dur" and mapping["lr"] == 0.25


def test_an_interpolated_section():
    data = yaml.safe_load(MINIMAL)
    data["variables"] = {
        "opt": {"lr": 0.5},
        "sched": {"name": "constant_with_warmup", "t_warmup": "${variables.w}"},
        "w": "5ba",
    }
    data["optimizer"] = "${variables.opt}"
    data["scheduler"] = "${variables.sched}"
    mapping = to_spec_mapping(data, "t.yaml")
    assert mapping["lr"] == 0.5
    assert mapping["schedulers"] == [{"name": "constant_with_warmup", "t_warmup": "5ba"}]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"max_seq_len": "${variables.max_seq_len}"},
            "t.yaml: max_seq_len: ${variables.max_seq_len} refers to variables.max_seq_len, "
            "which the file does not define",
        ),
        (
            {"max_duration": "${variables.steps}ba", "variables": {}},
            "t.yaml: max_duration: ${variables.steps} refers to variables.steps, which the file does not define",
        ),
        (
            {"scheduler": {"name": "cosine_with_warmup", "t_warmup": "${variables.warmup}"}, "variables": {"x": 1}},
            "t.yaml: scheduler: ${variables.warmup} refers to variables.warmup",
        ),
        (
            {"max_seq_len": "${variables.a}", "variables": {"a": "${variables.b}", "b": "${variables.a}"}},
            "t.yaml: max_seq_len: circular interpolation: max_seq_len -> variables.a -> variables.b -> variables.a",
        ),
        ({"max_seq_len": "???"}, "t.yaml: max_seq_len: is ??? (a mandatory value left unset)"),
        (
            {"max_seq_len": "${variables.n}", "variables": {"n": "???"}},
            "t.yaml: variables.n (read for max_seq_len): is ??? (a mandatory value left unset)",
        ),
        (
            {"max_duration": "${oc.env:SCHED_SURELY_UNSET_VARIABLE}"},
            "max_duration: ${oc.env:SCHED_SURELY_UNSET_VARIABLE}: "
            "the environment variable SCHED_SURELY_UNSET_VARIABLE is not set",
        ),
        (
            {"max_duration": "${oc.decode:'10ba'}"},
            "max_duration: ${oc.decode:'10ba'} uses the resolver 'oc.decode', which sched cannot evaluate",
        ),
        ({"max_duration": "${variables.n"}, "max_duration: '${variables.n': an interpolation ${...} is never closed"),
        ({"optimizer": {"lr": "${...lr}"}}, "optimizer.lr: ${...lr} climbs above the top of the file"),
    ],
)
def test_unresolvable_interpolations_in_keys_sched_reads(changes, message):
    with pytest.raises(FoundryConfigError) as info:
        to_spec_mapping(with_keys(**changes), "t.yaml")
    assert message in str(info.value)


def test_an_mcli_run_file_agrees_with_omegaconf():
    """MCLI writes parameters: to /mnt/config/parameters.yaml, which Foundry loads with OmegaConf."""
    omegaconf = pytest.importorskip("omegaconf")
    run = load("mcli-llama2-finetune.yaml")
    resolved = omegaconf.OmegaConf.to_container(omegaconf.OmegaConf.create(run["parameters"]), resolve=True)
    mapping = to_spec_mapping(run, "run.yaml", {"dataloader_len": 1})
    assert mapping["max_duration"] == resolved["max_duration"]
    assert mapping["seq_len"] == resolved["max_seq_len"] == resolved["train_loader"]["dataset"]["max_seq_len"]
    assert mapping["batch_size"] == resolved["global_train_batch_size"]
    assert mapping["lr"] == resolved["optimizer"]["lr"]
    assert mapping["schedulers"] == [resolved["scheduler"]]
    assert mapping["devices"] == run["compute"]["gpus"]
