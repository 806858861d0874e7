"""Loading a spec for a command (sched_cli/cli/options.py), through the real CLI: the defaults
that change the numbers are named in one ``note:`` line, which -q hides."""

from __future__ import annotations

from pathlib import Path

from conftest import one_error_line

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


def test_a_directory_as_a_spec_is_one_line_naming_its_spec_files(sched, tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("max_duration: 10ba\nschedulers: [{name: constant}]\n")
    for command in ("plot", "validate", "compare"):
        code, _, err = sched(command, str(tmp_path))
        assert code == 2
        assert one_error_line(err) == (
            f"sched: error: {tmp_path} is a directory, not a spec file: give a .yaml, .yml, .json or .toml file; "
            "spec files in it: a.yaml"
        )


def test_samples_that_need_more_say_so_first_and_their_errors_name_the_option(sched) -> None:
    clm = SAMPLES / "hf_run_clm.yaml"
    assert clm.read_text().splitlines()[0].startswith("# Needs --dataset-size N")
    torch_sample = SAMPLES / "resnet50_pytorch_multistep.yaml"
    assert (
        torch_sample.read_text().splitlines()[0].startswith("# Needs the torch extra: pip install 'sched-cli[torch]'")
    )
    for spec in (clm, SAMPLES / "hf_trl_sft.json"):
        code, _, err = sched("validate", str(spec))
        assert code == 2 and "give --dataset-size N" in one_error_line(err)
        code, _, err = sched("validate", str(spec), "--dataset-size", "52002")
        assert code == 0, err
    # Without PyTorch (hidden from the process), the torch sample's error names the extra to install.
    code, _, err = sched("validate", str(torch_sample), prelude="sys.modules['torch'] = None")
    assert code == 2 and "pip install 'sched-cli[torch]'" in one_error_line(err)
