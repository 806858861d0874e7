"""Run sched on every real config of the corpus and say, per file, what happened and whether it was right.

The corpus (tests/data/real/manifest.yaml; the files themselves come from ``tools/corpus_fetch.py``)
lists, per file, the sched command a user would type and the outcome a correct sched gives:
``exact``, ``{refused: [substring, ...]}`` or ``{warns: [substring, ...]}``. For each entry this runs
``sched validate`` (a real subprocess, from the file's repository directory, as the tool itself is
launched, with a timeout) and classifies it:

- ``ok``: exit 0, no warning; ``ok-warn``: exit 0 with ``warning:`` lines;
- ``refused``: exit 2 and exactly one ``sched: error:`` line; ``usage``: exit 2 with a usage error
  (an option value sched does not know, several lines);
- ``internal``: any other exit code; ``traceback``: a Python traceback; ``hang``: the timeout.

For the ``exact`` and ``warns`` entries that ran, when the reference environment of the entry's
``oracle`` is set (``ORACLES``: ``SCHED_HF_PYTHON``, ``SCHED_MMENGINE_PYTHON`` (with
``SCHED_MMENGINE_DOWNSTREAM`` for MMYOLO's hooks), ``SCHED_AXOLOTL_PYTHON``, ``SCHED_LLAMAFACTORY_PYTHON``,
``SCHED_DEEPSPEED_PYTHON``, ``SCHED_MEGATRON_PYTHON``, ``SCHED_COMPOSER_PYTHON``), it runs ``sched export
-f json`` and compares every LR with the real library's, through each oracle's file mode (docs/real-files.md).

A file is **silent wrong** when sched exits 0 with no warning and either its LRs differ from the
real library's, or the manifest says a correct sched refuses it or warns (a key or tool that
changes the schedule is ignored: the entry's ``why`` names it).

    python tools/corpus_survey.py [--only TOOL ...] [--json out.json] [--timeout 60] [--jobs 8]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shlex
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus_composer  # noqa: E402 - tools/ is not a package
import corpus_megatron  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "tests" / "data" / "real"
MANIFEST = REAL / "manifest.yaml"
TOL = 1e-9
#: Runs longer than this many updates are not replayed by the oracles (nor exported): minutes each.
LONGEST = 500_000


@dataclass(frozen=True)
class Oracle:
    """A reference environment (the variable naming its Python) and the oracle script run in it."""

    env: str
    script: str
    argv: tuple[str, ...] = ()
    extra_env: tuple[tuple[str, str], ...] = ()
    answer: str = "results"
    #: What ``sched export`` needs to show what this library's trainer applies (Composer's one-batch lag).
    export: tuple[str, ...] = ()


ORACLES = {
    "hf": Oracle("SCHED_HF_PYTHON", "hf_oracle.py"),
    "mmengine": Oracle("SCHED_MMENGINE_PYTHON", "mmengine_oracle.py"),
    "axolotl": Oracle("SCHED_AXOLOTL_PYTHON", "axolotl_oracle.py"),
    # LLaMA-Factory 0.9.5 pins transformers <= 5.6; the environment has 5.24 (docs/llamafactory.md).
    "llamafactory": Oracle(
        "SCHED_LLAMAFACTORY_PYTHON", "llamafactory_oracle.py", extra_env=(("DISABLE_VERSION_CHECK", "1"),)
    ),
    "deepspeed": Oracle("SCHED_DEEPSPEED_PYTHON", "deepspeed_oracle.py"),
    "megatron": Oracle("SCHED_MEGATRON_PYTHON", "megatron_oracle.py"),
    "composer": Oracle(
        "SCHED_COMPOSER_PYTHON", "composer_oracle.py", argv=("trainer",), answer="runs", export=("--as-trainer",)
    ),
}


@dataclass
class Result:
    """What sched did with one manifest entry, and how that compares with the manifest."""

    path: str
    tool: str
    expect: Any
    klass: str = ""
    rc: int | None = None
    error: str = ""  # the one sched: error: line
    warnings: list[str] = field(default_factory=list)
    lr: str = ""  # "", "same", "differs: ...", "unchecked: ..."
    updates: int | None = None  # the run's length, as validate says it (max_duration Nba)
    verdict: str = ""  # "right" or what is wrong
    why: str = ""


def entries(manifest: Path = MANIFEST) -> list[dict[str, Any]]:
    """The manifest's entries."""
    return yaml.safe_load(manifest.read_text())["entries"]


def command(entry: dict[str, Any], verb: str, python: str = sys.executable) -> tuple[list[str], Path]:
    """The argv of ``sched VERB`` for an entry, and the directory it runs in (the file's repository)."""
    repo, _, rel = entry["path"].partition("/")
    return [python, "-m", "sched_cli", verb, rel, *shlex.split(entry.get("args", ""))], REAL / repo


def classify(rc: int | None, out: str, err: str) -> tuple[str, str, list[str]]:
    """(class, the error line, the warning lines) of one sched run."""
    text = out + err
    warnings = [line.strip() for line in text.splitlines() if line.strip().lower().startswith("warning:")]
    errors = [line for line in err.splitlines() if line.startswith("sched: error:")]
    if rc is None:
        return "hang", "", warnings
    if "Traceback (most recent call last)" in text:
        return "traceback", "", warnings
    if rc == 0:
        return ("ok-warn" if warnings else "ok"), "", warnings
    if rc == 2 and len(errors) == 1 and len([line for line in err.splitlines() if line.strip()]) == 1:
        return "refused", errors[0], warnings
    if rc == 2 and ("Usage:" in err or "Invalid value" in err):
        return "usage", " ".join(err.split())[-300:], warnings
    return "internal", " ".join(err.split())[-300:], warnings


def _option(args: str, name: str, default: Any = None, kind: Any = int) -> Any:
    words = shlex.split(args)
    for i, word in enumerate(words):
        if word == name and i + 1 < len(words):
            return kind(words[i + 1])
        if word.startswith(name + "="):
            return kind(word.split("=", 1)[1])
    return default


def run_sched(entry: dict[str, Any], verb: str, timeout: float, extra: tuple[str, ...] = ()) -> tuple[Any, str, str]:
    argv, cwd = command(entry, verb)
    try:
        done = subprocess.run([*argv, *extra], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None, "", ""
    return done.returncode, done.stdout, done.stderr


def oracle_case(entry: dict[str, Any]) -> dict[str, Any] | None:
    """The request case for the entry's oracle in its file mode, or None when it has none."""
    file = REAL / entry["path"]
    size = _option(entry.get("args", ""), "--dataset-size")
    devices = _option(entry.get("args", ""), "--devices", 1)
    if entry.get("oracle") == "hf":
        return {
            "args": yaml.safe_load(file.read_text()),
            "dataset_size": size,
            "devices": devices,
            "mode": "steps",
            "only_known": True,
        }
    if entry.get("oracle") == "mmengine":
        case = {"config": str(file), "dataset_size": size, "devices": devices}
        batch = _option(entry.get("args", ""), "--device-batch-size")
        return {**case, "batch_size": batch} if batch else case
    if entry.get("oracle") == "axolotl":
        return {"cfg": yaml.safe_load(file.read_text()), "dataset_size": size, "devices": devices}
    if entry.get("oracle") == "llamafactory":
        return {"args": yaml.safe_load(file.read_text()), "dataset_size": size, "devices": devices}
    if entry.get("oracle") == "deepspeed":
        updates = int(_option(entry.get("args", ""), "--max-duration", kind=str).removesuffix("ba"))
        return {"file": str(file), "updates": updates}
    if entry.get("oracle") == "megatron":
        return {"args": corpus_megatron.megatron_args(file), "world_size": devices}
    if entry.get("oracle") == "composer":
        return corpus_composer.trainer_config(file, size, devices)
    return None


def ask_oracle(name: str, cases: list[dict[str, Any]], timeout: float = 3600) -> list[dict[str, Any]]:
    oracle = ORACLES[name]
    request: dict[str, Any] = {"runs" if oracle.answer == "runs" else "cases": cases}
    if name == "mmengine" and os.environ.get("SCHED_MMENGINE_DOWNSTREAM"):
        request["downstream"] = os.environ["SCHED_MMENGINE_DOWNSTREAM"]
    done = subprocess.run(
        [os.environ[oracle.env], str(ROOT / "tools" / oracle.script), *oracle.argv],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **dict(oracle.extra_env)},
    )
    if done.returncode != 0 or not done.stdout.strip():
        return [{"error": f"oracle failed: {done.stderr.strip()[-300:]}"}] * len(cases)
    answers = json.loads(done.stdout.strip().splitlines()[-1])[oracle.answer]
    return [_lrs_of(name, answer) for answer in answers]


def _lrs_of(name: str, answer: dict[str, Any]) -> dict[str, Any]:
    """Every oracle's answer as ``{"lrs": [...]}`` or ``{"error": ...}`` (Composer's trainer mode gives rows)."""
    if "error" in answer or name != "composer":
        return answer
    return {"lrs": [row["lr"] for row in answer["rows"]]}


def exported_lrs(entry: dict[str, Any], timeout: float) -> list[float] | str:
    oracle = ORACLES.get(entry.get("oracle", ""))
    rc, out, err = run_sched(entry, "export", timeout, ("-f", "json", *(oracle.export if oracle else ())))
    if rc != 0:
        return f"export failed ({rc}): {' '.join(err.split())[-200:]}"
    rows = json.loads(out)["rows"]
    return [float(r["lr"]) for r in rows]


def compare(ours: list[float], theirs: list[float]) -> str:
    """``same`` or where the LRs first differ. sched's export may add the row after the last update."""
    if len(ours) not in (len(theirs), len(theirs) + 1):
        return f"differs: {len(ours)} rows, the library {len(theirs)} updates"
    for i, (a, b) in enumerate(zip(ours, theirs, strict=False)):
        if not math.isclose(a, b, rel_tol=TOL, abs_tol=1e-15):
            return f"differs: update {i}: sched {a!r}, library {b!r}"
    return "same"


def expected_kind(expect: Any) -> tuple[str, list[str]]:
    """(``exact`` | ``refused`` | ``warns``, substrings) of a manifest expectation."""
    if expect == "exact":
        return "exact", []
    ((kind, subs),) = expect.items()
    return kind, [subs] if isinstance(subs, str) else list(subs)


def verdict(result: Result) -> str:
    """``right``, or how the outcome differs from the manifest's."""
    kind, subs = expected_kind(result.expect)
    if result.klass in ("hang", "traceback", "internal", "usage"):
        return f"{result.klass} (expected {kind})"
    if result.lr.startswith("differs"):
        return f"wrong LRs: {result.lr}"
    lowered = [s.lower() for s in subs]
    if kind == "exact":
        return "right" if result.klass == "ok" else f"{result.klass} (expected exact)"
    if kind == "refused":
        if result.klass != "refused":
            return f"{result.klass} (expected refused)"
        said = result.error.lower().replace(result.path.partition("/")[2].lower(), "")
        ok = any(s in said for s in lowered)
        return "right" if ok else f"refused without naming {subs}"
    if result.klass != "ok-warn":
        return f"{result.klass} (expected a warning)"
    ok = any(s in w.lower() for w in result.warnings for s in lowered)
    return "right" if ok else f"warned without naming {subs}"


def silent_wrong(result: Result) -> bool:
    """Exit 0, no warning, and either wrong LRs or a file a correct sched refuses or warns about."""
    return result.klass == "ok" and (result.lr.startswith("differs") or expected_kind(result.expect)[0] != "exact")


def survey(selected: list[dict[str, Any]], timeout: float = 60, jobs: int = 8, oracles: bool = True) -> list[Result]:
    """Run every entry; compare with the real library where its environment is set."""

    def one(entry: dict[str, Any]) -> Result:
        rc, out, err = run_sched(entry, "validate", timeout)
        klass, error, warnings = classify(rc, out, err)
        result = Result(entry["path"], entry["tool"], entry["expect"], klass, rc, error, warnings, why=entry["why"])
        length = re.search(r"max_duration (\d+)ba", out)
        result.updates = int(length.group(1)) if length else None
        return result

    with ThreadPoolExecutor(jobs) as pool:
        results = list(pool.map(one, selected))
    if oracles:
        for name, oracle in ORACLES.items():
            todo = [(e, r) for e, r in zip(selected, results, strict=True) if e.get("oracle") == name and r.rc == 0]
            for _, r in todo:
                if r.updates is not None and r.updates > LONGEST:
                    r.lr = f"unchecked: {r.updates:,} updates, more than the survey replays ({LONGEST:,})"
            todo = [(e, r) for e, r in todo if not r.lr]
            if not todo:
                continue
            if not os.environ.get(oracle.env):
                for _, r in todo:
                    r.lr = f"unchecked: {oracle.env} not set"
                continue
            cases = [oracle_case(e) for e, _ in todo]
            for (_, r), case in zip(todo, cases, strict=True):
                if case and "skip" in case:
                    r.lr = f"unchecked: {case['skip']}"
            todo = [(e, r) for (e, r), case in zip(todo, cases, strict=True) if case and "skip" not in case]
            cases = [case for case in cases if case and "skip" not in case]
            if not todo:
                continue
            answers = ask_oracle(name, cases)
            with ThreadPoolExecutor(jobs) as pool:
                ours = list(pool.map(lambda er: exported_lrs(er[0], timeout), todo))
            for (_, r), answer, lrs in zip(todo, answers, ours, strict=True):
                if "error" in answer:
                    r.lr = f"unchecked: the oracle cannot derive it: {answer['error'][:160]}"
                elif isinstance(lrs, str):
                    r.lr = f"unchecked: {lrs}"
                else:
                    r.lr = compare(lrs, answer["lrs"])
    for r in results:
        r.verdict = verdict(r)
    return results


CLASSES = ("ok", "ok-warn", "refused", "usage", "internal", "traceback", "hang")


def report(results: list[Result]) -> str:
    """The markdown summary: counts per tool and class, then the silent wrong and the other misses."""
    tools = sorted({r.tool for r in results})
    lines = [
        "| tool | files | " + " | ".join(CLASSES) + " | LRs same | LRs differ | as expected | silent wrong |",
        "|---" * (len(CLASSES) + 6) + "|",
    ]
    for tool in [*tools, "all"]:
        rs = [r for r in results if tool in ("all", r.tool)]
        c = Counter(r.klass for r in rs)
        same = sum(r.lr == "same" for r in rs)
        differ = sum(r.lr.startswith("differs") for r in rs)
        right = sum(r.verdict == "right" for r in rs)
        silent = sum(silent_wrong(r) for r in rs)
        cells = " | ".join(str(c[k]) for k in CLASSES)
        lines.append(f"| {tool} | {len(rs)} | {cells} | {same} | {differ} | {right} | {silent} |")
    lines += ["", "## Silent wrong (exit 0, no warning)", ""]
    for r in results:
        if silent_wrong(r):
            lines.append(f"- `{r.path}` ({r.tool}; expected {r.expect}; {r.lr or 'LRs not compared'}): {r.why}")
    lines += ["", "## Other outcomes that differ from the manifest", ""]
    for r in results:
        if r.verdict != "right" and not silent_wrong(r):
            detail = r.error or (r.warnings[0] if r.warnings else "")
            lines.append(f"- `{r.path}` ({r.tool}): {r.verdict}. {detail[:220]}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", help="only entries of these tools")
    parser.add_argument("--json", type=Path, help="write every result as JSON here")
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--no-oracles", action="store_true", help="do not compare LRs with the real libraries")
    args = parser.parse_args(argv)
    selected = [e for e in entries() if not args.only or e["tool"] in args.only]
    missing = [e["path"] for e in selected if not (REAL / e["path"]).is_file()]
    if missing:
        print(
            f"corpus_survey: {len(missing)} files missing (first {missing[0]}); run tools/corpus_fetch.py",
            file=sys.stderr,
        )
        return 1
    results = survey(selected, args.timeout, args.jobs, not args.no_oracles)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=1))
    sys.stdout.write(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
