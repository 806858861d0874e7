"""What-ifs on a file's own keys (``Overrides.patch``), applied before its reader reads it."""

from __future__ import annotations

import json

import pytest

from sched_cli.specs import Overrides, SpecError, load, plan_file
from sched_cli.specs.patch import patched


def test_a_patch_sets_removes_and_reaches_into_mappings_and_lists():
    data = {"a": 1, "b": {"c": 2}, "s": [{"t_warmup": "2ba"}], "gone": 3}
    out = patched(data, (("a", 5), ("b.c", 7), ("s.0.t_warmup", "20ba"), ("gone", None), ("new", {"x": 1})), "f")
    assert out == {"a": 5, "b": {"c": 7}, "s": [{"t_warmup": "20ba"}], "new": {"x": 1}}
    # The parsed file is left as it was.
    assert data == {"a": 1, "b": {"c": 2}, "s": [{"t_warmup": "2ba"}], "gone": 3}
    assert patched(data, (), "f") is data


def test_a_patch_into_what_the_file_does_not_have_is_refused():
    with pytest.raises(SpecError, match="f: b.c: the file has no 'b' to change"):
        patched({"a": 1}, (("b.c", 1),), "f")
    with pytest.raises(SpecError, match="cannot be changed"):
        patched(["not", "a", "mapping"], (("a", 1),), "f")


def test_the_reader_reads_the_patched_key_with_its_tools_rules(tmp_path):
    path = tmp_path / "args.json"
    path.write_text(json.dumps({"output_dir": "x", "per_device_train_batch_size": 4, "num_train_epochs": 1}))
    given = Overrides(dataset_size=40)
    # 40 samples in micro-batches of 4: 10 updates; accumulating 4 makes ceil(10 / 4) = 3.
    assert str(load(str(path), given).run.max_duration) == "10ba"
    patched_spec = load(str(path), Overrides(dataset_size=40, patch=(("gradient_accumulation_steps", 4),)))
    assert str(patched_spec.run.max_duration) == "3ba"
    assert "gradient_accumulation_steps" not in json.loads(path.read_text())


def test_an_inline_expression_has_no_keys_to_patch():
    with pytest.raises(SpecError, match="no file whose keys"):
        load("linear", Overrides(max_duration="10ba", patch=(("lr", 1),)))


def test_plan_file_names_the_reader_and_its_keys(tmp_path):
    hf = tmp_path / "args.json"
    hf.write_text(json.dumps({"output_dir": "x", "learning_rate": 1e-3}))
    assert plan_file(str(hf)) == ("hf", {"output_dir": "x", "learning_rate": 1e-3})
    spec = tmp_path / "plan.yaml"
    spec.write_text("max_duration: 10ba\nschedulers: [{name: linear}]\n")
    assert plan_file(str(spec))[0] is None and plan_file(str(spec))[1]["max_duration"] == "10ba"
    assert plan_file("linear") == (None, None)
    assert plan_file(str(hf), Overrides(source="hf"))[0] == "hf"
