"""Differential test: our schedulers and trainer replay against the real Composer 0.32.

Runs only when ``SCHED_COMPOSER_PYTHON`` names a Python that can ``import composer``; see
docs/composer.md. Random cases (fixed seed) for all thirteen schedulers go to
``tools/composer_oracle.py`` in a few batched subprocess calls, then:

- every scalar ``scheduler(state, ssr)`` must equal Composer's alpha within 1e-12, or both must
  raise at the same timestamp (the pairs of exception types are printed);
- ``simulate(run, ssr, mode="trainer")`` must give the Trainer's learning rate and counters
  for every batch of a set of real training runs.
"""

from __future__ import annotations

import collections
import json
import math
import os
import subprocess
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sched_cli import schedulers as ours
from sched_cli.geometry import Geometry
from sched_cli.schedulers import RunShape
from sched_cli.schedulers import composer as composer_builtins
from sched_cli.simulator import Run, Timeline, collect, simulate
from sched_cli.state import State
from sched_cli.time import Time, Timestamp

ENV = "SCHED_COMPOSER_PYTHON"
ORACLE = Path(__file__).resolve().parents[1] / "tools" / "composer_oracle.py"
# Fixed, so that a failure replays; set SCHED_PARITY_SEED / SCHED_PARITY_CASES to explore further.
SEED = int(os.environ.get("SCHED_PARITY_SEED", "20250601"))
N_ALPHA_CASES = int(os.environ.get("SCHED_PARITY_CASES", "1500"))
TOL = 1e-12

SCHEDULERS = tuple(composer_builtins.__all__)  # the thirteen, with Composer's names
SSRS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)


def _composer_python() -> str:
    python = os.environ.get(ENV)
    how = (
        f"set {ENV} to a Python that has composer installed to run the differential test, e.g. "
        f"bash tools/envs/composer.sh DIR, then {ENV}=DIR/bin/python pytest tests/test_against_composer.py "
        "(docs/composer.md)"
    )
    if not python:
        pytest.skip(f"{ENV} is not set: {how}")
    probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec('composer') is None)"
    try:
        ok = subprocess.run([python, "-c", probe], capture_output=True, timeout=60).returncode == 0
    except OSError:
        ok = False
    if not ok:
        pytest.skip(f"{ENV}={python} cannot import composer: {how}")
    return python


def _ask(python: str, mode: str, request: dict[str, Any]) -> dict[str, Any]:
    proc = subprocess.run(
        [python, str(ORACLE), mode],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        raise RuntimeError(f"oracle {mode} failed ({proc.returncode}): {proc.stdout[-2000:]} {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.splitlines()[-1])


# -- random cases -------------------------------------------------------------------------------
class Gen:
    """Random runs and scheduler arguments, sized so that breakpoints fall inside the run."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def pick(self, options: Any) -> Any:
        return options[int(self.rng.integers(len(options)))]

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def ssr(self) -> float:
        if self.chance(0.7):
            return float(self.pick(SSRS))
        return float(self.pick([round(float(self.rng.uniform(0.1, 3.5)), 3), float(self.rng.uniform(0.05, 4.0))]))

    def run(self, max_batches: int = 400) -> dict[str, Any]:
        dl = int(self.rng.integers(1, 31))
        bs = int(self.rng.integers(1, 9))
        seq = int(self.rng.integers(1, 17))
        unit = self.pick(["ep", "ba", "sp", "tok"])
        if unit == "ep":
            value = int(self.rng.integers(1, max(2, max_batches // dl) + 1))
        else:
            batches = int(self.rng.integers(1, max_batches + 1))
            value = {"ba": batches, "sp": batches * bs, "tok": batches * bs * seq}[unit]
            value = max(1, value - int(self.rng.integers(0, bs * (seq if unit == "tok" else 1))))
        return {"max_duration": f"{value}{unit}", "dataloader_len": dl, "batch_size": bs, "seq_len": seq}

    @staticmethod
    def run_batches(run: dict[str, Any]) -> int:
        md = Time.from_timestring(run["max_duration"])
        per = {"ba": 1, "sp": run["batch_size"], "tok": run["batch_size"] * run["seq_len"]}
        if md.unit.value == "ep":
            return md.value * run["dataloader_len"]
        return -(-md.value // per[md.unit.value])

    def time(self, run: dict[str, Any], frac: tuple[float, float] = (0.0, 1.0), units: Any = None) -> str:
        """A time string somewhere in ``frac`` of the run, in a random unit."""
        unit = self.pick(units or ["ba", "ep", "sp", "tok", "dur"])
        n = self.run_batches(run)
        where = self.rng.uniform(*frac)
        if unit == "dur":
            return f"{self.pick([round(where, 3), round(where, 2), float(where)])}dur"
        dl = run["dataloader_len"] or 1
        batches = where * n
        value = {
            "ba": batches,
            "ep": batches / dl,
            "sp": batches * run["batch_size"],
            "tok": batches * run["batch_size"] * run["seq_len"],
        }[unit]
        if self.chance(0.08):
            value = self.pick([0, 1, 1, 2, 3])  # tiny: SSR may scale it to 0
        return f"{max(1 if value else 0, int(round(value)))}{unit}"

    def t_max(self, run: dict[str, Any], warmup: bool) -> str | None:
        if self.chance(0.3):
            return None  # the default, "1dur"
        if warmup and self.chance(0.6):
            # Composer rejects t_max < max_duration where they are comparable: mostly stay above it.
            return self.pick(
                [
                    "1dur",
                    "1.0dur",
                    f"{round(float(self.rng.uniform(1.0, 1.6)), 3)}dur",
                    self.time(run, (1.0, 1.6), ["ba", "sp", "tok"]),
                ]
            )
        return self.time(run, (0.2, 1.3))

    def scheduler(self, run: dict[str, Any], name: str | None = None) -> dict[str, Any]:
        name = name or self.pick(SCHEDULERS)
        rng = self.rng
        gamma = self.pick([0.1, 0.5, 0.9, round(float(rng.uniform(0.05, 1.0)), 4), float(rng.uniform(0.01, 1.0))])
        alpha_f = self.pick([0.0, 0.1, round(float(rng.uniform(0.0, 1.0)), 3)])
        kw: dict[str, Any] = {}
        if name == "StepScheduler":
            kw["step_size"] = self.time(run, (0.02, 0.5))
            kw["gamma"] = gamma
        elif name in ("MultiStepScheduler", "MultiStepWithWarmupScheduler"):
            kw["milestones"] = [self.time(run, (0.0, 1.1)) for _ in range(int(rng.integers(0, 5)))]
            kw["gamma"] = gamma
        elif name == "ConstantScheduler":
            kw["alpha"] = round(float(rng.uniform(0.0, 2.0)), 3)
            kw["t_max"] = self.t_max(run, False)
        elif name == "LinearScheduler":
            kw["alpha_i"] = round(float(rng.uniform(0.0, 1.5)), 3)
            kw["alpha_f"] = alpha_f
            kw["t_max"] = self.t_max(run, False)
        elif name == "ExponentialScheduler":
            kw["gamma"] = gamma
            kw["decay_period"] = self.pick([None, self.time(run, (0.02, 0.6))])
        elif name == "CosineAnnealingScheduler":
            kw["t_max"] = self.t_max(run, False)
            kw["alpha_f"] = alpha_f
        elif name == "CosineAnnealingWarmRestartsScheduler":
            kw["t_0"] = self.time(run, (0.02, 0.5))
            kw["t_mult"] = self.pick([0.5, 1.0, 1.5, 2.0, round(float(rng.uniform(0.3, 3.0)), 2)])
            kw["alpha_f"] = alpha_f
        elif name == "PolynomialScheduler":
            kw["power"] = self.pick([0.5, 1.0, 2.0, round(float(rng.uniform(0.1, 4.0)), 3)])
            kw["t_max"] = self.t_max(run, False)
            kw["alpha_f"] = alpha_f
        if name.endswith("WithWarmupScheduler"):
            kw["t_warmup"] = self.time(run, (0.0, 0.4))
            kw["scale_warmup"] = self.chance(0.5)
            if name != "MultiStepWithWarmupScheduler":
                kw["t_max"] = self.t_max(run, True)
            if name == "ConstantWithWarmupScheduler":
                kw["alpha"] = round(float(rng.uniform(0.1, 2.0)), 3)
            elif name == "LinearWithWarmupScheduler":
                kw["alpha_i"] = round(float(rng.uniform(0.1, 1.5)), 3)
                kw["alpha_f"] = alpha_f
            elif name == "CosineAnnealingWithWarmupScheduler":
                kw["alpha_f"] = alpha_f
            elif name == "PolynomialWithWarmupScheduler":
                kw["power"] = self.pick([1.0, 2.0, round(float(rng.uniform(0.1, 4.0)), 3)])
                kw["alpha_f"] = alpha_f
        return {"scheduler": name, "kwargs": {k: v for k, v in kw.items() if v is not None}}

    def spell(self, time: str) -> str:
        """Now and then, the same time spelled otherwise: '2EP', '1.2e2ba', '40.0sp'."""
        parsed = Time.from_timestring(time)
        value, unit = parsed.value, parsed.unit.value
        if unit == "dur" or not self.chance(0.1):
            return time
        return self.pick([f"{value}{unit.upper()}", f"{float(value):e}{unit}", f"{float(value)}{unit}"])

    def boundaries(self, run: dict[str, Any], spec: dict[str, Any], ssr: float) -> set[int]:
        """Batches next to where each time argument falls, scaled by ssr or not."""
        dl = run["dataloader_len"] or 1
        per = {"ba": 1, "ep": 1 / dl, "sp": run["batch_size"], "tok": run["batch_size"] * run["seq_len"]}
        times = [v for v in spec["kwargs"].values() if isinstance(v, str)]
        times += [m for m in spec["kwargs"].get("milestones", [])]
        out: set[int] = set()
        for time in times:
            t = Time.from_timestring(time)
            if t.unit.value == "dur":
                centres = [t.value * self.run_batches(run) * ssr]
            else:
                centres = [t.value / per[t.unit.value] * k for k in (1.0, ssr)]
            for c in centres:
                out.update({int(c) - 1, int(c), int(c) + 1, int(c) + 2})
        return out

    def timestamps(self, run: dict[str, Any], n: int, ssr: float, near: set[int] = frozenset()) -> list[dict[str, int]]:
        """Timestamps of the (scaled) run: the start, the end, random batches, a few incoherent ones."""
        total = max(1, int(self.run_batches(run) * max(ssr, 0.05)))
        dl = run["dataloader_len"]
        batches = {0, 1, 2, total - 1, total, total + 1, *near}
        batches.update(int(b) for b in self.rng.integers(0, int(total * 1.2) + 2, size=n))
        out = []
        for b in sorted(b for b in batches if b >= 0):
            sample = b * run["batch_size"]
            out.append({"epoch": b // dl if dl else 0, "batch": b, "sample": sample, "token": sample * run["seq_len"]})
        for _ in range(2):  # counters that disagree with each other: each unit must read its own counter
            out.append({k: int(self.rng.integers(0, 2000)) for k in ("epoch", "batch", "sample", "token")})
        return out


def alpha_cases(count: int = N_ALPHA_CASES, seed: int = SEED) -> list[dict[str, Any]]:
    g = Gen(seed)
    cases = []
    for i in range(count):
        run = g.run()
        if g.chance(0.12):
            run["dataloader_len"] = None  # no epoch length: times in ep (and dur of an ep run) cannot convert
        ssr = g.ssr()
        # Every scheduler equally often, then random parameters.
        spec = g.scheduler({**run, "dataloader_len": run["dataloader_len"] or 7}, SCHEDULERS[i % len(SCHEDULERS)])
        near = g.boundaries({**run, "dataloader_len": run["dataloader_len"] or 7}, spec, ssr)
        kwargs = {k: g.spell(v) if isinstance(v, str) else v for k, v in spec["kwargs"].items()}
        if "milestones" in kwargs:
            kwargs["milestones"] = [g.spell(m) for m in kwargs["milestones"]]
        cases.append(
            {
                "scheduler": spec["scheduler"],
                "kwargs": kwargs,
                "max_duration": g.spell(run["max_duration"]),
                "dataloader_len": run["dataloader_len"],
                "ssr": ssr,
                "scale_max_duration": g.chance(0.75),
                "timestamps": g.timestamps({**run, "dataloader_len": run["dataloader_len"] or 0}, 10, ssr, near),
            }
        )
    return cases + edge_cases()


def edge_cases() -> list[dict[str, Any]]:
    """Cases a random draw rarely makes: odd units and spellings, arguments at the edge of sense."""

    def case(
        name: str,
        kwargs: dict[str, Any],
        max_duration: str = "20ba",
        dataloader_len: int | None = 5,
        ssr: float = 1.0,
        batches: range = range(0, 24),
    ) -> dict[str, Any]:
        dl = dataloader_len or 0
        timestamps = [
            {"epoch": b // dl if dl else 0, "batch": b, "sample": 2 * b, "token": 6 * b, "iteration": b // 7}
            for b in batches
        ]
        return {
            "scheduler": name,
            "kwargs": kwargs,
            "max_duration": max_duration,
            "dataloader_len": dataloader_len,
            "ssr": ssr,
            "scale_max_duration": False,
            "timestamps": timestamps,
        }

    return [
        case("StepScheduler", {"step_size": "2iter"}),
        case("LinearWithWarmupScheduler", {"t_warmup": "1iter", "t_max": "3iter"}),
        case("CosineAnnealingScheduler", {"t_max": "1e1BA"}),
        case("CosineAnnealingScheduler", {"t_max": " 5ba"}),
        case("CosineAnnealingScheduler", {"t_max": "5sec"}),
        case("CosineAnnealingScheduler", {"t_max": "1m"}),
        case("CosineAnnealingScheduler", {"t_max": ".5dur"}),
        case("CosineAnnealingScheduler", {"t_max": "1ep"}, dataloader_len=None),
        case("PolynomialScheduler", {"power": -1.0, "t_max": "10ba"}),
        case("PolynomialWithWarmupScheduler", {"t_warmup": "2ba", "power": -0.5, "t_max": "15ba"}, "15ba"),
        case("StepScheduler", {"step_size": "1ba", "gamma": 1e300}),
        case("ExponentialScheduler", {"gamma": 1e-300, "decay_period": "1ba"}),
        case("MultiStepScheduler", {"milestones": "5ba"}),
        case("MultiStepWithWarmupScheduler", {"t_warmup": "5ba", "milestones": ["2ep", "4ep"]}, "6ep", None),
        case("MultiStepWithWarmupScheduler", {"t_warmup": "5ba", "milestones": ["2ba", "3sec"]}),
        case("MultiStepWithWarmupScheduler", {"t_warmup": "1ba", "milestones": [], "scale_warmup": True}, ssr=0.5),
        case("CosineAnnealingWithWarmupScheduler", {"t_warmup": "3ba", "scale_warmup": True}, ssr=0.25),
        case("CosineAnnealingWithWarmupScheduler", {"t_warmup": "2ba", "t_max": "1ep"}, "4ba"),
        case("CosineAnnealingWithWarmupScheduler", {"t_warmup": "2ba", "t_max": "10sp"}, "4ba"),
        case("LinearWithWarmupScheduler", {"t_warmup": "0.5dur", "t_max": "0.5dur"}),
        case("CosineAnnealingWarmRestartsScheduler", {"t_0": "8ba", "t_mult": 0.5}),
        case("CosineAnnealingWarmRestartsScheduler", {"t_0": "3ba", "t_mult": 1.4}),
        case("ConstantScheduler", {"alpha": 0.5, "t_max": "0ba"}),
        case("ConstantWithWarmupScheduler", {"t_warmup": "4ba", "alpha": 0.3, "t_max": "4ba"}, "4ba"),
    ]


def trainer_configs(seed: int = SEED) -> list[dict[str, Any]]:
    """Hand-picked runs for each Trainer behaviour, then random ones (all at most 150 batches)."""

    def s(name: str, **kwargs: Any) -> dict[str, Any]:
        return {"scheduler": name, "kwargs": kwargs}

    def cfg(
        schedulers: list,
        max_duration: str,
        dl: int,
        bs: int = 2,
        seq: int = 3,
        ssr: float = 1.0,
        step_every: str = "batch",
        lr: float = 1.0,
    ) -> dict[str, Any]:
        return {
            "schedulers": schedulers,
            "max_duration": max_duration,
            "dataloader_len": dl,
            "batch_size": bs,
            "seq_len": seq,
            "ssr": ssr,
            "step_every": step_every,
            "lr": lr,
        }

    configs = [
        cfg([s("CosineAnnealingWithWarmupScheduler", t_warmup="0.01dur")], "100ba", 10, ssr=0.5),
        cfg([s("ConstantScheduler", alpha=0.5), s("LinearScheduler")], "2ep", 4),
        cfg([s("LinearScheduler"), s("ConstantScheduler", alpha=0.5)], "2ep", 4),
        cfg(
            [s("MultiStepWithWarmupScheduler", t_warmup="3ba", milestones=["2ep", "4ep"])], "20ep", 10, ssr=0.5, lr=2.0
        ),
        cfg([s("StepScheduler", step_size="2ep", gamma=0.5)], "6ep", 7, step_every="epoch", lr=0.3),
        cfg([s("CosineAnnealingScheduler")], "5ep", 9, ssr=1.5, step_every="epoch"),
        cfg([s("LinearScheduler", alpha_i=1.0, alpha_f=0.1)], "250sp", 20, bs=4),
        cfg([s("PolynomialWithWarmupScheduler", t_warmup="100tok", power=1.5)], "1000tok", 11, bs=3, seq=7, ssr=0.75),
        cfg([s("ExponentialScheduler", gamma=0.9)], "47ba", 10, step_every="epoch"),
        cfg(
            [
                s("ConstantScheduler", alpha=0.3, t_max="5ba"),
                s("CosineAnnealingWarmRestartsScheduler", t_0="10ba", t_mult=2.0),
                s("LinearWithWarmupScheduler", t_warmup="0.1dur", scale_warmup=True),
            ],
            "60ba",
            25,
            ssr=1.5,
        ),
        cfg(
            [s("LinearWithWarmupScheduler", t_warmup="1ep", alpha_i=0.8, alpha_f=0.05, scale_warmup=True)],
            "6ep",
            12,
            ssr=2.0,
            lr=0.01,
        ),
        cfg([s("ConstantWithWarmupScheduler", t_warmup="40sp", alpha=0.7)], "200sp", 17, bs=5, ssr=3.0),
        cfg(
            [
                s("CosineAnnealingWarmRestartsScheduler", t_0="7ba", t_mult=1.5, alpha_f=0.1),
                s("MultiStepScheduler", milestones=["1ep", "30ba", "2ep"], gamma=0.5),
            ],
            "99sp",
            13,
            bs=1,
            ssr=1.0,
        ),
        cfg([s("PolynomialScheduler", power=2.0, t_max="1dur")], "8ep", 20, ssr=0.25, step_every="epoch"),
        cfg(
            [s("CosineAnnealingWithWarmupScheduler", t_warmup="0.1dur", alpha_f=0.05)],
            "500tok",
            9,
            bs=2,
            seq=4,
            ssr=0.75,
            step_every="epoch",
        ),
        cfg([s("MultiStepWithWarmupScheduler", t_warmup="3tok", milestones=[], scale_warmup=True)], "30ba", 8, ssr=2.0),
        # Runs the Trainer cannot finish: each of its schedulers must work, not only the last one.
        cfg([s("LinearScheduler", t_max="1ba"), s("ConstantScheduler")], "20ba", 5, ssr=0.5),
        cfg(
            [s("MultiStepWithWarmupScheduler", t_warmup="1ba", milestones=["5ba"], scale_warmup=True)],
            "20ba",
            5,
            ssr=0.5,
        ),
        cfg(
            [s("CosineAnnealingWarmRestartsScheduler", t_0="8ba", t_mult=0.5), s("ConstantScheduler", alpha=0.5)],
            "40ba",
            10,
        ),
        cfg(
            [s("CosineAnnealingWithWarmupScheduler", t_warmup="2ba", t_max="40ba"), s("ConstantScheduler")],
            "40ba",
            10,
            ssr=0.5,
        ),
        cfg([s("CosineAnnealingWithWarmupScheduler", t_warmup="2ba", t_max="40ba")], "40ba", 10, ssr=0.5),
    ]
    # Real geometry: a dataset that does not fill the last batch (kept, or dropped), so samples,
    # tokens, sample milestones and dur in samples all run on a short last batch.
    configs += [
        {**cfg([s("MultiStepScheduler", milestones=["50sp", "2ep"])], "3ep", 0, bs=4, seq=5), "dataset_size": 23},
        {**cfg([s("LinearWithWarmupScheduler", t_warmup="0.1dur")], "130sp", 0, bs=4, ssr=0.5), "dataset_size": 23},
        {
            **cfg([s("CosineAnnealingScheduler", t_max="400tok")], "3ep", 0, bs=5, seq=7, step_every="epoch"),
            "dataset_size": 23,
            "drop_last": True,
        },
        {**cfg([s("StepScheduler", step_size="30sp")], "150sp", 0, bs=6, ssr=1.5), "dataset_size": 20},
    ]
    g = Gen(seed + 1)
    hand_picked = len(configs)
    while len(configs) < hand_picked + 15:
        run = g.run(max_batches=120)
        ssr = g.ssr() if g.chance(0.8) else 1.0
        if Gen.run_batches(run) * ssr > 150 or int(Time.from_timestring(run["max_duration"]).value * ssr) == 0:
            continue
        stack = [g.scheduler(run) for _ in range(int(g.pick([1, 1, 2, 3])))]
        configs.append(
            cfg(
                stack,
                run["max_duration"],
                run["dataloader_len"],
                run["batch_size"],
                run["seq_len"],
                ssr,
                g.pick(["batch", "batch", "epoch"]),
                g.pick([1.0, 0.1, round(float(g.rng.uniform(0.001, 3)), 4)]),
            )
        )
    return configs


# -- our side -----------------------------------------------------------------------------------
def build(spec: dict[str, Any]) -> Any:
    return getattr(ours, spec["scheduler"])(**spec["kwargs"])


def our_alphas(case: dict[str, Any], max_duration: str) -> tuple[list[Any], list[bool]]:
    """Our alpha (or the exception) and whether a zero-warmup warning was issued, per timestamp."""
    n = len(case["timestamps"])
    try:
        scheduler = build(case)
        state = State(max_duration, case["dataloader_len"])
    except Exception as exc:  # noqa: BLE001
        return [exc] * n, [False] * n
    alphas: list[Any] = []
    warned: list[bool] = []
    for fields in case["timestamps"]:
        state.timestamp = Timestamp(**fields)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            try:
                alphas.append(float(scheduler(state, case["ssr"])))
            except Exception as exc:  # noqa: BLE001
                alphas.append(exc)
        warned.append(any("warmup duration is 0" in str(w.message) for w in seen))
    return alphas, warned


def our_timeline(case: dict[str, Any], max_duration: str) -> np.ndarray | Exception:
    """The vectorized path over all of the case's timestamps at once: values, or what it raised."""
    counters = {
        k: np.array([ts.get(k, 0) for ts in case["timestamps"]], dtype=np.int64)
        for k in ("epoch", "batch", "sample", "token")
    }
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            shape = RunShape(Time.from_timestring(max_duration), case["dataloader_len"])
            return build(case).evaluate(Timeline(**counters), shape, case["ssr"])
    except Exception as exc:  # noqa: BLE001
        return exc


def close(a: float, b: float) -> bool:
    return a == b or abs(a - b) <= TOL + TOL * abs(b) or (math.isnan(a) and math.isnan(b))


def describe(case: dict[str, Any], ts: dict[str, int] | None = None) -> str:
    where = f" at {ts}" if ts is not None else ""
    return (
        f"{case['scheduler']}(**{case['kwargs']}) max_duration={case['max_duration']} "
        f"(scaled={case.get('scale_max_duration')}) dataloader_len={case['dataloader_len']} ssr={case['ssr']}{where}"
    )


# -- the test -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def oracle() -> dict[str, Any]:
    python = _composer_python()
    cases = alpha_cases()
    configs = trainer_configs()
    half = len(configs) // 2
    # Three calls side by side: the start-up (importing composer) dominates each.
    with ThreadPoolExecutor(3) as pool:
        alpha = pool.submit(_ask, python, "alpha", {"cases": cases})
        first = pool.submit(_ask, python, "trainer", {"runs": configs[:half]})
        second = pool.submit(_ask, python, "trainer", {"runs": configs[half:]})
        runs = first.result()["runs"] + second.result()["runs"]
        return {"cases": cases, "results": alpha.result()["results"], "configs": configs, "runs": runs}


def test_alpha_matches_composer(oracle: dict[str, Any]) -> None:
    mismatches: list[str] = []
    raised: collections.Counter[tuple[str, str]] = collections.Counter()
    compared = 0
    for case, theirs in zip(oracle["cases"], oracle["results"], strict=True):
        max_duration = theirs["max_duration"]
        if max_duration is None:  # their max_duration (or scheduler) did not even build
            max_duration = case["max_duration"]
        alphas, warned = our_alphas(case, max_duration)
        for ts, mine, their, my_warn, their_warn in zip(
            case["timestamps"], alphas, theirs["alphas"], warned, theirs["warnings"], strict=True
        ):
            compared += 1
            their_error = isinstance(their, dict)
            if isinstance(mine, Exception) and their_error:
                raised[(type(mine).__name__, their["error"].split(":")[0])] += 1
            elif isinstance(mine, Exception):
                mismatches.append(
                    f"we raise {type(mine).__name__}: {mine}; Composer gives {their!r}: {describe(case, ts)}"
                )
            elif their_error:
                mismatches.append(f"we give {mine!r}; Composer raises {their['error']}: {describe(case, ts)}")
            elif not close(mine, their):
                mismatches.append(f"we give {mine!r}, Composer {their!r}: {describe(case, ts)}")
            elif my_warn != any("warmup duration is 0" in w for w in their_warn):
                mismatches.append(f"zero-warmup warning: ours {my_warn}, Composer {not my_warn}: {describe(case, ts)}")
        # The vectorized path: it raises if Composer raises anywhere, else gives every value. A
        # timeline has no iteration counter (a synthetic run is one iteration): skip cases that use one.
        if any(ts.get("iteration") for ts in case["timestamps"]):
            continue
        vector = our_timeline(case, max_duration)
        their_raise = any(isinstance(a, dict) for a in theirs["alphas"])
        if isinstance(vector, Exception) != their_raise:
            mismatches.append(f"vectorized: {vector!r} where Composer raises={their_raise}: {describe(case)}")
        elif not their_raise:
            bad = [i for i, (v, a) in enumerate(zip(vector, theirs["alphas"], strict=True)) if not close(float(v), a)]
            if bad:
                i = bad[0]
                mismatches.append(
                    f"vectorized: {float(vector[i])!r} vs Composer {theirs['alphas'][i]!r}: "
                    f"{describe(case, case['timestamps'][i])}"
                )
    print(f"\n{len(oracle['cases'])} cases, {compared} timestamps compared, {len(mismatches)} mismatches")
    print("both raise (ours, Composer's):", dict(raised))
    # Where Composer would divide by zero, we must say so in a ScheduleError of our own.
    assert all(mine == "ScheduleError" for mine, their in raised if their == "ZeroDivisionError")
    assert not mismatches, f"{len(mismatches)} of {compared} disagree, e.g.:\n" + "\n".join(mismatches[:25])


def test_trainer_matches_composer(oracle: dict[str, Any]) -> None:
    problems: list[str] = []
    batches = 0
    for config, theirs in zip(oracle["configs"], oracle["runs"], strict=True):
        label = json.dumps(config)
        try:
            geometry = None
            if "dataset_size" in config:
                geometry = Geometry(config["dataset_size"], config["batch_size"], 1, config.get("drop_last", False))
            run = Run(
                max_duration=config["max_duration"],
                schedulers=tuple(build(s) for s in config["schedulers"]),
                dataloader_len=geometry.dataloader_len if geometry else config["dataloader_len"],
                last_batch_size=geometry.last_batch_size if geometry else None,
                batch_size=config["batch_size"],
                seq_len=config["seq_len"],
                step_every=config["step_every"],
                lr=config["lr"],
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rows = collect(simulate(run, config["ssr"], mode="trainer"))
        except Exception as exc:  # noqa: BLE001
            if "error" not in theirs:
                problems.append(f"we raise {type(exc).__name__}: {exc}; the Trainer runs: {label}")
            continue
        if "error" in theirs:
            problems.append(f"the Trainer raises {theirs['error']}; we simulate {len(rows['batch'])} batches: {label}")
            continue
        their_rows = theirs["rows"]
        batches += len(their_rows)
        if str(run.scaled_max_duration(config["ssr"])) != theirs["info"]["max_duration_after_ssr"]:
            problems.append(
                f"scaled max_duration {run.scaled_max_duration(config['ssr'])} vs "
                f"{theirs['info']['max_duration_after_ssr']}: {label}"
            )
        if len(rows["batch"]) != len(their_rows):
            problems.append(f"{len(rows['batch'])} batches vs the Trainer's {len(their_rows)}: {label}")
            continue
        for i, row in enumerate(their_rows):
            counters = {k: int(rows[k][i]) for k in ("epoch", "batch", "sample", "token")}
            if counters != {k: row[k] for k in counters}:
                problems.append(f"batch {i}: counters {counters} vs {row}: {label}")
                break
            if not close(float(rows["lr"][i]), row["lr"]):
                problems.append(f"batch {i}: lr {float(rows['lr'][i])!r} vs the Trainer's {row['lr']!r}: {label}")
                break
    print(f"\n{len(oracle['configs'])} trainer runs, {batches} batches compared, {len(problems)} disagree")
    assert not problems, "\n".join(problems)


# -- resumed runs --------------------------------------------------------------------------------
def resume_configs(seed: int = SEED) -> list[dict[str, Any]]:
    """Resume scenarios: hand-picked for each behaviour of ``Trainer(load_path=...)``, then random.

    Each is ``{"before": config, "after": config, "at": time}``; a config is the trainer mode's
    (``dataloader_len``, ``batch_size``, ``seq_len``, ``max_duration``, ``ssr``, ...).
    """

    def s(name: str, **kwargs: Any) -> dict[str, Any]:
        return {"scheduler": name, "kwargs": kwargs}

    def cfg(schedulers: list, max_duration: str, dl: int = 8, bs: int = 2, **extra: Any) -> dict[str, Any]:
        base = {"schedulers": schedulers, "max_duration": max_duration, "dataloader_len": dl, "batch_size": bs}
        base.update({"seq_len": 3, "ssr": 1.0, "step_every": "batch", "lr": 0.1})
        base.update(extra)
        return base

    lin = [s("LinearWithWarmupScheduler", t_warmup="4ba", alpha_f=0.0)]
    cos = [s("CosineAnnealingScheduler")]
    linear = [s("LinearScheduler", alpha_f=0.1)]
    step_ep = [s("StepScheduler", step_size="1ep", gamma=0.5)]
    out = [
        # longer max_duration, mid-epoch: the LR jumps up
        {"at": "6ba", "before": cfg(lin, "20ba"), "after": cfg(lin, "40ba")},
        # the same, with a different base LR (the checkpoint's base LR wins)
        {"at": "6ba", "before": cfg(lin, "20ba"), "after": cfg(lin, "40ba", lr=0.5)},
        # shorter max_duration, still ahead of the checkpoint
        {"at": "10ba", "before": cfg(cos, "30ba"), "after": cfg(cos, "12ba")},
        # max_duration already reached: the Trainer refuses
        {"at": "10ba", "before": cfg(cos, "30ba"), "after": cfg(cos, "10ba")},
        {"at": "2ep", "before": cfg(cos, "3ep"), "after": cfg(cos, "2ep")},
        # at an epoch's last batch, same loader; a longer one (the epoch goes on); a shorter one
        {"at": "8ba", "before": cfg(linear, "3ep"), "after": cfg(linear, "3ep")},
        {"at": "8ba", "before": cfg(linear, "3ep"), "after": cfg(linear, "3ep", dl=11)},
        {"at": "8ba", "before": cfg(linear, "3ep"), "after": cfg(linear, "4ep", dl=5)},
        # mid-epoch, the new loader is shorter than the batches already done in the epoch
        {"at": "14ba", "before": cfg(linear, "3ep"), "after": cfg(linear, "3ep", dl=4)},
        # an epoch checkpoint
        {"at": "1ep", "before": cfg(linear, "3ep"), "after": cfg(linear, "4ep", dl=6)},
        {"at": "2ep", "before": cfg(cos, "3ep"), "after": cfg(cos, "60ba")},
        # SSR: AFTER's own, applied once; BEFORE's
        {"at": "8ba", "before": cfg(cos, "20ba"), "after": cfg(cos, "30ba", dl=5, bs=3, ssr=2.0)},
        {"at": "5ba", "before": cfg(cos, "20ba", ssr=0.5), "after": cfg(cos, "20ba")},
        {"at": "12ba", "before": cfg(lin, "40ba", ssr=1.5), "after": cfg(lin, "40ba", ssr=0.5)},
        # scheduler changed: a warmup that restarts, one that has passed, a stack
        {
            "at": "10ba",
            "before": cfg(cos, "30ba"),
            "after": cfg([s("CosineAnnealingWithWarmupScheduler", t_warmup="16ba")], "40ba"),
        },
        {
            "at": "10ba",
            "before": cfg(cos, "30ba"),
            "after": cfg([s("LinearWithWarmupScheduler", t_warmup="0.1dur")], "40ba"),
        },
        {
            "at": "9ba",
            "before": cfg(linear, "30ba"),
            "after": cfg(
                [s("MultiStepScheduler", milestones=["3ba", "12ba"]), s("ExponentialScheduler", gamma=0.9)], "30ba"
            ),
        },
        {
            "at": "9ba",
            "before": cfg(lin, "30ba"),
            "after": cfg([s("ConstantScheduler", alpha=0.5, t_max="20ba")], "30ba"),
        },
        # batch size and sequence length changed: samples and tokens continue from the checkpoint
        {"at": "6ba", "before": cfg(linear, "24ba"), "after": cfg(linear, "24ba", bs=5, seq_len=2)},
        {"at": "6ba", "before": cfg(linear, "48sp"), "after": cfg(linear, "100sp", bs=4)},
        {"at": "7ba", "before": cfg(cos, "120tok"), "after": cfg(cos, "300tok", bs=3, seq_len=4)},
        # the checkpoint given in samples, tokens or a fraction of BEFORE
        {"at": "20sp", "before": cfg(linear, "30ba"), "after": cfg(linear, "40ba")},
        {"at": "36tok", "before": cfg(linear, "30ba"), "after": cfg(linear, "40ba")},
        {"at": "0.5dur", "before": cfg(lin, "24ba"), "after": cfg(lin, "30ba")},
        # epoch stepping: mid-epoch, at an epoch's last batch, at an epoch checkpoint
        {
            "at": "12ba",
            "before": cfg(linear, "3ep", step_every="epoch"),
            "after": cfg(linear, "4ep", step_every="epoch"),
        },
        {
            "at": "8ba",
            "before": cfg(linear, "3ep", step_every="epoch"),
            "after": cfg(linear, "4ep", dl=10, step_every="epoch"),
        },
        {
            "at": "8ba",
            "before": cfg(step_ep, "3ep", step_every="epoch"),
            "after": cfg(step_ep, "3ep", dl=6, step_every="epoch"),
        },
        {
            "at": "1ep",
            "before": cfg(step_ep, "3ep", step_every="epoch"),
            "after": cfg(step_ep, "4ep", step_every="epoch"),
        },
        # from the end of a finished run, with a longer max_duration
        {"at": "16ba", "before": cfg(lin, "16ba"), "after": cfg(lin, "32ba")},
        {"at": "3ep", "before": cfg(cos, "3ep", dl=4), "after": cfg(cos, "5ep", dl=4)},
        # datasets that do not divide into batches: a short last batch on either side
        {"at": "6ba", "before": cfg(linear, "20ba"), "after": cfg(linear, "20ba", dataset_size=13, bs=3)},
        {
            "at": "5ba",
            "before": cfg(cos, "3ep", dataset_size=11, bs=3),
            "after": cfg(cos, "4ep", dataset_size=11, bs=3),
        },
        {
            "at": "8ba",
            "before": cfg(linear, "3ep", dataset_size=15, bs=2),
            "after": cfg(linear, "100sp", dataset_size=9, bs=4),
        },
        {
            "at": "1ep",
            "before": cfg(lin, "4ep", dataset_size=10, bs=4),
            "after": cfg(lin, "6ep", dataset_size=10, bs=4),
        },
    ]
    g = Gen(seed + 7)
    names = (
        "CosineAnnealingScheduler",
        "LinearScheduler",
        "LinearWithWarmupScheduler",
        "PolynomialScheduler",
        "CosineAnnealingWithWarmupScheduler",
        "ExponentialScheduler",
        "MultiStepScheduler",
    )

    def random_scheduler() -> dict[str, Any]:
        name = g.pick(names)
        if "Warmup" in name:
            return s(name, t_warmup=g.pick(["3ba", "0.1dur", "1ep"]))
        if name == "ExponentialScheduler":
            return s(name, gamma=g.pick([0.9, 0.95]))
        if name == "MultiStepScheduler":
            return s(name, milestones=[g.pick(["4ba", "1ep"]), g.pick(["16ba", "2ep"])], gamma=0.5)
        if name == "PolynomialScheduler":
            return s(name, power=2.0)
        return s(name)

    while len(out) < 44:
        dl_b, dl_a = g.pick([4, 6, 8]), g.pick([3, 5, 8, 10])
        bs_b, bs_a = g.pick([1, 2, 3]), g.pick([1, 2, 4])
        md_b = g.pick([f"{3 * dl_b}ba", "3ep", f"{30 * bs_b}sp"])
        before = cfg(
            [random_scheduler()],
            md_b,
            dl=dl_b,
            bs=bs_b,
            ssr=g.pick([1.0, 1.0, 0.5, 1.5]),
            step_every=g.pick(["batch", "batch", "epoch"]),
        )
        after = cfg(
            [random_scheduler() for _ in range(g.pick([1, 1, 2]))],
            g.pick(["4ep", "40ba", f"{45 * bs_a}sp"]),
            dl=dl_a,
            bs=bs_a,
            ssr=g.pick([1.0, 1.0, 0.75, 2.0]),
            step_every=before["step_every"],
            lr=g.pick([0.1, 0.3]),
        )
        at = g.pick([f"{g.pick([dl_b, 2 * dl_b])}ba", f"{g.pick([3, 5, 7])}ba", "1ep"])
        out.append({"at": at, "before": before, "after": after})
    return out


def our_run(config: dict[str, Any]) -> Run:
    dl, bs, last = config["dataloader_len"], config["batch_size"], None
    if config.get("dataset_size") is not None:  # the oracle's loader: ceil(n / bs) batches, the last short
        dl = -(-config["dataset_size"] // bs)
        last = config["dataset_size"] - (dl - 1) * bs
    return Run(
        max_duration=config["max_duration"],
        schedulers=tuple(build(s) for s in config["schedulers"]),
        dataloader_len=dl,
        last_batch_size=last,
        batch_size=bs,
        seq_len=config["seq_len"],
        step_every=config["step_every"],
        lr=config["lr"],
    )


@pytest.fixture(scope="module")
def resume_oracle() -> dict[str, Any]:
    python = _composer_python()
    configs = resume_configs()
    half = len(configs) // 2
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(_ask, python, "resume", {"runs": configs[:half]})
        second = pool.submit(_ask, python, "resume", {"runs": configs[half:]})
        return {"configs": configs, "runs": first.result()["runs"] + second.result()["runs"]}


def test_resume_matches_composer(resume_oracle: dict[str, Any]) -> None:
    from sched_cli.resume import Resume, simulate_resumed

    problems: list[str] = []
    compared = refused = 0
    for config, theirs in zip(resume_oracle["configs"], resume_oracle["runs"], strict=True):
        label = json.dumps(config)
        if "error" in theirs:
            problems.append(f"the oracle failed: {theirs['error']}: {label}")
            continue
        try:
            resume = Resume(our_run(config["before"]), Time.from_timestring(config["at"]), config["before"]["ssr"])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rows = collect(
                    simulate_resumed(our_run(config["after"]), resume, config["after"]["ssr"], mode="trainer")
                )
        except Exception as exc:  # noqa: BLE001
            if "error" not in theirs["after"]:
                problems.append(f"we raise {type(exc).__name__}: {exc}; the Trainer resumes: {label}")
            else:
                refused += 1
            continue
        if "error" in theirs["after"]:
            problems.append(f"the Trainer raises {theirs['after']['error']}; we simulate: {label}")
            continue
        k = int((rows["segment"] == 0).sum())
        their_rows = theirs["before"]["rows"][:k] + theirs["after"]["rows"]
        if theirs["after"]["rows"] and theirs["after"]["rows"][0]["batch"] != k:
            problems.append(f"checkpoint at batch {k} vs the Trainer's {theirs['after']['rows'][0]['batch']}: {label}")
            continue
        if len(rows["batch"]) != len(their_rows):
            problems.append(f"{len(rows['batch'])} batches vs the Trainer's {len(their_rows)}: {label}")
            continue
        compared += len(their_rows)
        for i, row in enumerate(their_rows):
            counters = {key: int(rows[key][i]) for key in ("epoch", "batch", "sample", "token")}
            if counters != {key: row[key] for key in counters}:
                problems.append(f"row {i}: counters {counters} vs {row}: {label}")
                break
            if not close(float(rows["lr"][i]), row["lr"]):
                problems.append(f"row {i}: lr {float(rows['lr'][i])!r} vs the Trainer's {row['lr']!r}: {label}")
                break
    n = len(resume_oracle["configs"])
    print(f"\n{n} resume scenarios ({refused} refused by both), {compared} batches compared, {len(problems)} disagree")
    assert n >= 30
    assert not problems, "\n".join(problems)


if __name__ == "__main__":  # pragma: no cover - dump a request to replay one by hand
    json.dump({"cases": alpha_cases()}, sys.stdout)


def test_get_elapsed_duration_matches_composer() -> None:
    """``State.get_elapsed_duration()`` on a real Composer State, for random runs and timestamps."""
    python = _composer_python()
    rng = np.random.default_rng(SEED)
    cases = []
    for _ in range(200):
        unit = str(rng.choice(["ep", "ba", "sp", "tok"]))
        total = int(rng.integers(1, 10_000))
        counters = {k: int(rng.integers(0, 2 * total)) for k in ("epoch", "batch", "sample", "token")}
        cases.append({"max_duration": f"{total}{unit}", **counters})
    script = (
        "import json, sys, torch\n"
        "from composer.core import State, Timestamp\n"
        "from composer.devices import DeviceCPU\n"
        "out = []\n"
        "for c in json.loads(sys.stdin.read()):\n"
        "    s = State(model=torch.nn.Linear(1, 1), rank_zero_seed=0, run_name='x', device=DeviceCPU(),\n"
        "              max_duration=c['max_duration'])\n"
        "    s.timestamp = Timestamp(epoch=c['epoch'], batch=c['batch'], sample=c['sample'], token=c['token'])\n"
        "    e = s.get_elapsed_duration()\n"
        "    out.append([e.value, e.unit.value])\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run([python, "-c", script], input=json.dumps(cases), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    theirs = json.loads(proc.stdout.splitlines()[-1])
    for case, (value, unit) in zip(cases, theirs, strict=True):
        stamp = Timestamp(epoch=case["epoch"], batch=case["batch"], sample=case["sample"], token=case["token"])
        mine = State(case["max_duration"], timestamp=stamp).get_elapsed_duration()
        assert (mine.value, mine.unit.value) == (value, unit), case
