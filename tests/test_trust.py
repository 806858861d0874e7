"""The trust rule: a spec runs only code the user chose, checked before anything is imported.

Each hostile spec names code that would leave a mark (a file created, a program run) if it ran;
the tests assert the clear refusal *and* that no mark appeared, through the real command.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import yaml
from conftest import one_error_line, run_sched
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sched_cli.specs import Overrides, SpecError, from_mapping, load
from sched_cli.trust import ENV_VAR, Trust, UntrustedCode

MARK = """open({mark!r}, 'w').close()

def f(state, ssr=1.0):
    return 1.0

class C:
    def __init__(self, **kw):
        pass

    def __call__(self, state, ssr=1.0):
        return 1.0
"""


def spec_naming(name: str, extra: str = "") -> str:
    return f"max_duration: 10ba\nschedulers:\n  - name: '{name}'\n{extra}"


def nested(name: str, depth: int) -> str:
    """A spec whose custom scheduler sits ``depth`` sequential phases deep."""
    inner = f"{{name: '{name}'}}"
    for _ in range(depth):
        inner = f"{{name: sequential, phases: [{{duration: 5ba, scheduler: {inner}}}]}}"
    return f"max_duration: 10ba\nschedulers: [{inner}]\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """specs/ holds the spec; specs/lib/ok.py is inside its tree; evil.py is outside it."""
    specs = tmp_path / "specs"
    (specs / "lib").mkdir(parents=True)
    (specs / "lib" / "ok.py").write_text(MARK.format(mark=str(tmp_path / "OK_RAN")))
    (tmp_path / "evil.py").write_text(MARK.format(mark=str(tmp_path / "EVIL_RAN")))
    (specs / "escape.py").symlink_to(tmp_path / "evil.py")
    return specs


HOSTILE = {
    "subprocess": spec_naming("subprocess:Popen", "    args: [touch, {mark}]\n"),
    "os.system": spec_naming("os:system"),
    "builtins.eval": spec_naming("builtins:eval"),
    "file outside": spec_naming("../evil.py:f"),
    "absolute file outside": spec_naming("{root}/evil.py:f"),
    "symlink escaping": spec_naming("escape.py:f"),
    "not a .py file": spec_naming("lib/ok.txt:f"),
    "nested phase": nested("subprocess:Popen", 1),
    "deeply nested phase": nested("../evil.py:C", 3),
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_specs_are_refused_and_nothing_runs(tree, text):
    root = tree.parent
    spec = tree / "spec.yaml"
    spec.write_text(text.replace("{mark}", str(root / "POPEN_RAN")).replace("{root}", str(root)))
    # Every command that reads a spec goes through the same check; two processes per case is enough.
    for command in ("validate", "plot" if "sequential" in text else "export"):
        code, out, err = run_sched(command, str(spec), cwd=root)
        assert code == 2 and out == ""
        line = one_error_line(err)
        assert "would" in line or "must be a .py file" in line
    assert sorted(p.name for p in root.iterdir()) == ["evil.py", "specs"]


def test_the_message_names_what_would_run_and_how_to_allow_it(tree):
    spec = tree / "spec.yaml"
    spec.write_text(spec_naming("subprocess:Popen", "    args: [touch, x]\n"))
    _, _, err = run_sched("validate", str(spec))
    line = one_error_line(err)
    assert "schedulers[0].name" in line
    assert "import module 'subprocess' and call Popen(args=['touch', 'x'])" in line
    assert "--allow-import subprocess" in line and f"{ENV_VAR}=subprocess" in line


def test_a_file_inside_the_tree_runs(tree):
    spec = tree / "spec.yaml"
    spec.write_text(nested("lib/ok.py:f", 2))
    code, out, err = run_sched("validate", str(spec))
    assert code == 0, err
    assert (tree.parent / "OK_RAN").exists()


def test_a_module_runs_once_allowed_on_the_command_line_or_in_the_environment(tree):
    package = tree.parent / "mypkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "schedules.py").write_text(MARK.format(mark=str(tree.parent / "PKG_RAN")))
    spec = tree / "spec.yaml"
    spec.write_text(spec_naming("mypkg.schedules:C"))
    env = {**os.environ, "PYTHONPATH": str(tree.parent)}
    code, _, err = run_sched("validate", str(spec), env=env)
    assert code == 2 and "--allow-import mypkg" in err
    assert not (tree.parent / "PKG_RAN").exists()
    # A package that merely starts with the same letters is not allowed by it.
    code, _, _ = run_sched("validate", str(spec), "--allow-import", "mypk", env=env)
    assert code == 2
    code, _, err = run_sched("validate", str(spec), "--allow-import", "other", "--allow-import", "mypkg", env=env)
    assert code == 0, err
    assert (tree.parent / "PKG_RAN").exists()
    (tree.parent / "PKG_RAN").unlink()
    code, _, err = run_sched("validate", str(spec), env={**env, ENV_VAR: "other, mypkg"})
    assert code == 0, err
    assert (tree.parent / "PKG_RAN").exists()


def test_inline_files_are_the_users_choice_but_modules_still_need_allowing(tree, monkeypatch):
    root = tree.parent
    code, _, err = run_sched("validate", "../evil.py:f", "--max-duration", "10ba", cwd=tree)
    assert code == 0, err  # typed on the command line: the user chose that file
    assert (root / "EVIL_RAN").exists()
    code, _, err = run_sched("validate", "os:system", "--max-duration", "10ba", cwd=tree)
    assert code == 2 and "--allow-import os" in one_error_line(err)
    code, _, err = run_sched("validate", "../evil.txt:f", "--max-duration", "10ba", cwd=tree)
    assert code == 2 and ".py file" in one_error_line(err)


def test_pytorch_names_are_a_fixed_list_never_any_attribute():
    pytest.importorskip("torch")
    with pytest.raises(SpecError, match="is not a scheduler in torch.optim.lr_scheduler"):
        load("torch.optim.lr_scheduler.LRScheduler", Overrides(max_duration="10ba"))
    with pytest.raises(SpecError, match="is not a scheduler in torch.optim.lr_scheduler"):
        from_mapping(
            {"max_duration": "10ba", "schedulers": [{"name": "torch.optim.lr_scheduler.Optimizer"}]}, "s", Path(".")
        )


def test_trust_checks_without_touching_anything(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    trust = Trust.for_spec(tmp_path, ["pkg"])
    trust.check_module("pkg", "call f()")
    trust.check_module("pkg.sub.deeper", "call f()")
    for refused in ("pkgx", "pk", "os", "builtins"):
        with pytest.raises(UntrustedCode, match=f"--allow-import {refused.split('.')[0]}"):
            trust.check_module(refused, "call f()")
    assert trust.check_file("a/b.py", tmp_path, "call f()") == (tmp_path / "a" / "b.py").resolve()
    for outside in ("../b.py", "/etc/b.py", "a/../../b.py"):
        with pytest.raises(UntrustedCode, match="outside the spec's directory"):
            trust.check_file(outside, tmp_path, "call f()")
    monkeypatch.setenv(ENV_VAR, "os,,")
    Trust.for_spec(tmp_path).check_module("os.path", "call f()")
    assert Trust.for_inline().check_file("../b.py", tmp_path, "call f()") == (tmp_path.parent / "b.py").resolve()


# -- fuzzing: names and nesting never import anything ---------------------------------------------
identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
module_names = st.lists(identifiers, min_size=1, max_size=3).map(".".join)
paths = st.lists(st.sampled_from(["..", ".", "sub", "/tmp", "x"]), min_size=1, max_size=3).map("/".join)
names = st.one_of(
    st.builds(lambda m, a: f"{m}:{a}", module_names, identifiers),
    st.builds(lambda p, a, ext: f"{p}{ext}:{a}", paths, identifiers, st.sampled_from([".py", ".txt", ""])),
    st.sampled_from(["os:system", "subprocess:Popen", "builtins:eval", "importlib:import_module"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=names, depth=st.integers(0, 20), inline=st.booleans())
def test_any_name_at_any_depth_loads_or_fails_without_importing(tmp_path, name, depth, inline):
    before = set(sys.modules)
    if inline:
        attempt = lambda: load(f"{name}(alpha=1)", Overrides(max_duration="10ba"))  # noqa: E731
    else:
        data = {"max_duration": "10ba", "schedulers": [yaml.safe_load(nested(name, depth).split("schedulers: ")[1])[0]]}
        attempt = lambda: from_mapping(data, "spec.yaml", tmp_path)  # noqa: E731
    try:
        attempt()
    except SpecError as exc:
        assert "\n" not in str(exc)
    new = {m for m in set(sys.modules) - before if not m.startswith(("sched_custom_", "sched_cli", "torch"))}
    assert not new, f"{name!r} imported {sorted(new)}"
