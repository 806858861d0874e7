"""Ask the real MMEngine for the LR of every training iteration, as JSON.

Run it with a Python that can ``import mmengine`` (see docs/mmengine-parity.md and
tools/envs/mmengine.sh); it is not part of ``sched_cli`` and imports nothing from it. One JSON
request on stdin, one line of JSON on stdout; anything MMEngine prints goes to stderr.

    python tools/mmengine_oracle.py < request.json

Request: ``{"cases": [case, ...]}``; a case has ``param_scheduler`` (MMEngine's list of
scheduler configs), ``train_loop`` (``"epoch"`` or ``"iter"``), ``max_epochs`` or
``max_iters``, ``epoch_length`` (iterations per epoch) and ``lr``.

For each case the schedulers are built by MMEngine's own ``Runner._build_param_scheduler``
(default ``end`` from the loop, ``convert_to_iter_based`` through the ``PARAM_SCHEDULERS``
registry) on a real ``OptimWrapper`` around ``torch.optim.SGD``, and driven by MMEngine's own
``ParamSchedulerHook``: ``after_train_iter`` after each iteration, ``after_train_epoch`` after
each epoch (once, after the last iteration, for an iteration-based loop), as the train loops call
them. The LR is recorded at the start of each iteration. Answer: ``{"results": [...]}``, per case
``{"lrs": [...]}`` or ``{"lrs": [...so far], "error": "Type: message"}``.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import sys
import warnings
from typing import Any


class _Runner:
    """Just what ``Runner._build_param_scheduler`` and ``ParamSchedulerHook`` read of a runner."""

    def __init__(self, loop: Any, max_epochs: int, max_iters: int, epoch_length: int) -> None:
        self._train_loop = loop
        self.max_epochs = max_epochs
        self.max_iters = max_iters
        self.train_dataloader = range(epoch_length)  # only its len() is read
        self.logger = logging.getLogger("mmengine_oracle")
        self.param_schedulers = None


def _case(case: dict[str, Any]) -> dict[str, Any]:
    import torch
    from mmengine.hooks import ParamSchedulerHook
    from mmengine.optim import OptimWrapper
    from mmengine.runner import Runner
    from mmengine.runner.loops import EpochBasedTrainLoop, IterBasedTrainLoop

    loop_kind = case["train_loop"]
    length = int(case["epoch_length"])
    if loop_kind == "epoch":
        max_epochs = int(case["max_epochs"])
        max_iters = max_epochs * length
        loop = object.__new__(EpochBasedTrainLoop)  # a BaseLoop, so that the Runner sets default ends
    else:
        max_epochs, max_iters = 1, int(case["max_iters"])
        loop = object.__new__(IterBasedTrainLoop)
    runner = _Runner(loop, max_epochs, max_iters, length)
    param = torch.nn.Parameter(torch.zeros(1))
    wrapper = OptimWrapper(torch.optim.SGD([param], lr=case["lr"]))
    lrs: list[float] = []
    try:
        runner.param_schedulers = Runner._build_param_scheduler(runner, copy.deepcopy(case["param_scheduler"]), wrapper)
        hook = ParamSchedulerHook()
        for i in range(max_iters):
            lrs.append(wrapper.optimizer.param_groups[0]["lr"])
            wrapper.optimizer.step()
            hook.after_train_iter(runner, batch_idx=i)
            if loop_kind == "epoch" and (i + 1) % length == 0:
                hook.after_train_epoch(runner)
        if loop_kind == "iter":
            hook.after_train_epoch(runner)
    except Exception as exc:  # noqa: BLE001 - every failure is part of the answer
        return {"lrs": lrs, "error": f"{type(exc).__name__}: {exc}"}
    return {"lrs": lrs}


def main() -> None:
    request = json.load(sys.stdin)
    results = []
    with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("mmengine_oracle").setLevel(logging.ERROR)
        for case in request["cases"]:
            results.append(_case(case))
    print(json.dumps({"results": results}))


if __name__ == "__main__":
    main()
