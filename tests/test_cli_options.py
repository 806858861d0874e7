"""Loading a spec for a command (sched_cli/cli/options.py), through the real CLI: the defaults
that change the numbers are named in one ``note:`` line, which -q hides."""

from __future__ import annotations

from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent / "sample_specs"
NOTE = "a Hugging Face run previewed on 1 device: its steps per epoch depend on the world size; give --devices N"


def test_hf_run_without_devices_is_named_in_one_note(sched) -> None:
    spec = str(SAMPLES / "hf_run_clm.yaml")
    for command in (["table", spec, "--at", "0ba"], ["validate", spec], ["export", spec, "--format", "csv"]):
        code, _, err = sched(*command, "--dataset-size", "52000")
        assert code == 0, err
        notes = [line for line in err.splitlines() if line.startswith("note:")]
        assert len(notes) == 1 and NOTE in notes[0], err


def test_the_note_goes_with_devices_and_with_quiet(sched) -> None:
    spec = str(SAMPLES / "hf_run_clm.yaml")
    code, _, err = sched("table", spec, "--at", "0ba", "--dataset-size", "52000", "--devices", "4")
    assert code == 0 and "note:" not in err, err
    code, _, err = sched("table", spec, "--at", "0ba", "--dataset-size", "52000", "-q")
    assert code == 0 and err == "", err


def test_timm_note_and_a_file_that_names_its_devices(sched, tmp_path: Path) -> None:
    spec = SAMPLES / "timm_imagenet_args.yaml"
    code, _, err = sched("table", str(spec), "--at", "0ba")
    assert code == 0, err
    assert "note: " in err and "a timm run previewed on 1 device" in err
    # The same file with sched's own devices key: nothing is assumed.
    named = tmp_path / "args.yaml"
    named.write_text(spec.read_text() + "devices: 8\n")
    code, _, err = sched("table", str(named), "--at", "0ba")
    assert code == 0, err
    assert "previewed on 1 device" not in err


def test_no_note_for_a_composer_spec(sched) -> None:
    code, _, err = sched("table", str(SAMPLES / "resnet50_imagenet.yaml"), "--at", "0ba")
    assert code == 0 and "note:" not in err, err
