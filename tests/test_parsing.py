"""Bounded reading and parsing: size, nesting, alias expansion, duplicate keys, long numbers, BOMs."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sched_cli import parsing
from sched_cli.parsing import MAX_BYTES, MAX_DEPTH, MAX_VALUES, ParseError, parse, read_text, yaml_value

FORMATS = ("yaml", "json", "toml")


def deep(kind: str, depth: int) -> str:
    """A document nested ``depth`` lists deep, in ``kind``."""
    body = "[" * depth + "1" + "]" * depth
    return f"a = {body}\n" if kind == "toml" else f'{{"a": {body}}}' if kind == "json" else f"a: {body}\n"


@pytest.mark.parametrize("kind", FORMATS)
@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1_000, 100_000])
def test_deep_nesting_is_an_error_not_a_recursion_error(kind, depth):
    with pytest.raises(ParseError, match=f"f.{kind}: nested more than {MAX_DEPTH} levels deep"):
        parse(deep(kind, depth), kind, f"f.{kind}")


@pytest.mark.parametrize("kind", FORMATS)
def test_nesting_up_to_the_limit_parses(kind):
    data = parse(deep(kind, MAX_DEPTH - 2), kind, "f")
    for _ in range(MAX_DEPTH - 2):
        data = data["a"] if isinstance(data, dict) else data[0]
    assert data == 1 or data == [1]


def test_toml_dotted_keys_nest_too():
    with pytest.raises(ParseError, match="nested more than"):
        parse(".".join(["k"] * 1000) + " = 1\n", "toml", "f")


def test_an_alias_bomb_is_refused_quickly():
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 9)]
    start = time.perf_counter()
    with pytest.raises(ParseError, match=f"expands to more than {MAX_VALUES:,} values"):
        parse("\n".join(lines) + "\n", "yaml", "bomb.yaml")
    assert time.perf_counter() - start < 5


def test_aliases_deeper_than_the_limit_are_refused():
    lines = ["a0: &a0 [1]"] + [f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, MAX_DEPTH + 2)]
    with pytest.raises(ParseError, match="nests more than"):
        parse("\n".join(lines) + "\n", "yaml", "f")


def test_modest_aliases_and_merge_keys_still_work():
    text = "base: &b {t_warmup: 10ba, alpha_f: 0.1}\nfirst: *b\nsecond:\n  <<: *b\n  alpha_f: 0.2\n"
    data = parse(text, "yaml", "f")
    assert data["first"] == {"t_warmup": "10ba", "alpha_f": 0.1}
    assert data["second"] == {"t_warmup": "10ba", "alpha_f": 0.2}


@pytest.mark.parametrize(
    "kind, text",
    [
        ("yaml", "max_duration: 10ba\nlr: 1\nmax_duration: 20ba\n"),
        ("yaml", "s:\n  - {name: linear, alpha_f: 0, alpha_f: 1}\n"),
        ("json", '{"max_duration": "10ba", "max_duration": "20ba"}'),
        ("json", '{"s": [{"alpha_f": 0, "alpha_f": 1}]}'),
        ("toml", 'max_duration = "10ba"\nmax_duration = "20ba"\n'),
    ],
)
def test_a_key_given_twice_is_an_error_naming_it(kind, text):
    key = "max_duration" if "max_duration" in text else "alpha_f"
    with pytest.raises(ParseError, match=key):
        parse(text, kind, "f")


@pytest.mark.parametrize("kind", FORMATS)
def test_an_integer_too_long_for_python_is_an_error(kind):
    digits = "9" * 5000
    text = {"yaml": f"a: {digits}\n", "json": f'{{"a": {digits}}}', "toml": f"a = {digits}\n"}[kind]
    with pytest.raises(ParseError, match="5,000 digits is too long"):
        parse(text, kind, "f")


@pytest.mark.parametrize("kind", FORMATS)
def test_a_byte_order_mark_is_skipped(kind, tmp_path):
    text = {"yaml": "a: 1\n", "json": '{"a": 1}', "toml": "a = 1\n"}[kind]
    path = tmp_path / f"f.{kind}"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert parse(read_text(path), kind, str(path)) == {"a": 1}


def test_reading_is_bounded_whatever_the_file(tmp_path):
    link = tmp_path / "zero.yaml"
    link.symlink_to("/dev/zero")
    start = time.perf_counter()
    with pytest.raises(ParseError, match="larger than 4 MiB"):
        read_text(link)
    assert time.perf_counter() - start < 5
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (MAX_BYTES + 1))
    with pytest.raises(ParseError, match="larger than"):
        read_text(big)
    with pytest.raises(ParseError, match="is a directory"):
        read_text(tmp_path)
    with pytest.raises(ParseError, match="not valid UTF-8"):
        (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe")
        read_text(tmp_path / "bin.yaml")


def test_too_many_values_are_refused():
    with pytest.raises(ParseError, match="more than"):
        parse(json.dumps({"a": list(range(MAX_VALUES + 1))}), "json", "f")


# -- fuzzing: nesting, numbers, names ------------------------------------------------------------
def values(depth: int) -> st.SearchStrategy:
    scalars = st.one_of(
        st.integers(min_value=-(10**40), max_value=10**40),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8),
        st.booleans(),
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
        max_leaves=depth,
    )


@settings(max_examples=150, deadline=None)
@given(data=values(40), kind=st.sampled_from(("yaml", "json")))
def test_any_document_parses_back_or_fails_with_a_parse_error(data, kind):
    import yaml

    text = yaml.safe_dump({"k": data}) if kind == "yaml" else json.dumps({"k": data})
    try:
        parsed = parse(text, kind, "f")
    except ParseError as exc:
        assert str(exc).startswith("f: ")
        return
    assert parsed == {"k": data}


@settings(max_examples=200, deadline=None)
@given(
    opening=st.text(alphabet="[{(", min_size=0, max_size=400),
    middle=st.text(alphabet="0123456789eE+-.,:_ a&*!", max_size=30),
    kind=st.sampled_from(FORMATS),
)
def test_brackets_and_numbers_never_crash_the_parser(opening, middle, kind):
    closing = opening[::-1].translate(str.maketrans("[{(", "]})"))
    for text in (f"a: {opening}{middle}{closing}", f"a = {opening}{middle}{closing}", opening + middle + closing):
        try:
            parse(text, kind, "f")
        except ParseError:
            pass


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=60))
def test_an_inline_value_parses_or_fails_with_a_parse_error(text):
    try:
        yaml_value(text, "v")
    except ParseError:
        pass


# -- duplicate keys in other tools' files: kept as their parsers keep them, and recorded ---------
def test_yaml_duplicates_are_recorded_with_line_and_values_and_the_last_value_kept():
    duplicates: list = []
    data = parsing.parse("a: 1\nreport_to: wandb\nb: 2\nreport_to: none\n", "yaml", "f.yaml", duplicates)
    assert data == {"a": 1, "report_to": "none", "b": 2}
    assert len(duplicates) == 1
    dup = duplicates[0]
    assert (dup.key, dup.line, dup.values) == ("report_to", 4, ("'wandb'", "'none'"))
    assert dup.note("f.yaml") == (
        "f.yaml: key 'report_to' is given twice (line 4), as 'wandb' then 'none'; read as the tool reads it, "
        "with the last value 'none'"
    )


def test_json_duplicates_are_recorded_and_the_last_value_kept():
    duplicates: list = []
    data = parsing.parse('{"lr": 1, "x": {"k": 1}, "lr": 2}', "json", "f.json", duplicates)
    assert data == {"lr": 2, "x": {"k": 1}}
    assert [(d.key, d.values) for d in duplicates] == [("lr", ("1", "2"))]


def test_without_a_list_duplicates_are_still_refused():
    with pytest.raises(parsing.ParseError, match="key 'a' is given twice at line 2"):
        parsing.parse("a: 1\na: 2\n", "yaml", "f.yaml")
    with pytest.raises(parsing.ParseError, match="key 'a' is given twice in one object"):
        parsing.parse('{"a": 1, "a": 2}', "json", "f.json")


def _sched(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sched_cli", *args], capture_output=True, text=True, timeout=120)


def test_an_hf_file_with_a_duplicate_key_is_read_with_its_last_value_and_one_warning(tmp_path):
    path = tmp_path / "args.yaml"
    path.write_text("learning_rate: 1.0e-4\nmax_steps: 100\nlearning_rate: 2.0e-4\nreport_to: none\n")
    proc = _sched("validate", str(path))
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if "given twice" in line]
    assert len(warnings) == 1 and "'learning_rate'" in warnings[0] and "line 3" in warnings[0]
    assert "1.0e-4" in warnings[0] and "2.0e-4" in warnings[0]
    assert _sched("validate", str(path), "--strict").returncode == 1
    export = _sched("export", str(path), "--format", "csv", "--every", "100")
    assert export.returncode == 0
    assert "0.0002" in export.stdout  # the last value is the LR, as HfArgumentParser (PyYAML) keeps it


def test_a_sched_spec_with_a_duplicate_key_is_still_refused(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text("max_duration: 10ba\nschedulers: [{name: constant}]\nmax_duration: 20ba\n")
    proc = _sched("validate", str(path))
    assert proc.returncode == 2 and "'max_duration' is given twice at line 3" in proc.stderr
