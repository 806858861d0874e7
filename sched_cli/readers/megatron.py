"""Read a Megatron-LM launch (a script, a file of flags, or a functional-test ``model_config.yaml``).

Semantics of megatron-core 0.16.1 and ``megatron/training`` at its tag ``core_v0.16.1``
(``arguments.py``, ``training.py``: ``get_optimizer_param_scheduler``, ``update_train_iters``,
``train``/``train_step``; ``num_microbatches_calculator.py``):

- the run is ``--train-iters`` iterations, or ``--train-samples`` turned into iterations as
  ``update_train_iters`` does (``train_samples // global_batch_size``, or through the ramp);
- the global batch size is ``--global-batch-size``, else micro batch x data-parallel size; the
  data-parallel size is the world size (``--devices``, or torchrun's ``--nproc_per_node`` x
  ``--nnodes``) over tensor x pipeline x context parallel sizes;
- the scheduler counts samples: iteration-based lengths are iterations x the *final* global
  batch size; ``--lr-warmup-fraction`` is a fraction of the decay length; the decay length
  defaults to the run's;
- each iteration whose update succeeds steps the scheduler by the samples it trained on (the
  running global batch size); iteration 1 trains at the LR of ``step(0)``;
- ``--rampup-batch-size START INCREMENT SAMPLES`` (sample-based runs only) makes the batch size
  ``START + int(consumed / (SAMPLES / n)) x INCREMENT`` until ``SAMPLES`` are consumed;
- iterations in ``--iterations-to-skip`` and the ``--skipped-steps`` given to sched consume
  samples without stepping the scheduler; ``--exit-interval`` and the first
  ``--phase-transition-iterations`` end the run early.

Rows: ``batch`` is Megatron's 0-based ``iteration`` when the iteration starts (its log says
``iteration batch + 1``), ``sample`` the consumed samples before it, ``token`` samples x
``--seq-length``. Flags of other programs in the script are ignored; Megatron flags that may
change the schedule and are not modelled are named in notes.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from sched_cli.geometry import BatchSchedule
from sched_cli.readers import ReaderError, Reading, unknown_key_notes
from sched_cli.readers.megatron_fields import OTHER_FLAGS
from sched_cli.readers.shell import ShellError, Word, parse_script
from sched_cli.schedulers.megatron import DECAY_STYLES, WSD_DECAY_STYLES

__all__ = ["NAME", "TITLE", "TRAINER", "REFERENCE", "CONSUMES", "KEYS", "IRRELEVANT", "recognise", "read", "patched"]
__all__ += ["load_text", "accounted", "Flags", "ramp_schedule", "parse_skipped"]

NAME = "megatron"
TITLE = "Megatron-LM"
TRAINER = "megatron"
REFERENCE = "megatron"
_NO_EPOCHS = (
    "Megatron-LM counts its run in iterations or samples (--train-iters, --train-samples), never in epochs of a "
    "dataset: the dataset's size does not change its schedule"
)
#: Options its files have no use for (the reader contract refuses them).
NOT_FOR = {
    "step_every": "Megatron-LM steps its scheduler after every iteration, by the samples it consumed",
    # The global batch (--batch-size, the file's --global-batch-size) is what counts samples; a per-device batch
    # would only set the sample column apart from the schedule the reader computed.
    "device_batch_size": "its batch is the file's --global-batch-size (--micro-batch-size only splits it); "
    "give --batch-size N for another global batch",
    "dataset_size": _NO_EPOCHS,
    "dataloader_len": _NO_EPOCHS,
    "drop_last": _NO_EPOCHS,
}
#: Command-line options applied here: world size, ``--lr``, global batch size, skipped iterations.
CONSUMES = ("devices", "lr", "batch_size", "skipped_steps")

#: Flags read, with their number of values (``None``: a switch).
_ARITY: dict[str, int | None] = {
    "--train-iters": 1, "--train-samples": 1, "--global-batch-size": 1, "--micro-batch-size": 1,
    "--rampup-batch-size": 3, "--decrease-batch-size-if-needed": None,
    "--tensor-model-parallel-size": 1, "--pipeline-model-parallel-size": 1, "--context-parallel-size": 1,
    "--lr": 1, "--min-lr": 1, "--lr-warmup-init": 1, "--lr-warmup-iters": 1, "--lr-warmup-samples": 1,
    "--lr-warmup-fraction": 1, "--lr-decay-iters": 1, "--lr-decay-samples": 1, "--lr-decay-style": 1,
    "--lr-wsd-decay-style": 1, "--lr-wsd-decay-iters": 1, "--lr-wsd-decay-samples": 1,
    "--seq-length": 1, "--fp16": None, "--iterations-to-skip": -1, "--exit-interval": 1,
    "--phase-transition-iterations": 1, "--yaml-cfg": 1, "--batch-size": 1, "--warmup": 1,
    "--nproc_per_node": 1, "--nproc-per-node": 1, "--nnodes": 1,
}  # fmt: skip
KEYS = (*_ARITY, "MODEL_ARGS")
#: Top-level keys of a functional-test ``model_config.yaml`` beside ``MODEL_ARGS`` (the harness's own).
_HARNESS = ("ENV_VARS", "MODEL_ENV_VARS", "TEST_TYPE", "METRICS", "MODE", "BEFORE_SCRIPT", "AFTER_SCRIPT")
_HARNESS += ("THROUGHPUT_TEST_PARAMS", "BASE_MODEL_ARGS")
#: Megatron (and torchrun) flags whose names sound like the schedule but that do not change the LR
#: of any iteration: optimizer, weight decay, evaluation, inference, communication, logging...
IRRELEVANT = (
    "--accumulate-allreduce-grads-in-fp32", "--adam-beta1", "--adam-beta2", "--adlr-autoresume",
    "--adlr-autoresume-interval", "--allow-ambiguous-pad-tokens", "--async-tensor-model-parallel-allreduce",
    "--batch-invariant-mode", "--batch-p2p-comm", "--batch-p2p-sync", "--beta-fast", "--beta-slow", "--ckpt-step",
    "--cuda-graph-retain-backward-graph", "--cuda-graph-warmup-steps", "--ddp-reduce-scatter-with-fp32-accumulation",
    "--dino-warmup-teacher-temp", "--dino-warmup-teacher-temp-epochs", "--disable-symmetric-registration",
    "--end-weight-decay", "--start-weight-decay", "--weight-decay", "--weight-decay-incr-style",
    "--no-weight-decay-cond-type", "--eval-iters", "--fsdp-manual-registration", "--ft-num-warmup-iters",
    "--gradient-accumulation-fusion", "--no-gradient-accumulation-fusion", "--hybrid-attention-ratio",
    "--hybrid-mlp-ratio", "--indexer-batch-size", "--inference-batch-times-seqlen-threshold",
    "--inference-max-batch-size", "--init-model-with-meta-device", "--inprocess-active-world-size",
    "--inprocess-max-iterations", "--iter-per-epoch", "--layernorm-zero-centered-gamma",
    "--log-world-size-to-tensorboard", "--max-tokens-to-oom", "--moe-router-topk-limited-devices",
    "--muon-num-ns-steps", "--microbatch-group-size-per-virtual-pipeline-stage",
    "--microbatch-group-size-per-vp-stage", "--num-microbatches-with-partial-activation-checkpoints",
    "--overlap-p2p-comm-warmup-flush", "--overlap-p2p-communication-warmup-flush",
    "--overlap-param-gather-with-optimizer-step", "--profile-step-end", "--profile-step-start",
    "--save-retain-interval", "--straggler-ctrlr-port", "--tiktoken-num-special-tokens", "--tiktoken-special-tokens",
    "--tokenizer-hf-include-special-tokens", "--tokenizer-metadata", "--tokenizer-special-tokens",
    "--bf16", "--load", "--save", "--save-interval", "--eval-interval", "--log-interval", "--data-path",
    "--expert-model-parallel-size", "--expert-tensor-parallel-size", "--virtual-pipeline-model-parallel-size",
    "--node_rank", "--node-rank", "--master_addr", "--master-addr", "--master_port", "--master-port",
    "--rdzv_backend", "--rdzv-backend", "--rdzv_endpoint", "--rdzv-endpoint", "--rdzv_id", "--rdzv-id",
    *_HARNESS,
    *OTHER_FLAGS,
)  # fmt: skip
#: Megatron flags that change the schedule in ways sched does not model, and why.
_NOT_MODELLED = {
    "--decoupled-lr": "gives the embedding and output layers their own LR schedule; only --lr's is shown",
    "--decoupled-min-lr": "gives the embedding and output layers their own LR schedule; only --lr's is shown",
    "--head-lr-mult": "scales the LR of the output head's parameters; only --lr's schedule is shown",
    "--exit-duration-in-mins": "ends the run after a wall-clock time, which a preview cannot know",
    "--use-checkpoint-opt-param-scheduler": "takes the scheduler's values from the checkpoint when resuming",
    "--use-checkpoint-opt_param-scheduler": "takes the scheduler's values from the checkpoint when resuming",
    "--perform-rl-step": "RL training counts its own samples per step",
    "--rl-use-sequence-packing": "steps the scheduler by packed bins, not samples",
    "--step-batch-size-schedule": "is a flag of Megatron-LM's main branch, not of megatron-core 0.16.1",
}
#: Flags that make the launch one sched cannot preview exactly (or that Megatron itself refuses).
_REFUSED = {
    "--yaml-cfg": "the flags come from that YAML file (Megatron's --yaml-cfg format), which sched does not read",
    "--batch-size": "Megatron refuses it: use --micro-batch-size",
    "--warmup": "Megatron refuses it: use --lr-warmup-iters or --lr-warmup-samples",
}
_SAMPLE_ONLY = ("--train-samples", "--lr-decay-samples", "--lr-warmup-samples", "--rampup-batch-size")


class Flags:
    """A Megatron command line: each flag's value words (the last occurrence wins, as in argparse)."""

    def __init__(self, source: str, values: dict[str, list[Word]], notes: list[str] | None = None) -> None:
        self.source = source
        self.values = values
        self.notes = notes or []

    def __contains__(self, flag: str) -> bool:
        return flag in self.values

    def words(self, flag: str) -> list[str] | None:
        if flag not in self.values:
            return None
        arity = _ARITY.get(flag)
        expected = 0 if arity is None else arity
        words = self.values[flag] if arity == -1 else self.values[flag][:expected]
        for word in words:
            if word.unresolved:
                raise ReaderError(
                    f"{self.source}: {flag} {word.text}: depends on {', '.join(word.unresolved)}, which the file "
                    "does not give a literal value (it comes from the environment or a command); assign it in the "
                    "file or write the value"
                )
        if (arity == -1 and not words) or (arity != -1 and len(words) < expected):
            raise ReaderError(f"{self.source}: {flag}: expected {max(expected, 1)} value(s), got {len(words)}")
        return [w.text for w in (words if arity == -1 else words[:expected])]

    def switch(self, flag: str) -> bool:
        return flag in self.values and bool(self.words(flag) is not None)

    def number(self, flag: str, kind: type = int, default: Any = None) -> Any:
        words = self.words(flag)
        if words is None:
            return default
        return _parse(self.source, flag, words[0], kind)

    def text(self, flag: str, default: str) -> str:
        words = self.words(flag)
        return default if words is None else words[0]


def _parse(source: str, flag: str, text: str, kind: type) -> Any:
    try:
        value = kind(text)
    except ValueError:
        raise ReaderError(
            f"{source}: {flag} {text}: expected {'a whole number' if kind is int else 'a number'}"
        ) from None
    if kind is float and not math.isfinite(value):
        raise ReaderError(f"{source}: {flag} {text}: expected a finite number")
    return value


# -- the two forms of a launch ---------------------------------------------------------------------
def load_text(path: Path) -> Flags:
    """A launch script or a file of flags: the flags of its commands (see :mod:`.shell`)."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReaderError(f"{source}: cannot read it: {exc}") from None
    try:
        script = parse_script(text)
    except ShellError as exc:
        raise ReaderError(f"{source}: {exc}; sched reads launch scripts without running them") from None
    values: dict[str, list[Word]] = {}
    notes = []
    for command in script.commands:
        flag: str | None = None
        # A command without a --flag (``if [[ -z $WORKSPACE ]]``, ``mkdir -p $OUT``, ``echo $X``) launches nothing
        # whose flags Megatron reads: its unresolved words hide none.
        launches = any(word.text.startswith("--") for word in command)
        for word in command:
            name, eq, rest = word.text.partition("=")
            if name.startswith("--") and "$" not in name:
                flag = name
                values[flag] = [Word(rest, word.unresolved)] if eq else []
            elif word.unresolved and launches and (flag is None or _complete(flag, values[flag])):
                notes.append(_hidden_flags_note(source, word))
            elif flag is not None:
                values[flag].append(word)
    for name, default in script.defaults.items():
        notes.append(
            f"{source}: {name} is not assigned in the script; its default {default!r} (${{{name}:-...}}) is used"
        )
    return Flags(source, values, sorted(set(notes), key=notes.index))


def patched(data: Flags, patch: tuple[tuple[str, Any], ...]) -> Flags:
    """A launch's flags with each ``(flag, value)`` of a what-if set (``None``: the flag dropped), for
    :attr:`sched_cli.specs.Overrides.patch`."""
    values = dict(data.values)
    for flag, value in patch:
        if value is None:
            values.pop(flag, None)
        else:
            values[flag] = [Word(str(value))]
    return Flags(data.source, values, list(data.notes))


def _complete(flag: str, words: list[Word]) -> bool:
    """Whether a flag sched reads has all its values: a word after them is not one of them."""
    if flag not in _ARITY:
        return False
    arity = _ARITY[flag]
    return arity is None or (arity != -1 and len(words) >= arity)


def _hidden_flags_note(source: str, word: Word) -> str:
    return (
        f"{source}: {word.text} depends on {', '.join(word.unresolved)}, not assigned in the script: "
        "any Megatron flags it holds are not read"
    )


def _yaml_flags(data: dict[str, Any], source: str) -> Flags:
    """``MODEL_ARGS`` (or the top level) of a functional-test ``model_config.yaml``, turned into words
    as Megatron-LM's ``_run_training.sh`` does: ``true`` is the bare flag, ``[a b c]`` three words."""
    args = data.get("MODEL_ARGS", data)
    values: dict[str, list[Word]] = {}
    for key, value in args.items():
        if not isinstance(key, str) or not key.startswith("--"):
            continue
        if value is True:
            values[key] = []
        elif value is False or value is None or value == "":
            continue  # yq drops empty values; `false` is not a switch Megatron would get
        else:
            texts = [str(v) for v in value] if isinstance(value, list) else None
            if texts is None:
                text = str(value).strip()
                texts = text[1:-1].split() if text.startswith("[") and text.endswith("]") else [text]
            values[key] = [Word(t, _environment(t)) for t in texts]
    return Flags(source, values)


def _environment(text: str) -> tuple[str, ...]:
    """The variables a YAML value takes from the test harness's environment (``${DATA_PATH}/x``)."""
    return tuple(f"${part.split('}')[0].lstrip('{')}" for part in text.split("$")[1:]) if "$" in text else ()


def accounted(data: Any) -> list[tuple[str, dict[str, Any]]]:
    """Where a model_config.yaml's keys are: its flags (``MODEL_ARGS``) and the harness's top level."""
    if isinstance(data, dict) and isinstance(data.get("MODEL_ARGS"), dict):
        return [("MODEL_ARGS", data["MODEL_ARGS"]), ("", data)]
    return [("", data)] if isinstance(data, dict) else []


def recognise(data: Any) -> bool:
    """A mapping of Megatron flags: keys with a leading ``--`` under ``MODEL_ARGS`` or at the top."""
    if isinstance(data, Flags):
        return True
    if not isinstance(data, dict):
        return False
    args = data.get("MODEL_ARGS", data)
    return isinstance(args, dict) and any(isinstance(k, str) and k.startswith("--") for k in args)


# -- the run ----------------------------------------------------------------------------------------
def read(data: Any, source: str, options: dict[str, Any]) -> Reading:
    """The sched spec mapping of a Megatron launch (see the module docstring)."""
    flags = data if isinstance(data, Flags) else _yaml_flags(data, source)
    if not isinstance(data, Flags) and not recognise(data):
        raise ReaderError(f"{source}: no Megatron flags (keys such as --lr under MODEL_ARGS or at the top level)")
    notes = list(flags.notes)
    facts: list[str] = []
    for flag, meaning in _REFUSED.items():
        if flag in flags:
            raise ReaderError(f"{source}: {flag}: {meaning}")
    for flag, why in _NOT_MODELLED.items():
        if flag in flags:
            notes.append(f"{source}: {flag} {why}; sched does not model it")
    known = set(KEYS) | set(IRRELEVANT) | set(_NOT_MODELLED)
    notes += unknown_key_notes({k: None for k in flags.values}, source, TITLE, known)
    if isinstance(data, dict) and isinstance(data.get("MODEL_ARGS"), dict):  # the harness's keys beside the flags
        notes += unknown_key_notes({k: None for k in data if not str(k).startswith("--")}, source, TITLE, known)

    iters_run = flags.number("--train-iters")
    samples_run = flags.number("--train-samples")
    if bool(iters_run) == bool(samples_run):
        raise ReaderError(f"{source}: --train-iters / --train-samples: give exactly one (Megatron needs one)")
    _check_exclusive(flags, source, iters_run is not None)
    gbs, dp, mbs = _batch(flags, source, options)
    decrease = flags.switch("--decrease-batch-size-if-needed")
    unit = mbs * dp if mbs and dp else None
    running = (gbs // unit) * unit if decrease and unit else gbs
    if unit and not decrease and gbs % unit:
        raise ReaderError(
            f"{source}: --global-batch-size {gbs} is not divisible by micro batch x data-parallel size = {mbs} x {dp}; "
            "Megatron asserts it (or add --decrease-batch-size-if-needed)"
        )
    if unit and running < 1:
        raise ReaderError(f"{source}: --global-batch-size {gbs} is less than micro batch x data-parallel size {unit}")
    ramp = flags.words("--rampup-batch-size")
    if ramp is not None:
        start, increment, ramp_samples = (_parse(source, "--rampup-batch-size", w, int) for w in ramp)
        schedule, iterations = ramp_schedule(start, increment, ramp_samples, gbs, samples_run, unit, decrease, source)
        facts.append(
            f"batch-size ramp: {schedule.sizes[0]:,} to {schedule.final_size:,} samples per iteration over "
            f"{len(schedule.sizes) - 1:,} steps, the full size from iteration {schedule.starts[-1]:,}"
        )
    else:
        schedule = BatchSchedule((0,), (running,))
        iterations = iters_run if iters_run else samples_run // gbs
    if iterations < 1:
        raise ReaderError(f"{source}: --train-samples {samples_run} is less than one global batch of {gbs}")

    config = _scheduler(flags, source, options, iters_run, samples_run, gbs, facts)
    skipped = _skipped(flags, source, options, notes)
    if skipped:
        config["skipped"] = skipped
    length = _length(flags, iterations, notes, source)
    seq = flags.number("--seq-length")
    if seq is None:
        notes.append(f"{source}: no --seq-length: the token column counts one token per sample")
    facts.insert(
        0, f"{iterations:,} iterations; global batch size {gbs:,}" + (f", data-parallel size {dp:,}" if dp else "")
    )
    spec: dict[str, Any] = {
        "title": f"Megatron-LM: {Path(source).name}",
        "trainer": "megatron",
        "max_duration": f"{length}ba",
        "seq_len": seq or 1,
        "lr": config["lr"],
        "schedulers": [config],
    }
    if len(schedule.sizes) > 1:
        spec["batch_schedule"] = schedule.as_dict()
    else:
        spec["batch_size"] = schedule.final_size
    return Reading(spec, notes, facts)


def _check_exclusive(flags: Flags, source: str, by_iterations: bool) -> None:
    """``validate_args``' assertions: an iteration-based run takes no sample-based flags, and back."""
    for flag in _SAMPLE_ONLY if by_iterations else ("--train-iters", "--lr-decay-iters", "--lr-warmup-iters"):
        value = flags.words(flag)
        if value is not None and value != ["0"]:
            kind = "iteration" if by_iterations else "sample"
            raise ReaderError(f"{source}: {flag}: Megatron refuses it in a {kind}-based run (it asserts so)")
    if flags.words("--lr-warmup-fraction") is not None:
        other = "--lr-warmup-iters" if by_iterations else "--lr-warmup-samples"
        if flags.number(other, int, 0):
            raise ReaderError(f"{source}: {other}: give it or --lr-warmup-fraction, not both (Megatron asserts so)")


def _batch(flags: Flags, source: str, options: dict[str, Any]) -> tuple[int, int | None, int | None]:
    """The global batch size, the data-parallel size (``None`` when unknown) and the micro batch."""
    world = options.get("devices")
    if world is None and ("--nproc_per_node" in flags or "--nproc-per-node" in flags):
        per_node = flags.number("--nproc_per_node" if "--nproc_per_node" in flags else "--nproc-per-node")
        world = per_node * flags.number("--nnodes", int, 1)
    model = 1
    for flag in ("--tensor-model-parallel-size", "--pipeline-model-parallel-size", "--context-parallel-size"):
        model *= flags.number(flag, int, 1)
    dp = None
    if world is not None:
        if world % model:
            raise ReaderError(
                f"{source}: the world size {world} is not divisible by tensor x pipeline x context parallel = {model}"
            )
        dp = world // model
    mbs = flags.number("--micro-batch-size")
    gbs = options.get("batch_size") or flags.number("--global-batch-size")
    if gbs is None:
        if mbs is None or dp is None:
            raise ReaderError(
                f"{source}: --global-batch-size is not given, and micro batch x data-parallel size needs "
                "--micro-batch-size and the world size (--devices, or torchrun's --nproc_per_node)"
            )
        gbs = mbs * dp
    if gbs < 1:
        raise ReaderError(f"{source}: --global-batch-size {gbs} must be at least 1")
    return gbs, dp, mbs


def ramp_schedule(
    start: int,
    increment: int,
    ramp_samples: int,
    gbs: int,
    train_samples: int,
    unit: int | None = None,
    decrease: bool = False,
    source: str = "megatron",
) -> tuple[BatchSchedule, int]:
    """The batch size of every iteration under ``--rampup-batch-size``, and the run's iterations.

    As ``RampupBatchsizeNumMicroBatchesCalculator.update`` sets it from the consumed samples
    before each iteration (``unit``: micro batch x data-parallel size, rounding down when
    ``decrease``), and ``update_train_iters`` counts the iterations of ``train_samples``.
    """
    flag = f"{source}: --rampup-batch-size {start} {increment} {ramp_samples}"
    if start < 1 or increment < 1 or ramp_samples < 1:
        raise ReaderError(f"{flag}: each value must be at least 1 (Megatron divides by the ramp's samples)")
    if gbs < start or (gbs - start) % increment:
        raise ReaderError(f"{flag}: global batch size {gbs} minus the start must be a multiple of the increment")
    steps = (gbs - start) // increment
    if steps == 0:
        raise ReaderError(f"{flag}: the start equals the global batch size: no ramp (Megatron divides by zero)")
    per = ramp_samples / steps  # float, as the calculator computes it

    def current(consumed: int) -> int:
        return gbs if consumed > ramp_samples else start + int(consumed / per) * increment

    def running(size: int) -> int:
        if unit is None:
            return size
        if size % unit:
            if not decrease:
                raise ReaderError(
                    f"{flag}: batch size {size} of the ramp is not divisible by micro batch x data-parallel size "
                    f"{unit}; Megatron asserts it (or add --decrease-batch-size-if-needed)"
                )
            size = (size // unit) * unit
            if size < 1:
                raise ReaderError(f"{flag}: batch size rounds down to 0 micro batches: Megatron would never advance")
        return size

    # update_train_iters: count the ramp's iterations by the current (not rounded) size.
    iterations, consumed = 0, 0
    while consumed <= ramp_samples and consumed <= train_samples:
        size = current(consumed)
        k = _same(lambda c, s=size: c <= ramp_samples and c <= train_samples and current(c) == s, consumed, size)
        consumed += k * size
        iterations += k
    if train_samples > consumed:
        iterations += (train_samples - consumed) // gbs
    # The training loop: sizes by the samples consumed so far, counted with the running sizes.
    pieces: dict[int, int] = {}
    it, consumed = 0, 0
    while it < iterations:
        size = current(consumed)
        step = running(size)
        pieces.setdefault(it, step)
        if consumed > ramp_samples:
            break
        k = _same(lambda c, s=size: c <= ramp_samples and current(c) == s, consumed, step)
        it += k
        consumed += k * step
    return BatchSchedule.of(pieces), iterations


def _same(predicate: Any, consumed: int, size: int) -> int:
    """How many iterations of ``size`` samples in a row, from ``consumed`` (where ``predicate``
    holds), start where ``predicate`` holds: the first ``j >= 1`` where it fails at
    ``consumed + j x size`` (it holds up to there and fails from there on)."""
    good, bad = 0, 1
    while predicate(consumed + bad * size):
        good, bad = bad, bad * 2
    while bad - good > 1:
        mid = (good + bad) // 2
        good, bad = (mid, bad) if predicate(consumed + mid * size) else (good, mid)
    return bad


def _scheduler(
    flags: Flags, source: str, options: dict[str, Any], iters: int | None, samples: int | None, gbs: int, facts: list
) -> dict[str, Any]:
    """``get_optimizer_param_scheduler``'s arguments, in samples."""
    lr = options.get("lr") or flags.number("--lr", float)
    if lr is None:
        raise ReaderError(f"{source}: --lr is required (Megatron's default is None, which its scheduler cannot use)")
    style = flags.text("--lr-decay-style", "linear")
    if style not in DECAY_STYLES:
        raise ReaderError(f"{source}: --lr-decay-style {style}: expected one of {', '.join(DECAY_STYLES)}")
    wsd_style = flags.text("--lr-wsd-decay-style", "exponential")
    if wsd_style not in WSD_DECAY_STYLES:
        raise ReaderError(f"{source}: --lr-wsd-decay-style {wsd_style}: expected one of {', '.join(WSD_DECAY_STYLES)}")
    fraction = flags.number("--lr-warmup-fraction", float)
    if iters:
        decay = flags.number("--lr-decay-iters", int, iters) * gbs
        wsd = flags.number("--lr-wsd-decay-iters")
        wsd = None if wsd is None else wsd * gbs
        warmup = fraction * decay if fraction is not None else flags.number("--lr-warmup-iters", int, 0) * gbs
        wsd_flag = "--lr-wsd-decay-iters"
    else:
        decay = flags.number("--lr-decay-samples", int, samples)
        wsd = flags.number("--lr-wsd-decay-samples")
        warmup = fraction * decay if fraction is not None else flags.number("--lr-warmup-samples", int, 0)
        wsd_flag = "--lr-wsd-decay-samples"
    if style == "WSD" and wsd is None:
        raise ReaderError(f"{source}: --lr-decay-style WSD needs {wsd_flag} (Megatron asserts the anneal length)")
    if not decay > 0 or not warmup < decay:
        raise ReaderError(
            f"{source}: warmup {warmup:g} and decay {decay:g} samples: Megatron asserts 0 <= warmup < decay "
            "(lengths in samples: iterations x global batch size)"
        )
    config: dict[str, Any] = {
        "name": "megatron",
        "lr": lr,
        "min_lr": flags.number("--min-lr", float, 0.0),
        "warmup_init": flags.number("--lr-warmup-init", float, 0.0),
        "warmup_samples": warmup,
        "decay_samples": decay,
        "decay_style": style,
        "wsd_decay_style": wsd_style,
    }
    if wsd is not None:
        config["wsd_decay_samples"] = wsd
    facts.append(f"warmup: {warmup:,} samples ({warmup / gbs:,.6g} iterations at the global batch size {gbs:,})")
    facts.append(f"decay: {style} to sample {decay:,} ({decay / gbs:,.6g} iterations)")
    if style == "WSD":
        facts.append(f"WSD anneal ({wsd_style}): the last {wsd:,} samples of the decay, from sample {decay - wsd:,}")
    return config


def parse_skipped(text: str, source: str = "--skipped-steps") -> int | list[int]:
    """``--skipped-steps``: ``N`` (the first N iterations) or ``i,j,k`` / ``[i, j]`` (those indices, 0-based)."""
    body = text.strip()
    listed = "," in body or body.startswith("[")
    items = [t.strip() for t in body.strip("[]").split(",") if t.strip()]
    try:
        values = [int(t) for t in items]
    except ValueError:
        values = [-1]
    if not values and not listed or any(v < 0 for v in values):
        raise ReaderError(f"{source} {text}: expected a count (30) or iteration indices from 0 (3,17,42)")
    return values if listed else values[0]


def _skipped(flags: Flags, source: str, options: dict[str, Any], notes: list[str]) -> int | list[int]:
    given = options.get("skipped_steps")
    skipped: int | list[int] = parse_skipped(str(given)) if given is not None else 0
    listed = flags.words("--iterations-to-skip")
    if listed:
        extra = [_parse(source, "--iterations-to-skip", w, int) for w in listed]
        base = list(range(skipped)) if isinstance(skipped, int) else skipped
        skipped = sorted(set(base) | set(extra))
    if flags.switch("--fp16") and given is None:
        notes.append(
            f"{source}: --fp16: iterations whose loss scale overflows skip their update and do not advance the "
            "LR schedule; give them with --skipped-steps (a count, or iteration indices) to see their effect"
        )
    return skipped


def _length(flags: Flags, iterations: int, notes: list[str], source: str) -> int:
    """The iterations the run trains: ``--exit-interval`` and phase transitions stop it early."""
    stops = []
    interval = flags.number("--exit-interval")
    if interval:
        stops.append((interval, f"--exit-interval {interval}"))
    phases = flags.words("--phase-transition-iterations")
    if phases:
        first = min(_parse(source, "--phase-transition-iterations", t.strip(), int) for t in phases[0].split(","))
        stops.append((first, f"--phase-transition-iterations (the first, {first})"))
    for stop, flag in sorted(stops):
        if 0 < stop < iterations:
            notes.append(f"{source}: {flag} ends this launch after iteration {stop:,} of {iterations:,}")
            return stop
    return iterations
