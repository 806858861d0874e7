"""Every module sched imports is a declared dependency, checked by deptry (configured in
pyproject.toml's ``[tool.deptry]``), and the declared lower bounds are the ones tools/envs/lowest.sh
installs to run the suite against.

Why deptry rather than a home-made walk over ``ast`` imports: it maps import names to
distributions from their metadata (``yaml`` is PyYAML), understands optional extras and
conditional imports, and also reports declared dependencies nothing uses. It would have caught
the ``import click`` that broke when typer stopped installing click.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytest.importorskip("deptry", reason="deptry comes with the test extra: pip install -e '.[test]'")


def deptry(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deptry", ".", "--no-ansi"], cwd=directory, capture_output=True, text=True, timeout=300
    )


def test_every_import_is_declared_and_every_declaration_used():
    result = deptry(REPO)
    assert result.returncode == 0, result.stdout + result.stderr


def test_deptry_catches_an_undeclared_import(tmp_path):
    """The check can fail: a package importing click while declaring only typer."""
    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [project]
            name = "probe"
            version = "0"
            dependencies = ["typer"]
            [tool.deptry]
            known_first_party = ["probe"]
            """
        )
    )
    (tmp_path / "probe").mkdir()
    (tmp_path / "probe" / "__init__.py").write_text("import typer\n\ndef f():\n    import click\n")
    result = deptry(tmp_path)
    assert result.returncode != 0
    report = result.stdout + result.stderr  # deptry reports on stderr
    # DEP001 where click is not installed at all, DEP003 where something else brought it in.
    assert re.search(r"DEP00[13] 'click'", report), report


def test_the_lowest_environment_pins_the_declared_lower_bounds():
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["test"]
    bounds = {}
    for requirement in declared:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9.]+)(;.*)?", requirement)
        assert match, f"{requirement!r}: declare a lower bound (>=) that tools/envs/lowest.sh tests"
        if not match.group(3):  # markers (tomli on old Pythons) do not apply here
            bounds[match.group(1).lower()] = match.group(2)
    script = (REPO / "tools" / "envs" / "lowest.sh").read_text()
    pins = {name.lower(): version for name, version in re.findall(r'"([A-Za-z0-9_.-]+)==([0-9.]+)"', script)}
    pins.update(dict(re.findall(r"(torch)==([0-9.]+)", script)))
    for name, version in bounds.items():
        if name == "torch":
            continue  # the CPU build the whole project pins (2.13.0) stands in for torch's lower bound
        assert pins.get(name) == version, f"{name}: pyproject says >={version}, lowest.sh installs {pins.get(name)}"
