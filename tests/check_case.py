"""The plan most of ``sched check``'s tests use, and its LRs computed by hand.

Hugging Face's linear schedule, 10 updates, 2 of warmup, peak 1e-3: the LR update u trains with
is 1e-3 * u / 2 during the warmup, then 1e-3 * (10 - u) / 8.
"""

from __future__ import annotations

import json
from pathlib import Path

HAND = [0.0, 5e-4, 1e-3, 8.75e-4, 7.5e-4, 6.25e-4, 5e-4, 3.75e-4, 2.5e-4, 1.25e-4]

HF_LINEAR = {
    "output_dir": "x",
    "learning_rate": 1e-3,
    "lr_scheduler_type": "linear",
    "warmup_steps": 2,
    "max_steps": 10,
}


def write_plan(directory: Path) -> Path:
    """``directory/args.json``: the plan whose LRs are :data:`HAND`."""
    path = directory / "args.json"
    path.write_text(json.dumps(HF_LINEAR))
    return path
