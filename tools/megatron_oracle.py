"""Ask the real megatron-core for the LR of every iteration of a Megatron-LM run, as JSON.

Run it with a Python that has megatron-core and torch (``tools/envs/megatron.sh`` builds one; see
docs/megatron.md); it is not part of ``sched_cli`` and imports nothing from it. One JSON request
on stdin, one line of JSON on stdout; whatever the libraries print goes to stderr.

    python tools/megatron_oracle.py < request.json

Request: ``{"cases": [case, ...]}``; a case has ``args`` (Megatron's argument names with ``_``,
as ``argparse`` would hold them; missing ones take megatron-core 0.16.1's defaults), ``world_size``
(or ``null`` when unknown: then ``global_batch_size`` must be given and divisibility is not
checked), and ``skipped`` (0-based iterations whose update fails, as an fp16 overflow does).

What runs is megatron-core's own code: ``OptimizerParamScheduler`` on a torch optimizer, and the
num-microbatches calculator (``init_num_microbatches_calculator``, ``update_num_microbatches``,
``get_num_microbatches``, ``get_current_global_batch_size``), which need no GPU. The driver around
them is ``megatron/training`` at tag ``core_v0.16.1``, which the PyPI package does not ship and
which cannot be imported without a GPU stack; these functions transcribe it line by line:
``validate_args``' checks of the schedule flags, ``update_train_iters``,
``get_optimizer_param_scheduler`` and the loop of ``train`` / ``train_step`` (microbatch update
from the consumed samples, ``iterations_to_skip``, the scheduler stepped by
``num_microbatches x micro_batch_size x data_parallel_size`` after a successful update,
consumed samples advanced every iteration, ``exit_interval``).

Answer: ``{"results": [...]}``, per case ``{"lrs": [...], "samples": [...], "iterations": int}``
(``lrs[i]``: the optimizer's LR while iteration ``i`` trains; ``samples[i]``: consumed samples
before it) or ``{"error": "Type: message"}``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import warnings
from types import SimpleNamespace
from typing import Any

# megatron-core 0.16.1's defaults for what the schedule reads (training_config.SchedulerConfig,
# TrainingConfig, arguments.py's --lr / --min-lr).
DEFAULTS = {
    "train_iters": None,
    "train_samples": None,
    "global_batch_size": None,
    "micro_batch_size": None,
    "rampup_batch_size": None,
    "decrease_batch_size_if_needed": False,
    "tensor_model_parallel_size": 1,
    "pipeline_model_parallel_size": 1,
    "context_parallel_size": 1,
    "lr": None,
    "min_lr": 0.0,
    "lr_warmup_init": 0.0,
    "lr_warmup_iters": 0,
    "lr_warmup_samples": 0,
    "lr_warmup_fraction": None,
    "lr_decay_iters": None,
    "lr_decay_samples": None,
    "lr_decay_style": "linear",
    "lr_wsd_decay_style": "exponential",
    "lr_wsd_decay_iters": None,
    "lr_wsd_decay_samples": None,
    "iterations_to_skip": [],
    "exit_interval": None,
    "start_weight_decay": 0.01,
    "end_weight_decay": 0.01,
    "weight_decay_incr_style": "constant",
}


def _validate(args: SimpleNamespace, world_size: int | None) -> None:
    """``validate_args``, the parts about batch sizes and the schedule."""
    model = args.tensor_model_parallel_size * args.pipeline_model_parallel_size * args.context_parallel_size
    args.data_parallel_size = None
    if world_size is not None:
        assert world_size % model == 0, f"world size ({world_size}) is not divisible by total_model_size ({model})"
        args.data_parallel_size = world_size // model
    if args.global_batch_size is None:
        args.global_batch_size = args.micro_batch_size * args.data_parallel_size
    assert args.global_batch_size > 0
    if args.train_iters:
        assert args.train_samples is None, "expected iteration-based training"
        assert args.lr_decay_samples is None, "expected iteration-based learning rate decay"
        assert args.lr_warmup_samples == 0, "expected iteration-based learning rate warmup"
        assert args.rampup_batch_size is None, "expected no batch-size rampup for iteration-based training"
        if args.lr_warmup_fraction is not None:
            assert args.lr_warmup_iters == 0, "can only specify one of lr-warmup-fraction and lr-warmup-iters"
    if args.train_samples:
        assert args.train_iters is None, "expected sample-based training"
        assert args.lr_decay_iters is None, "expected sample-based learning rate decay"
        assert args.lr_warmup_iters == 0, "expected sample-based learnig rate warmup"
        if args.lr_warmup_fraction is not None:
            assert args.lr_warmup_samples == 0, "can only specify one of lr-warmup-fraction and lr-warmup-samples"
    if args.lr is not None:
        assert args.min_lr <= args.lr


def _update_train_iters(args: SimpleNamespace, nmc: Any) -> None:
    """``training.update_train_iters``."""
    if args.train_iters:
        return
    if args.rampup_batch_size is None:
        args.train_iters = args.train_samples // args.global_batch_size
    else:
        iterations = 0
        consumed_samples = 0
        while consumed_samples <= int(args.rampup_batch_size[2]) and consumed_samples <= args.train_samples:
            nmc.update_num_microbatches(consumed_samples, consistency_check=False)
            consumed_samples += nmc.get_current_global_batch_size()
            iterations += 1
        nmc.update_num_microbatches(0, consistency_check=False)
        if args.train_samples > consumed_samples:
            iterations += (args.train_samples - consumed_samples) // args.global_batch_size
        args.train_iters = iterations


def _scheduler(args: SimpleNamespace, optimizer: Any, nmc: Any) -> Any:
    """``training.get_optimizer_param_scheduler``."""
    from megatron.core.optimizer_param_scheduler import OptimizerParamScheduler

    if args.train_iters:
        if args.lr_decay_iters is None:
            args.lr_decay_iters = args.train_iters
        lr_decay_steps = args.lr_decay_iters * args.global_batch_size
        wd_incr_steps = args.train_iters * args.global_batch_size
        wsd_decay_steps = None
        if args.lr_wsd_decay_iters is not None:
            wsd_decay_steps = args.lr_wsd_decay_iters * args.global_batch_size
        if args.lr_warmup_fraction is not None:
            lr_warmup_steps = args.lr_warmup_fraction * lr_decay_steps
        else:
            lr_warmup_steps = args.lr_warmup_iters * args.global_batch_size
    elif args.train_samples:
        _update_train_iters(args, nmc)
        if args.lr_decay_samples is None:
            args.lr_decay_samples = args.train_samples
        lr_decay_steps = args.lr_decay_samples
        wd_incr_steps = args.train_samples
        wsd_decay_steps = args.lr_wsd_decay_samples
        if args.lr_warmup_fraction is not None:
            lr_warmup_steps = args.lr_warmup_fraction * lr_decay_steps
        else:
            lr_warmup_steps = args.lr_warmup_samples
    else:
        raise Exception("either train-iters or train-samples should be provided.")
    return OptimizerParamScheduler(
        optimizer,
        init_lr=args.lr_warmup_init,
        max_lr=args.lr,
        min_lr=args.min_lr,
        lr_warmup_steps=lr_warmup_steps,
        lr_decay_steps=lr_decay_steps,
        lr_decay_style=args.lr_decay_style,
        start_wd=args.start_weight_decay,
        end_wd=args.end_weight_decay,
        wd_incr_steps=wd_incr_steps,
        wd_incr_style=args.weight_decay_incr_style,
        use_checkpoint_opt_param_scheduler=False,
        override_opt_param_scheduler=False,
        wsd_decay_steps=wsd_decay_steps,
        lr_wsd_decay_style=args.lr_wsd_decay_style,
    )


def run_case(case: dict[str, Any], log: Any = None) -> dict[str, Any]:
    """``log(iteration, consumed_samples, lr)``, if given, is called where ``train`` calls
    ``training_log``: after each trained iteration, with the iterations done, the samples consumed
    and the optimizer's LR after the scheduler stepped (tools/logs_oracle.py writes Megatron's
    TensorBoard tags from it)."""
    import torch
    from megatron.core import num_microbatches_calculator as nmc

    args = SimpleNamespace(**{**DEFAULTS, **case["args"]})
    world_size = case.get("world_size")
    _validate(args, world_size)
    dp = args.data_parallel_size
    mbs = args.micro_batch_size
    if dp is None:  # unknown world size: micro batches of one sample on one rank, so every size divides
        dp, mbs = 1, 1
    nmc.destroy_num_microbatches_calculator()
    nmc.init_num_microbatches_calculator(
        0, args.rampup_batch_size, args.global_batch_size, mbs, dp, args.decrease_batch_size_if_needed
    )
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.0)
    scheduler = _scheduler(args, optimizer, nmc)
    _update_train_iters(args, nmc)
    skipped = set(case.get("skipped", []))
    lrs, samples = [], []
    consumed = 0
    iteration = 0
    while iteration < args.train_iters:
        nmc.update_num_microbatches(consumed, consistency_check=False)
        nmc.update_num_microbatches(consumed, consistency_check=True)
        lrs.append(optimizer.param_groups[0]["lr"])
        samples.append(consumed)
        batch = dp * mbs * nmc.get_num_microbatches()
        if iteration in args.iterations_to_skip:
            iteration += 1
            consumed += batch
            continue
        if iteration not in skipped:  # train_step: update_successful
            increment = nmc.get_num_microbatches() * mbs * dp
            scheduler.step(increment=increment)
        iteration += 1
        consumed += batch
        if log is not None:
            log(iteration, consumed, optimizer.param_groups[0]["lr"])
        if args.exit_interval and iteration % args.exit_interval == 0:
            break
    return {"lrs": lrs, "samples": samples, "iterations": args.train_iters}


def main() -> None:
    request = json.load(sys.stdin)
    logging.disable(logging.CRITICAL)
    results = []
    with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):
        warnings.simplefilter("ignore")
        for case in request["cases"]:
            try:
                results.append(run_case(case))
            except BaseException as exc:  # noqa: BLE001 - every failure is an answer
                if isinstance(exc, KeyboardInterrupt):
                    raise
                results.append({"error": f"{type(exc).__name__}: {exc}"})
    print(json.dumps({"results": results}))


if __name__ == "__main__":
    main()
