"""Real config files from public repositories: sched is exact on each, or refuses it clearly.

tests/data/real/manifest.yaml lists, per file, the command a user would type and what a correct
sched does with it (``exact``, ``refused`` naming the tool or key, ``warns`` naming the caveat),
with the reason. The files are other projects' (sources.yaml pins repository, commit, SHA-256 and
licence); ``python tools/corpus_fetch.py`` brings them (``--mirror DIR`` from local git mirrors;
MMDetection's and MMSegmentation's from their pinned PyPI wheels).
Without them these tests skip and say so.

Every entry runs ``sched validate`` as a real subprocess (tools/corpus_survey.py) from the file's
repository directory: never a traceback, an internal error or a hang; exit 0 and no warning for
``exact``; exit 2 and one ``sched: error:`` line naming what the manifest names for ``refused``;
exit 0 with a warning naming it for ``warns``. Where a reference environment is set (``SCHED_HF_PYTHON``,
``SCHED_MMENGINE_PYTHON``, ``SCHED_AXOLOTL_PYTHON``, ``SCHED_LLAMAFACTORY_PYTHON``, ``SCHED_DEEPSPEED_PYTHON``,
``SCHED_MEGATRON_PYTHON``, ``SCHED_COMPOSER_PYTHON``), every exported LR of an ``exact`` or ``warns`` entry
naming that oracle is compared with the real library's (tools/corpus_survey.py's oracle file modes).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

import pytest

TOOLS = Path(__file__).resolve().parents[1] / "tools"


def _survey() -> Any:
    spec = importlib.util.spec_from_file_location("corpus_survey", TOOLS / "corpus_survey.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("corpus_survey", module)
    spec.loader.exec_module(module)
    return module


survey = _survey()
ENTRIES = survey.entries()


def _id(entry: dict[str, Any]) -> str:
    return entry["path"]


def _need_file(entry: dict[str, Any]) -> Path:
    path = survey.REAL / entry["path"]
    if not path.is_file():
        pytest.skip(f"{entry['path']} not fetched: run python tools/corpus_fetch.py")
    return path


def test_manifest_is_well_formed() -> None:
    """Every entry has a tool, a reason and an expectation of a known kind; paths are unique and pinned."""
    import yaml

    sources = yaml.safe_load((survey.REAL / "sources.yaml").read_text())
    pinned = {f"{repo.replace('/', '__')}/{path}" for repo, e in sources.items() for path in e["files"]}
    paths = [e["path"] for e in ENTRIES]
    assert len(paths) == len(set(paths))
    assert len(paths) >= 300
    for entry in ENTRIES:
        assert entry["path"] in pinned, entry["path"]
        assert entry["tool"] and entry["why"], entry["path"]
        kind, subs = survey.expected_kind(entry["expect"])
        assert kind in ("exact", "refused", "warns"), entry["path"]
        assert (kind == "exact") == (not subs), entry["path"]


@pytest.fixture(scope="module")
def outcomes() -> dict[str, Any]:
    """``sched validate`` on every fetched entry, 8 subprocesses at a time (one run per file)."""
    present = [e for e in ENTRIES if (survey.REAL / e["path"]).is_file()]
    return {r.path: r for r in survey.survey(present, timeout=120, jobs=8, oracles=False)}


@pytest.mark.parametrize("entry", ENTRIES, ids=_id)
def test_outcome_matches_manifest(entry: dict[str, Any], outcomes: dict[str, Any]) -> None:
    _need_file(entry)
    result = outcomes[entry["path"]]
    assert result.klass not in ("hang", "traceback", "internal"), f"{result.klass}: {result.error}"
    detail = result.error or "; ".join(result.warnings) or "exit 0, no warning"
    assert result.verdict == "right", f"{result.verdict}; because: {entry['why']}; sched said: {detail}"


def _oracle_entries(name: str) -> list[dict[str, Any]]:
    return [e for e in ENTRIES if e.get("oracle") == name and survey.expected_kind(e["expect"])[0] != "refused"]


@pytest.mark.parametrize("name", sorted(survey.ORACLES))
def test_lrs_equal_the_real_library(name: str) -> None:
    """Every ``exact`` or ``warns`` entry with this oracle: sched's exported LRs are the real library's, update by
    update (runs longer than the survey replays are named, not compared)."""
    env = survey.ORACLES[name].env
    if not os.environ.get(env):
        pytest.skip(f"{env} is not set")
    todo = [e for e in _oracle_entries(name) if (survey.REAL / e["path"]).is_file()]
    if not todo:
        pytest.skip("corpus not fetched: run python tools/corpus_fetch.py")
    results = survey.survey(todo, timeout=600, jobs=4)
    failures = [
        f"{r.path}: {r.lr or f'{r.klass}: {r.error}'}"
        for r in results
        if r.rc != 0 or r.lr.startswith("differs") or r.lr.startswith(("unchecked: the oracle", "unchecked: export"))
    ]
    assert not failures, f"{len(failures)} of {len(todo)}:\n" + "\n".join(failures)
    assert any(r.lr == "same" for r in results), "no entry was compared"
