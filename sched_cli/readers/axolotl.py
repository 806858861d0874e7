r"""Read axolotl YAML configs as sched specs: what axolotl and Hugging Face's Trainer together do.

axolotl (0.19) builds ``TrainingArguments`` from its YAML and hands the run to the Trainer, but on
the way it changes the schedule (``core/builders/base.py``, ``core/trainers/mixins/scheduler.py``,
``utils/trainer.py:calculate_total_num_steps``):

- **the run's length**: axolotl counts ``T = ceil(N x num_epochs / B)`` updates itself, with ``N``
  the training samples left after the eval split and ``B = micro_batch_size x
  gradient_accumulation_steps x W'`` (``W' = W // context_parallel_size // tensor_parallel_size``
  on ``W`` devices), and sets ``max_steps`` to ``max_steps`` or ``T``;
- **the warmup**: ``warmup_steps`` as given; else ``int(warmup_ratio x T)`` (rounded down, where
  Hugging Face 4.x rounded up); else ``min(int(0.03 x T), 100)``; a warmup of 1 becomes 2. ``T``
  here is ``min(T, max_steps)`` when ``max_steps`` is set;
- **the schedule**: ``lr_scheduler`` (``cosine`` by default) is a Hugging Face type, with
  ``lr_scheduler_kwargs``, except ``one_cycle`` (torch's ``OneCycleLR``: ``pct_start`` = warmup /
  T, ``anneal_strategy: cos``), ``rex``, and a ``cosine`` that axolotl replaces:
  ``lr_quadratic_warmup: true`` -> ``axolotl:cosine_quadratic_warmup``; ``cosine_min_lr_ratio``
  (non-zero) -> ``axolotl:cosine_min_lr``, with ``cosine_constant_lr_ratio`` ->
  ``axolotl:cosine_decay_constant``; ``jagged_restart_steps`` wraps any of them in
  ``axolotl:jagged_restarts`` (:mod:`sched_cli.schedulers.axolotl`);
- ``val_set_size`` (a count above 1, else a fraction) holds samples out of the training set;
  ``sample_packing: true`` makes ``T`` depend on the tokens (refused unless ``--max-duration Nba``
  gives it); ``rl:`` preference runs count steps the same way without the ``max_steps`` cap.

The rest is Hugging Face's: the update geometry and the HF types come from
:mod:`sched_cli.readers.hf`. Command line: ``--dataset-size`` (the tokenized training samples
before the eval split), ``--devices`` (world size ``W``), ``--max-duration`` (``Nba``: axolotl's
``T``; ``Nep``: ``num_epochs``), ``--lr``, ``--device-batch-size`` (``micro_batch_size``),
``--drop-last``, ``--seq-len``.
"""

from __future__ import annotations

import math
from typing import Any

from sched_cli.readers import ReaderError, Reading
from sched_cli.readers import hf as hf_reader
from sched_cli.readers._finetune import (
    deepspeed_replaces,
    flag,
    hf_scheduler_of,
    number,
    split_train_size,
    whole,
)
from sched_cli.schedulers.hf import hf_warmup_steps

__all__ = ["NAME", "TITLE", "TRAINER", "REFERENCE", "CONSUMES", "KEYS", "IRRELEVANT", "recognise", "read", "AxolotlRun"]

NAME = "axolotl"
TITLE = "axolotl"
TRAINER = "hf"
REFERENCE = "axolotl"
_SIZES = "use --dataset-size, --devices and --device-batch-size (micro_batch_size)"
#: Options an axolotl file has no use for (the reader contract refuses them).
NOT_FOR = {
    "batch_size": _SIZES,
    "dataloader_len": _SIZES,
    "step_every": "axolotl's Trainer (Hugging Face's) steps its scheduler after every optimizer update",
}
CONSUMES = (
    "max_duration", "dataset_size", "devices", "device_batch_size", "drop_last", "seq_len", "lr", "deepspeed_config",
)  # fmt: skip

#: Keys this reader reads (or refuses with a reason).
KEYS = (
    "learning_rate", "micro_batch_size", "gradient_accumulation_steps", "batch_size", "num_epochs", "max_steps",
    "lr_scheduler", "lr_scheduler_kwargs", "warmup_steps", "warmup_ratio", "cosine_min_lr_ratio",
    "cosine_constant_lr_ratio", "lr_quadratic_warmup", "jagged_restart_steps", "jagged_restart_warmup_steps",
    "jagged_restart_anneal_steps", "deepspeed", "val_set_size", "sample_packing", "eval_sample_packing",
    "dataloader_drop_last", "context_parallel_size", "sequence_parallel_degree", "tensor_parallel_size", "ddp",
    "fsdp", "fsdp_config", "rl", "reward_model", "process_reward_model", "pretraining_dataset", "streaming",
    "relora", "plugins", "auto_find_batch_size", "world_size", "sequence_len", "base_model", "test_datasets",
    "trainer_cls", "use_ray", "trl", "ebft", "dataset_size", "devices", "seq_len",
)  # fmt: skip
#: axolotl's other config keys (its ``AxolotlInputConfig`` schema, 0.19): model, data, adapters,
#: logging, kernels... none changes the LR of an update or the number of updates.
IRRELEVANT = ("model_type",) + tuple(  # model_type: the schema's alias of type_of_model
    """
    accelerator_config activation_offloading adam_beta1 adam_beta2 adam_beta3 adam_epsilon adam_epsilon2 adapter
    added_tokens_overrides attn_implementation auto_resume_from_checkpoints axolotl_config_path
    base_model_config batch_flattening bench_dataset bench_split bf16 bfloat16 bnb_config_kwargs
    center_rewards_coefficient chat_template chat_template_jinja chat_template_kwargs chunked_cross_entropy
    chunked_cross_entropy_num_chunks cls_model_config comet_api_key comet_experiment_config comet_experiment_key
    comet_mode comet_online comet_project_name comet_workspace cpo_alpha curriculum_sampling
    dataloader_num_workers dataloader_pin_memory dataloader_prefetch_factor dataset_exact_deduplication
    dataset_keep_in_memory dataset_num_proc dataset_prepared_path dataset_processes dataset_shard_idx
    dataset_shard_num datasets ddp_broadcast_buffers ddp_bucket_cap_mb ddp_find_unused_parameters ddp_timeout
    deepcompile default_system_message device device_map dion_lr dion_momentum dion_rank_fraction
    dion_rank_multiple_of do_bench_eval do_causal_lm_eval dp_replicate_size dp_shard_size dpo_beta
    dpo_generate_during_eval dpo_label_smoothing dpo_loss_type dpo_loss_weights dpo_norm_loss dpo_padding_free
    dpo_use_liger_kernel dpo_use_logits_to_keep dpo_use_weighting dynamic_checkpoint eaft_alpha eaft_k
    eager_attention early_stopping_patience embedding_lr embedding_lr_scale embeddings_skip_upcast eot_tokens
    eval_batch_size eval_causal_lm_metrics eval_max_new_tokens eval_sequence_len eval_steps eval_strategy
    eval_table_size evals_per_epoch evaluation_strategy excess_length_strategy experimental_skip_move_to_device
    experts_implementation fix_untrained_tokens flash_attention flash_attn_cross_entropy flash_attn_d512
    flash_attn_fuse_mlp flash_attn_rms_norm flash_optimum flex_attention flex_attn_compile_kwargs float16
    float32 fp16 fp32_norm_classes fp32_norms fp8 fp8_config fp8_enable_fsdp_float8_all_gather freeze_mm_modules
    fsdp_final_state_dict_type fsdp_version fused_attn_kernel gc_collect_steps gc_steps gemma4_hybrid_attn_impl
    generate_samples generation_do_sample generation_max_new_tokens generation_prompt_ratio
    generation_temperature generation_top_k generation_top_p gptq gpu_memory_limit gradient_checkpointing
    gradient_checkpointing_kwargs gradio_max_new_tokens gradio_server_name gradio_server_port gradio_share
    gradio_temperature gradio_title greater_is_better group_by_length heads_k_stride hf_mlflow_log_artifacts
    hf_use_auth_token hub_model_id hub_revision hub_strategy image_resize_algorithm image_size include_tkps
    include_tokens_per_second is_falcon_derived_model is_llama_derived_model is_mistral_derived_model
    is_preprocess is_qwen_derived_model kto_desirable_weight kto_undesirable_weight large_head_attention
    layer_offloading lisa_layers_attribute lisa_n_layers lisa_step_interval llama4_linearized_experts
    load_best_model_at_end load_in_4bit load_in_8bit local_rank logging_steps lora_alpha lora_alpha_pattern
    lora_dropout lora_embedding_kernel lora_fan_in_fan_out lora_mlp_kernel lora_model_dir lora_modules_to_save
    lora_o_kernel lora_on_cpu lora_qkv_kernel lora_r lora_rank_pattern lora_target_linear lora_target_modules
    lora_target_parameters loraplus_lr_embedding loraplus_lr_ratio loss_watchdog_patience
    loss_watchdog_threshold low_cpu_mem_usage lr_div_factor lr_groups max_grad_norm max_memory
    max_packed_sequence_len max_prompt_len mean_resizing_embeddings merge_lora merge_method
    metric_for_best_model min_sample_len mlflow_experiment_name mlflow_run_name mlflow_tracking_uri
    model_quantization_config model_quantization_config_kwargs multipack_real_batches neftune_noise_alpha
    noisy_embedding_alpha num_dataset_shards_to_save num_generation_samples num_labels optim_args
    optim_target_modules optimizer orpo_alpha otel_metrics_host otel_metrics_port output_dir
    overrides_of_model_config overrides_of_model_kwargs pad_to_multiple_of pad_to_sequence_len peft
    peft_autocast_adapter_dtype peft_ensure_weight_tying peft_init_lora_weights peft_layer_replication
    peft_layers_pattern peft_layers_to_transform peft_trainable_token_indices peft_use_dora peft_use_rslora
    ple_cpu_offload pose_max_context_len pose_num_chunks pose_split_on_token_ids precompute_ref_log_probs
    preprocess_iterable pretrain_multipack_attn pretrain_multipack_buffer_size pretraining_sample_concatenation
    processor_kwargs processor_type profiler_steps profiler_steps_start push_dataset_to_hub qat
    qgalore_cos_threshold qgalore_gamma_proj qgalore_proj_bits qgalore_proj_group_size qgalore_proj_quant
    qgalore_proj_type qgalore_queue_size qgalore_rank qgalore_scale qgalore_update_proj_gap
    qlora_sharded_model_loading quantization quantize_moe_experts ray_num_workers ray_run_name reinit_weights
    relora_cpu_offload relora_prune_method relora_prune_ratio remove_unused_columns
    resize_token_embeddings_to_32x resources_per_worker resume_from_checkpoint revision_of_model ring_attn_func
    rl_beta role_boundaries rope_scaling rpo_alpha s2_attention sage_attention sample_packing_bin_size
    sample_packing_eff_est sample_packing_group_size sample_packing_mp_start_method sample_packing_sequentially
    save_first_step save_only_model save_safetensors save_steps save_strategy save_total_limit saves_per_epoch
    scaling_softmax scaling_softmax_bias scaling_softmax_factor sdp_attention sdpa_varlen seed
    selective_checkpointing shrink_embeddings shuffle_before_merging_datasets shuffle_merged_datasets
    simpo_gamma skip_prepare_dataset special_tokens streaming_multipack_buffer_size strict tf32 tiled_mlp
    tiled_mlp_num_shards tiled_mlp_use_original_mlp tokenizer_config tokenizer_legacy tokenizer_save_jinja_files
    tokenizer_type tokenizer_use_fast tokenizer_use_mistral_common tokens torch_compile torch_compile_backend
    torch_compile_mode torch_compile_options torch_empty_cache_steps torchdistx_path total_num_tokens
    total_supervised_tokens trackio_project_name trackio_run_name trackio_space_id train_on_inputs
    trust_remote_code type_of_model unfrozen_parameters use_comet use_eaft use_kernels use_mlflow use_onebitllms
    use_otel_metrics use_pose use_tensorboard use_trackio use_wandb vllm wandb_entity wandb_log_model wandb_mode
    wandb_name wandb_project wandb_run_id wandb_watch weight_decay xformers_attention    """.split()
)

# Keys only an axolotl config has (a sched spec, an HF TrainingArguments file, LLaMA-Factory's have none).
# Two of them make one (one can be a coincidence; not load_in_4bit, lora_target_modules...: TRL's
# ModelConfig has them too).
IDENTIFYING = frozenset(
    {
        "micro_batch_size", "num_epochs", "base_model", "sample_packing", "sequence_len", "lr_scheduler",
        "adapter", "pad_to_sequence_len", "val_set_size", "datasets",
    }
)  # fmt: skip
_SCHED_KEYS = ("schedulers", "scheduler", "max_duration")
_OWN = ("one_cycle", "rex")
#: OneCycleLR arguments axolotl passes through; the momentum ones do not change the LR.
_ONE_CYCLE_ARGS = ("pct_start", "anneal_strategy", "div_factor", "final_div_factor", "three_phase")
_ONE_CYCLE_MOMENTUM = ("cycle_momentum", "base_momentum", "max_momentum", "epochs", "steps_per_epoch")
_REFUSED_RL = ("grpo", "gdpo", "ebft")


def recognise(data: Any) -> bool:
    """A mapping with two axolotl-only keys (``base_model``, ``micro_batch_size``...) and no sched spec key."""
    if not isinstance(data, dict) or any(key in data for key in _SCHED_KEYS):
        return False
    return sum(key in data for key in IDENTIFYING) >= 2


class AxolotlRun:
    """axolotl's step count and warmup for one config (see the module docstring).

    Args:
        samples: Training samples after the eval split, ``N`` (``None``: unknown).
        micro_batch_size: ``micro_batch_size``. accumulation: ``gradient_accumulation_steps``.
        data_parallel: ``W'``, the devices that each take their own micro-batches.
        num_epochs: ``num_epochs``. max_steps: ``max_steps`` (0: unset).
        capped: whether ``max_steps`` caps the count axolotl uses for the warmup (not for ``rl:``).
    """

    def __init__(
        self,
        samples: int | None,
        micro_batch_size: int,
        accumulation: int,
        data_parallel: int,
        num_epochs: float,
        max_steps: int,
        capped: bool = True,
    ) -> None:
        self.samples = samples
        self.micro_batch_size = micro_batch_size
        self.accumulation = accumulation
        self.data_parallel = data_parallel
        self.num_epochs = num_epochs
        self.max_steps = max_steps
        self.capped = capped

    @property
    def batch_size(self) -> int:
        """``cfg.batch_size``: samples per update across devices, ``B``."""
        return self.micro_batch_size * self.accumulation * self.data_parallel

    def counted_steps(self) -> int | None:
        """``calculate_total_num_steps`` without sample packing: ``ceil(N x num_epochs / B)``."""
        if self.samples is None:
            return None
        return int(math.ceil(self.samples * self.num_epochs / self.batch_size))

    def warmup_total(self, counted: int | None) -> int | None:
        """The ``total_num_steps`` axolotl's warmup is taken from."""
        if counted is None:
            return self.max_steps or None
        return min(counted, self.max_steps) if self.max_steps and self.capped else counted

    def trainer_max_steps(self, counted: int | None) -> int | None:
        """The ``max_steps`` axolotl gives the Trainer: ``max_steps or T``."""
        return self.max_steps or counted


def axolotl_warmup(warmup_steps: Any, warmup_ratio: Any, total: int | None) -> float:
    """``_configure_warmup_and_logging``: the ``warmup_steps`` axolotl gives ``TrainingArguments``."""
    ratio = 0.0
    if warmup_steps is not None:
        steps: float = warmup_steps
    elif warmup_ratio is not None:
        steps = max(int(warmup_ratio * total), 0) if total else 0
        ratio = 0.0 if total else warmup_ratio
    elif total:
        steps = min(int(0.03 * total), 100)
    else:
        steps, ratio = 0, 0.03
    if ratio > 0.0 and steps == 0:
        steps = ratio
    return 2 if steps == 1 else steps


def read(data: Any, source: str, options: dict[str, Any]) -> Reading:
    """The sched spec mapping of an axolotl config, with notes and the numbers axolotl derives."""
    if not isinstance(data, dict):
        raise ReaderError(f"{source}: an axolotl config is a mapping of keys, not {type(data).__name__}")
    options = {**{k: data[k] for k in ("dataset_size", "devices", "seq_len") if data.get(k) is not None}, **options}
    c = _Config(data, source)
    notes: list[str] = []
    facts: list[str] = []
    _refuse_other_trainers(c)

    lr = options.get("lr") or c.number("learning_rate", None)
    if lr is None:
        raise c.error("learning_rate", "is required by axolotl (its schema has no default)")
    if c.value("batch_size") is not None:
        raise c.error(
            "batch_size",
            "axolotl counts steps from batch_size while the Trainer accumulates gradient_accumulation_steps; "
            "set gradient_accumulation_steps instead (batch_size / micro_batch_size / devices), as axolotl advises",
        )
    mbs = options.get("device_batch_size") or c.whole("micro_batch_size", 1)
    gas = c.whole("gradient_accumulation_steps", 1)
    devices = options.get("devices", 1)  # a `devices: 0` in the file is refused below, not read as 1
    dp = _data_parallel(c, devices)
    epochs = c.number("num_epochs", 1.0)
    max_steps = c.whole("max_steps", 0, low=0)
    rl = c.value("rl")
    packed = bool(c.value("sample_packing")) and not rl
    streaming = c.value("pretraining_dataset") is not None or bool(c.value("streaming"))
    counted: int | None = None
    duration = options.get("max_duration")
    run = AxolotlRun(None, mbs, gas, dp, epochs, max_steps, capped=not rl)
    if duration is not None:
        counted, epochs = _duration(c, str(duration), epochs)
        run.num_epochs = epochs
    if streaming:
        if not max_steps:
            raise c.error(
                "max_steps", "a streamed dataset (pretraining_dataset / streaming) needs max_steps in axolotl"
            )
        counted = max_steps
    size = options.get("dataset_size")
    samples = None
    if size is not None and not packed and not streaming:
        samples = _split(c, int(size), facts)
    run.samples = samples
    if counted is None and not packed and not streaming:
        counted = run.counted_steps()
    if packed and counted is None:
        raise c.error(
            "sample_packing",
            "true: axolotl packs samples into sequences, so its step count depends on the tokens of the data; "
            "give the packed run's updates with --max-duration Nba (axolotl logs 'Maximum number of steps set at N')",
        )
    warmup_total = run.warmup_total(counted)
    explicit_warmup = c.value("warmup_steps") is not None
    if warmup_total is None and not explicit_warmup and not max_steps:
        raise ReaderError(
            f"{source}: num_epochs: axolotl counts the run's updates from the training samples; give --dataset-size N "
            "(the tokenized samples before the val_set_size split), or --max-duration Nba"
        )
    if warmup_total is None and not explicit_warmup:
        raise ReaderError(
            f"{source}: warmup: axolotl takes its default warmup (or warmup_ratio) from the updates it counts from "
            "the data, even with max_steps; give --dataset-size N or warmup_steps"
        )
    trainer_steps = run.trainer_max_steps(counted)
    assert trainer_steps is not None
    given = c.whole("warmup_steps", None, low=0) if explicit_warmup else None
    warmup = axolotl_warmup(given, c.number("warmup_ratio", None), warmup_total)

    kind = c.value("lr_scheduler") or "cosine"
    if not isinstance(kind, str):
        raise c.error("lr_scheduler", f"expected a scheduler name such as 'cosine', got {kind!r}")
    own_path = kind in _OWN or _replaced_cosine(c, kind) is not None
    hf_data = {
        "learning_rate": lr,
        "per_device_train_batch_size": mbs,
        "gradient_accumulation_steps": gas,
        "max_steps": trainer_steps,
        "warmup_steps": warmup,
        "lr_scheduler_type": "cosine" if kind in _OWN else kind,
        "lr_scheduler_kwargs": {} if own_path else (c.value("lr_scheduler_kwargs") or {}),
        "dataloader_drop_last": _drop_last(c, options),
    }
    hf_options = {"dataset_size": samples, "devices": dp, "seq_len": options.get("seq_len")}
    hf_options["deepspeed_config"] = options.get("deepspeed_config")
    if data.get("deepspeed"):
        hf_data["deepspeed"] = data["deepspeed"]
    try:
        hf = hf_reader.read(hf_data, source, {k: v for k, v in hf_options.items() if v is not None})
    except ReaderError as exc:
        raise ReaderError(str(exc).replace("lr_scheduler_type", "lr_scheduler")) from None
    spec = hf.spec
    notes += hf.notes
    facts += hf.facts
    if deepspeed_replaces(data, source, options):
        # HF's Trainer builds DeepSpeed's scheduler and never calls axolotl's create_scheduler for
        # one; only jagged restarts would wrap it, which sched does not model.
        if c.value("jagged_restart_steps"):
            raise c.error("jagged_restart_steps", "around a DeepSpeed scheduler block is not modelled by sched")
    else:
        spec["schedulers"] = [_schedule(c, kind, hf_scheduler_of(spec), lr, trainer_steps)]
    facts += _facts(c, run, counted, warmup_total, warmup, trainer_steps, kind)
    notes += _notes(c)
    return Reading(spec, notes, facts)


# -- the parts -------------------------------------------------------------------------------------
def _refuse_other_trainers(c: _Config) -> None:
    rl = c.value("rl")
    if rl is not None and str(rl).lower() in _REFUSED_RL:
        raise c.error(
            "rl",
            f"{rl}: axolotl does not count the steps of {rl} runs itself (TRL does, from generations); "
            "sched does not preview them",
        )
    for key in ("reward_model", "process_reward_model"):
        if c.value(key):
            raise c.error(key, "true: axolotl trains a reward model with TRL's trainer; sched does not preview it")
    if c.value("use_ray"):
        raise c.error("use_ray", "true: a Ray Train run sizes its batches on the workers; sched does not preview it")
    if c.value("relora") and not c.value("jagged_restart_steps"):
        raise c.error("relora", "true needs jagged_restart_steps (axolotl raises)")


def _data_parallel(c: _Config, devices: Any) -> int:
    """``W'``: the world size over the context- and tensor-parallel degrees, as ``normalize_config``
    multiplies the batch by it (only with DDP, FSDP or DeepSpeed, which a multi-device run has)."""
    if isinstance(devices, bool) or not isinstance(devices, int) or devices < 1:
        raise ReaderError(f"{c.source}: devices: {devices!r} must be a whole number of at least 1 (the world size)")
    cp = c.whole("context_parallel_size", None) or c.whole("sequence_parallel_degree", None) or 1
    tp = c.whole("tensor_parallel_size", None) or 1
    if devices == 1:
        return 1
    if c.value("ddp") is False and not (c.value("fsdp") or c.value("fsdp_config") or c.value("deepspeed")):
        raise c.error(
            "ddp",
            f"false on {devices} devices: axolotl would not scale the batch by the world size; "
            "sched does not preview a run that each device counts alone",
        )
    if devices % (cp * tp):
        raise ReaderError(
            f"{c.source}: --devices {devices} is not a multiple of context_parallel_size x tensor_parallel_size "
            f"({cp} x {tp}); axolotl's device mesh needs it to be"
        )
    return devices // cp // tp


def _duration(c: _Config, text: str, epochs: float) -> tuple[int | None, float]:
    """``--max-duration``: ``Nba`` is axolotl's step count, ``Nep`` replaces ``num_epochs``."""
    from sched_cli.time import Time, TimeStringError, TimeUnit

    try:
        time = Time.from_timestring(text.strip())
    except TimeStringError as exc:
        raise ReaderError(f"{c.source}: --max-duration: {exc}") from None
    if time.unit is TimeUnit.BATCH and time.value > 0:
        return int(time.value), epochs
    if time.unit is TimeUnit.EPOCH and time.value > 0:
        return None, float(time.value)
    raise ReaderError(f"{c.source}: --max-duration {text}: an axolotl run is Nba (its updates) or Nep (num_epochs)")


def _split(c: _Config, size: int, facts: list[str]) -> int:
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ReaderError(f"{c.source}: --dataset-size {size!r} must be a whole number of at least 1")
    value = c.number("val_set_size", 0.0)
    if not value:
        return size
    if c.value("test_datasets"):
        raise c.error("val_set_size", "a non-zero val_set_size cannot be used with test_datasets (axolotl raises)")
    train, held = split_train_size(c.source, "val_set_size", size, value)
    how = f"{int(value):,} samples" if value > 1 else f"ceil({value:g} x {size:,}) = {held:,}"
    facts.append(f"axolotl: val_set_size holds out {how} of --dataset-size {size:,}: {train:,} samples train")
    return train


def _drop_last(c: _Config, options: dict[str, Any]) -> bool:
    if options.get("drop_last") is not None:
        return bool(options["drop_last"])
    value = c.value("dataloader_drop_last")
    if value is not None:
        return flag(c.source, "dataloader_drop_last", value)
    return bool(c.value("sample_packing")) and c.value("eval_sample_packing") is False


def _replaced_cosine(c: _Config, kind: str) -> str | None:
    """The axolotl schedule that replaces Hugging Face's ``cosine`` (``SchedulerMixin.create_scheduler``)."""
    if kind != "cosine":
        return None
    if c.value("lr_quadratic_warmup") is True:
        return "axolotl:cosine_quadratic_warmup"
    ratio = c.number("cosine_min_lr_ratio", None)
    if ratio and c.number("cosine_constant_lr_ratio", None):
        return "axolotl:cosine_decay_constant"
    if ratio:
        return "axolotl:cosine_min_lr"
    return None


def _schedule(c: _Config, kind: str, hf_config: dict[str, Any], lr: float, total: int) -> dict[str, Any]:
    warmup = hf_config.get("warmup_steps", 0)
    ratio = c.number("cosine_min_lr_ratio", None)
    if kind == "one_cycle":
        config = _one_cycle(c, hf_warmup_steps(warmup, total), total)
    elif kind == "rex":
        config = {"name": "axolotl:rex", "lr_init": lr, "warmup_steps": warmup, "min_lr_ratio": ratio or 0}
    else:
        name = _replaced_cosine(c, kind)
        if name is None:
            config = hf_config
        elif name == "axolotl:cosine_quadratic_warmup":
            config = {"name": name, "warmup_steps": warmup}
        else:
            config = {"name": name, "warmup_steps": warmup, "min_lr_ratio": ratio}
            if name == "axolotl:cosine_decay_constant":
                config["constant_lr_ratio"] = c.number("cosine_constant_lr_ratio", None)
    restart = c.whole("jagged_restart_steps", None, low=0)
    if not restart:
        return config
    if kind == "one_cycle":
        raise c.error(
            "jagged_restart_steps",
            "with lr_scheduler one_cycle: the wrapper runs OneCycleLR one step ahead, past its total_steps at the "
            "run's last scheduler step, where torch raises ValueError; sched does not preview it",
        )
    return {
        "name": "axolotl:jagged_restarts",
        "inner": config,
        "restart_steps": restart,
        "warmup_steps": c.whole("jagged_restart_warmup_steps", None, low=0) or 10,
        "anneal_steps": c.whole("jagged_restart_anneal_steps", None, low=0) or 1,
        "min_lr_scale": ratio or 0.001,
    }


def _one_cycle(c: _Config, warmup: int, total: int) -> dict[str, Any]:
    kwargs = c.value("lr_scheduler_kwargs") or {}
    if not isinstance(kwargs, dict):
        raise c.error("lr_scheduler_kwargs", f"expected a mapping of OneCycleLR arguments, got {kwargs!r}")
    config: dict[str, Any] = {"name": "one_cycle", "t_max": f"{total}ba", "pct_start": warmup / total}
    config["anneal_strategy"] = "cos"
    for key, value in kwargs.items():
        if key in _ONE_CYCLE_ARGS:
            config[key] = value
        elif key not in _ONE_CYCLE_MOMENTUM:
            raise c.error(
                f"lr_scheduler_kwargs.{key}",
                f"OneCycleLR takes no argument {key!r} from axolotl (it sets max_lr and total_steps itself; "
                f"it takes {', '.join(_ONE_CYCLE_ARGS + _ONE_CYCLE_MOMENTUM)})",
            )
    return config


# -- what validate says -----------------------------------------------------------------------------
def _facts(
    c: _Config, run: AxolotlRun, counted: int | None, warmup_total: int | None, warmup: float, steps: int, kind: str
) -> list[str]:
    facts = [
        f"axolotl: samples per update: {run.micro_batch_size} x {run.accumulation} x {run.data_parallel} "
        f"device(s) = {run.batch_size:,}"
    ]
    if run.samples is not None and counted is not None:
        facts.append(
            f"axolotl: steps: ceil({run.samples:,} x {run.num_epochs:g} / {run.batch_size:,}) = {counted:,} updates"
        )
    if run.max_steps:
        facts.append(f"axolotl: max_steps {run.max_steps:,}: the Trainer runs {steps:,} updates")
    elif counted is not None:
        facts.append(f"axolotl: sets the Trainer's max_steps to its own count, {steps:,} (HF alone would count epochs)")
    hf_w = hf_warmup_steps(warmup, steps)
    ratio = c.number("warmup_ratio", None)
    if c.value("warmup_steps") is None and ratio is not None and warmup_total:
        hf_would = math.ceil(steps * ratio)
        facts.append(
            f"axolotl: warmup_ratio {ratio:g} of {warmup_total:,} updates = {int(ratio * warmup_total):,}"
            + (f" (HF would use {hf_would:,})" if hf_would != hf_w else "")
        )
    elif c.value("warmup_steps") is None and warmup_total:
        facts.append(
            f"axolotl: no warmup_steps or warmup_ratio: warmup = min(int(0.03 x {warmup_total:,}), 100) = "
            f"{min(int(0.03 * warmup_total), 100):,} (HF's default is 0)"
        )
    if warmup == 2 and (c.value("warmup_steps") == 1 or hf_w == 2 and c.value("warmup_steps") is None):
        facts.append("axolotl: a warmup of 1 update becomes 2")
    facts.append(f"axolotl: warmup: {hf_w:,} updates")
    if c.value("lr_scheduler") is None:
        facts.append("axolotl: lr_scheduler defaults to cosine (HF's default is linear)")
    replaced = "one_cycle" if kind == "one_cycle" else "axolotl:rex" if kind == "rex" else _replaced_cosine(c, kind)
    if replaced:
        facts.append(f"axolotl: builds {replaced} itself in place of Hugging Face's cosine")
    if c.value("jagged_restart_steps"):
        facts.append(f"axolotl: jagged restarts every {c.value('jagged_restart_steps')} updates wrap the schedule")
    return facts


#: axolotl's own plugins (0.19) that only patch the model or add logging callbacks: none overrides
#: ``create_optimizer``, ``create_lr_scheduler``, ``get_trainer_cls`` or ``get_training_args``.
_PLAIN_PLUGINS = frozenset(
    {
        "axolotl.integrations.cut_cross_entropy.CutCrossEntropyPlugin",
        "axolotl.integrations.liger.LigerPlugin",
        "axolotl.integrations.swanlab.SwanLabPlugin",
    }
)


def _notes(c: _Config) -> list[str]:
    notes = []
    plugins = c.value("plugins") or []
    unknown = [p for p in (plugins if isinstance(plugins, list) else [plugins]) if p not in _PLAIN_PLUGINS]
    if unknown:
        notes.append(
            f"{c.source}: plugins: {', '.join(map(str, unknown))}: an axolotl plugin may create the optimizer, the "
            "scheduler or the trainer itself (create_lr_scheduler, get_trainer_cls); sched shows axolotl's own"
        )
    patience = c.value("early_stopping_patience")
    if patience:
        save, every = c.value("save_steps"), c.value("eval_steps")
        if not save or not every or save % every:
            raise c.error(
                "early_stopping_patience",
                f"{patience}: axolotl refuses it unless save_steps and eval_steps are set and eval_steps divides "
                f"save_steps (here {save} and {every}); its config validation raises",
            )
        notes.append(
            f"{c.source}: early_stopping_patience: {patience}: HF's EarlyStoppingCallback ends the run when the eval "
            "metric stops improving, which no preview can know; sched shows the whole run"
        )
    if c.value("trainer_cls"):
        notes.append(f"{c.source}: trainer_cls: a custom trainer may build another schedule; sched shows axolotl's")
    if c.value("auto_find_batch_size"):
        notes.append(
            f"{c.source}: auto_find_batch_size: true halves the batch after an out-of-memory error, which changes "
            "the steps; sched shows the run at micro_batch_size"
        )
    kind = c.value("lr_scheduler") or "cosine"
    if kind != "cosine" and c.value("lr_quadratic_warmup"):
        notes.append(f"{c.source}: lr_quadratic_warmup applies to cosine only; axolotl ignores it for {kind}")
    if kind not in ("cosine", "one_cycle", "rex") and c.value("cosine_min_lr_ratio"):
        notes.append(f"{c.source}: cosine_min_lr_ratio applies to cosine and rex only; axolotl ignores it for {kind}")
    return notes


class _Config:
    """The config's keys, with axolotl's defaults for those it does not set."""

    def __init__(self, data: dict[str, Any], source: str) -> None:
        self.data = data
        self.source = source

    def error(self, key: str, message: str) -> ReaderError:
        return ReaderError(f"{self.source}: {key}: {message}")

    def value(self, key: str) -> Any:
        return self.data.get(key)

    def number(self, key: str, default: Any) -> Any:
        value = self.data.get(key)
        return default if value is None else number(self.source, key, value)

    def whole(self, key: str, default: Any, low: int = 1) -> Any:
        value = self.data.get(key)
        return default if value is None else whole(self.source, key, value, low)
