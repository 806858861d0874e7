"""No input hangs sched or exhausts the machine, and no bad input crashes it: each case runs the
real command and expects one clear line, exit 2, in bounded time (the limits' messages name the
limit and, where lifting it is reasonable, the option that does)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import one_error_line, run_sched

from sched_cli.specs import MAX_PHASE_DEPTH, SpecError, from_mapping

FOUNDRY = "max_duration: 100ba\nglobal_train_batch_size: 8\nmax_seq_len: 16\n"


def nested_sequential(depth: int) -> dict:
    inner: dict = {"name": "linear"}
    for _ in range(depth):
        inner = {"name": "sequential", "phases": [{"duration": "5ba", "scheduler": inner}]}
    return inner


def alias_bomb(under: str) -> str:
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 9)]
    return "\n".join(lines) + f"\n{under}\n"


def doubling_variables(levels: int) -> str:
    lines = ["variables:", "  v0: ab"]
    lines += [f'  v{i}: "${{variables.v{i - 1}}}${{variables.v{i - 1}}}"' for i in range(1, levels + 1)]
    return (
        "\n".join(lines)
        + f'\n{FOUNDRY}run_name: "${{variables.v{levels}}}"\n'
        + ("scheduler: {name: cosine_with_warmup, t_warmup: '${run_name}'}\n")
    )


CUSTOM = """import sys

def huge(state, ssr=1.0):
    return 10**400

def negative(state, ssr=1.0):
    return -0.5

def leaves(state, ssr=1.0):
    sys.exit(3)

def big(state, ssr=1.0):
    return 1e300
"""

# (file name, file text or None, command line, words the one line must hold)
CASES = {
    "--every 1 on 1e15 tokens": (
        None,
        None,
        ["export", "linear", "--max-duration", "1e15tok", "--every", "1"],
        ["--max-rows"],
    ),
    "--points 1e8": (
        None,
        None,
        ["export", "linear", "--max-duration", "1e12ba", "--points", "100000000"],
        ["--points 100000000", "--max-rows"],
    ),
    "rows over a lowered --max-rows": (
        None,
        None,
        ["export", "linear", "--max-duration", "100ba", "--max-rows", "50"],
        ["--max-rows 50"],
    ),
    "plot --points 1e8": (
        None,
        None,
        ["plot", "linear", "--max-duration", "1e12ba", "--points", "100000000"],
        ["--points", "at most 100,000"],
    ),
    "plot --width 1e8": (
        None,
        None,
        ["plot", "linear", "--max-duration", "10ba", "--width", "100000000"],
        ["--width", "at most"],
    ),
    "plot --height 1e8": (
        None,
        None,
        ["plot", "linear", "--max-duration", "10ba", "--height", "100000000"],
        ["--height", "at most"],
    ),
    "alias bomb under scheduler": (
        "bomb.yaml",
        FOUNDRY + alias_bomb("scheduler: {name: linear, x: *l8}"),
        ["validate"],
        ["expands to more than"],
    ),
    "doubling interpolations": ("vars.yaml", doubling_variables(40), ["validate"], ["interpolations"]),
    "empty interpolation": (
        "empty.yaml",
        FOUNDRY + "scheduler: {name: cosine_with_warmup, t_warmup: '${}'}\n",
        ["validate"],
        ["${}", "empty interpolation"],
    ),
    "YAML 100,000 deep": (
        "deep.yaml",
        "a: " + "[" * 100_000 + "]" * 100_000 + "\n",
        ["validate"],
        ["nested more than"],
    ),
    "JSON 100,000 deep": (
        "deep.json",
        '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}",
        ["validate"],
        ["nested more than"],
    ),
    "TOML 100,000 deep": (
        "deep.toml",
        "a = " + "[" * 100_000 + "]" * 100_000 + "\n",
        ["validate"],
        ["nested more than"],
    ),
    "300 nested sequential phases": ("seq.json", None, ["validate"], ["nested more than"]),
    "5000-digit integer": (
        "long.yaml",
        "max_duration: 100ba\nbatch_size: " + "9" * 5000 + "\nschedulers: [linear]\n",
        ["validate"],
        ["5,000 digits"],
    ),
    "duplicate key": (
        "dup.yaml",
        "max_duration: 100ba\nmax_duration: 200ba\nschedulers: [{name: linear}]\n",
        ["validate"],
        ["'max_duration' is given twice"],
    ),
    "duplicate inline argument": (
        None,
        None,
        ["validate", "cosine_with_warmup(t_warmup=1ba, t_warmup=2ba)", "--max-duration", "10ba"],
        ["'t_warmup' is given twice"],
    ),
    "custom returns 10**400": (
        "custom.py",
        CUSTOM,
        ["export", "custom.py:huge", "--max-duration", "10ba"],
        ["too large for a float"],
    ),
    "custom calls sys.exit": (
        "custom.py",
        CUSTOM,
        ["export", "custom.py:leaves", "--max-duration", "10ba"],
        ["sys.exit(3)"],
    ),
    "custom calls sys.exit on import": (
        "quits.py",
        "import sys\nsys.exit(4)\n",
        ["validate", "quits.py:f", "--max-duration", "10ba"],
        ["sys.exit(4)"],
    ),
    "LR overflows to inf": (
        "custom.py",
        CUSTOM,
        ["export", "custom.py:big", "--max-duration", "10ba", "--lr", "1e10"],
        ["overflows to inf"],
    ),
    "empty spec argument": (None, None, ["export", ""], ["the spec is empty"]),
    "1e30 batches": (None, None, ["validate", "linear", "--max-duration", "1e30ba"], ["~1e+30 batches"]),
}


@pytest.mark.parametrize("name, text, args, words", CASES.values(), ids=CASES.keys())
def test_bad_or_huge_input_is_one_line_exit_2_in_bounded_time(tmp_path, name, text, args, words):
    if name == "seq.json":
        import json

        text = json.dumps({"max_duration": "10ba", "schedulers": [nested_sequential(300)]})
    if name is not None:
        (tmp_path / name).write_text(text)
    if name is not None and not name.endswith(".py"):
        args = [*args, name]
    start = time.monotonic()
    code, out, err = run_sched(*args, cwd=tmp_path, timeout=60)
    elapsed = time.monotonic() - start
    assert code == 2, err
    line = one_error_line(err)
    for word in words:
        assert word in line
    assert out == ""
    assert elapsed < 30  # typically a second or two; generous for a loaded machine


def test_a_spec_that_is_a_link_to_dev_zero_fails_fast(tmp_path):
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    code, _, err = run_sched("validate", "zero.yaml", cwd=tmp_path, timeout=30)
    assert code == 2 and "larger than" in one_error_line(err)


def test_max_rows_lifts_the_row_limit(tmp_path):
    code, out, err = run_sched("export", "linear", "--max-duration", "100ba", "--max-rows", "101", cwd=tmp_path)
    assert (code, err) == (0, "")
    assert len(out.splitlines()) == 101  # a header and 100 rows


def test_an_inline_expression_longer_than_a_file_name_is_read_as_one(tmp_path):
    expression = "cosine_with_warmup(t_warmup=10ba," + " " * 300 + "alpha_f=0.5)"
    code, out, err = run_sched("export", expression, "--max-duration", "100ba", "--points", "3", cwd=tmp_path)
    assert (code, err) == (0, "")
    assert float(out.splitlines()[-1].split(",")[-1]) == pytest.approx(0.5, abs=1e-3)  # alpha_f was read


def test_a_negative_multiplier_from_a_custom_scheduler_is_a_warning(tmp_path):
    (tmp_path / "custom.py").write_text(CUSTOM)
    code, out, err = run_sched("export", "custom.py:negative", "--max-duration", "5ba", cwd=tmp_path)
    assert code == 0
    assert err.count("\n") == 1 and "negative multiplier (-0.5)" in err and "Traceback" not in err
    assert out.splitlines()[1].endswith(",-0.5")


def test_a_toml_spec_with_a_byte_order_mark_works(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_bytes(b'\xef\xbb\xbfmax_duration = "100ba"\n[[schedulers]]\nname = "linear"\n')
    code, out, err = run_sched("validate", str(spec))
    assert (code, err) == (0, "") and ": ok:" in out


def test_sequential_phases_nest_only_so_deep_even_from_python():
    """Built from Python (no file, so no parser bound), the nesting limit still holds."""
    data = {"max_duration": "10ba", "schedulers": [nested_sequential(300)]}
    with pytest.raises(SpecError, match=f"phases nest more than {MAX_PHASE_DEPTH} deep"):
        from_mapping(data, "s", Path("."))
    data = {"max_duration": "10ba", "schedulers": [nested_sequential(MAX_PHASE_DEPTH)]}
    assert from_mapping(data, "s", Path(".")).run.schedulers
