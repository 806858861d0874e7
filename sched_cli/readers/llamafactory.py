r"""Read LLaMA-Factory training YAMLs as sched specs: what LLaMA-Factory and Hugging Face's Trainer
together do.

A LLaMA-Factory file (``llamafactory-cli train FILE``; 0.9.5) is a flat mapping of its own
argument classes (model, data, fine-tuning) and Hugging Face's ``Seq2SeqTrainingArguments``.
The stages ``pt``, ``sft``, ``rm``, ``dpo`` and ``kto`` (``stage``, default ``sft``) run a
subclass of HF's Trainer whose ``create_scheduler`` calls ``create_custom_scheduler`` and then
HF's, so the schedule is Hugging Face's (:mod:`sched_cli.readers.hf`: its keys and defaults,
the update geometry) with these changes:

- ``warmup_stable_decay`` without ``num_stable_steps`` / ``num_decay_steps`` in
  ``lr_scheduler_kwargs``: LLaMA-Factory fills them in, ``stable = (T - w) // 3`` and
  ``decay = (T - w) - stable`` (HF alone would need ``num_decay_steps``);
- the training samples: ``--dataset-size`` is the examples the ``dataset`` list loads;
  ``max_samples`` caps each dataset (``dataset.select(range(min(max_samples, len)))``: exact for
  one dataset, or for several whose total is within the cap; refused otherwise), then
  ``val_size`` (a count above 1, else a fraction; ``train_test_split``, ``ceil`` of the fraction)
  holds samples out of the training set before preprocessing;
- ``packing`` (the default of ``stage: pt``) or ``neat_packing`` packs samples into sequences of
  ``cutoff_len`` tokens, so the number of training samples depends on the data: refused unless
  the run is ``max_steps`` long or ``--max-duration Nba`` gives it; ``streaming`` needs ``max_steps``.

Refused by name: ``stage: ppo`` (TRL's PPO loop steps its own scheduler per PPO batch), the
Megatron (``use_mca``) and HyperParallel backends, ``deepspeed`` configs with a ``scheduler`` block.
Command line: ``--dataset-size``, ``--devices`` (world size), ``--max-duration`` (``Nba``:
``max_steps``, ``Nep``: ``num_train_epochs``), ``--lr``, ``--device-batch-size``, ``--drop-last``, ``--seq-len``.
"""

from __future__ import annotations

from typing import Any

from sched_cli.readers import ReaderError, Reading
from sched_cli.readers import hf as hf_reader
from sched_cli.readers._finetune import hf_scheduler_of, number, split_train_size, whole
from sched_cli.schedulers.hf import hf_warmup_steps

__all__ = ["NAME", "TITLE", "TRAINER", "REFERENCE", "CONSUMES", "KEYS", "IRRELEVANT", "recognise", "read"]

NAME = "llamafactory"
TITLE = "LLaMA-Factory"
TRAINER = "hf"
REFERENCE = "llamafactory"
#: Options a LLaMA-Factory file has no use for: those of the Hugging Face Trainer it runs.
NOT_FOR = hf_reader.NOT_FOR
CONSUMES = (
    "max_duration", "dataset_size", "devices", "device_batch_size", "drop_last", "seq_len", "lr", "deepspeed_config",
)  # fmt: skip

#: The Hugging Face keys the HF reader reads.
_HF_KEYS = (
    "learning_rate", "lr_scheduler_type", "lr_scheduler_kwargs", "warmup_steps", "warmup_ratio", "num_train_epochs",
    "max_steps", "per_device_train_batch_size", "gradient_accumulation_steps", "dataloader_drop_last",
)  # fmt: skip
#: Keys this reader reads (or refuses with a reason).
KEYS = _HF_KEYS + (
    "stage", "finetuning_type", "template", "model_name_or_path", "do_train", "dataset", "eval_dataset",
    "max_samples", "val_size", "packing", "neat_packing", "streaming", "mix_strategy", "cutoff_len", "deepspeed",
    "use_mca", "use_hyper_parallel", "use_ray", "ray_num_workers", "auto_find_batch_size", "use_v1", "trainer",
    "dataset_size", "devices", "seq_len",
)  # fmt: skip
#: LLaMA-Factory's other keys (its model, data, fine-tuning, generating, evaluation and training
#: arguments, 0.9.5) and Hugging Face ``TrainingArguments``' others: none changes an update's LR.
IRRELEVANT = tuple(
    """
    accelerator_config activation_checkpointing activation_checkpointing_kwargs adam_beta1 adam_beta2
    adam_epsilon adapter_folder adapter_name_or_path add_special_tokens add_tokens additional_target
    apollo_layerwise apollo_proj apollo_proj_type apollo_rank apollo_scale apollo_scale_front apollo_scale_type
    apollo_target apollo_update_interval asft_alpha audio_sampling_rate average_tokens_across_devices
    badam_mask_mode badam_mode badam_start_block badam_switch_interval badam_switch_mode badam_update_ratio
    badam_verbose batch_eval_metrics batch_size bf16 bf16_full_eval block_diag_attn buffer_size cache_dir
    compute_accuracy compute_dtype create_new_adapter crop_to_patches data_seed data_shared_file_system
    dataloader_in_order dataloader_multiprocessing_context dataloader_num_workers dataloader_persistent_workers
    dataloader_pin_memory dataloader_prefetch_factor dataset_dir ddp_backend ddp_broadcast_buffers
    ddp_bucket_cap_mb ddp_find_unused_parameters ddp_static_graph ddp_timeout debug default_system device_map
    disable_gradient_checkpointing disable_shuffling disable_tqdm do_eval do_predict do_sample
    double_quantization download_mode dpo_label_smoothing eaft_alpha early_stopping_steps enable_jit_checkpoint
    enable_liger_kernel enable_thinking enable_torch_profiler eval_accumulation_steps eval_delay
    eval_do_concat_batches eval_num_beams eval_on_each_dataset eval_on_start eval_steps eval_strategy
    eval_use_gather_object export_device export_dir export_hub_model_id export_legacy_format
    export_quantization_bit export_quantization_dataset export_quantization_maxlen export_quantization_nsamples
    export_size flash_attn fp16 fp16_full_eval fp8 fp8_backend fp8_enable_fsdp_float8_all_gather
    freeze_extra_modules freeze_language_model freeze_multi_modal_projector freeze_trainable_layers
    freeze_trainable_modules freeze_vision_tower fsdp fsdp_config full_determinism galore_layerwise
    galore_proj_type galore_rank galore_scale galore_target galore_update_interval generation_config
    generation_max_length generation_num_beams gradient_checkpointing gradient_checkpointing_kwargs
    greater_is_better hf_hub_token hub_always_push hub_model_id hub_private_repo hub_revision hub_strategy
    hub_token hyper_parallel_args ignore_data_skip ignore_pad_token_for_loss image_do_pan_and_scan
    image_max_pixels image_min_pixels include_effective_tokens_per_second include_for_metrics
    include_num_input_tokens_seen infer_backend infer_dtype init_special_tokens interleave_probs
    kt_expert_checkpoint_path kt_lora_expert_intermediate_size kt_lora_expert_num kt_use_lora_experts
    kt_weight_path kto_chosen_weight kto_rejected_weight label_names label_smoothing_factor lang ld_alpha
    length_column_name length_penalty liger_kernel_config load_best_model_at_end local_rank log_level
    log_level_replica log_on_each_node logging_first_step logging_nan_inf_filter logging_steps logging_strategy
    lora_alpha lora_dropout lora_rank lora_target loraplus_lr_embedding loraplus_lr_ratio low_cpu_mem_usage
    mask_history master_addr master_port max_grad_norm max_length max_new_tokens media_dir metric_for_best_model
    mixture_of_depths model_max_length model_revision module_dropout moe_aux_loss_coef ms_hub_token n_shot
    neftune_noise_alpha new_special_tokens_config num_beams offload_folder oft_block_size oft_rank oft_target
    om_hub_token optim optim_args optim_target_modules output_dir overwrite_cache overwrite_output_dir
    parallelism_config per_device_eval_batch_size pissa_convert pissa_init pissa_iter plot_loss ppo_buffer_size
    ppo_epochs ppo_score_norm ppo_target ppo_whiten_rewards predict_with_generate prediction_loss_only
    pref_bco_weight pref_beta pref_ftx pref_loss preprocessing_batch_size preprocessing_num_workers
    preserve_thinking print_param_status profile_modules profiler_active_steps profiler_output_dir
    profiler_profile_memory profiler_record_shapes profiler_repeat profiler_wait_steps profiler_warmup_steps
    profiler_with_stack project pure_bf16 push_to_hub quantization_bit quantization_device_map
    quantization_method quantization_type ray_init_kwargs ref_model ref_model_adapters
    ref_model_quantization_bit remove_unused_columns repetition_penalty report_to resize_vocab
    restore_callback_states_from_checkpoint resume_from_checkpoint reward_model reward_model_adapters
    reward_model_quantization_bit reward_model_type rope_scaling run_name save_dir save_on_each_node
    save_only_model save_steps save_strategy save_total_limit seed sglang_config sglang_lora_backend
    sglang_maxlen sglang_mem_fraction sglang_tp_size shift_attn simpo_gamma skip_memory_metrics
    skip_special_tokens sortish_sampler split_special_tokens swanlab_api_key swanlab_lark_secret
    swanlab_lark_webhook_url swanlab_logdir swanlab_mode swanlab_project swanlab_run_name swanlab_workspace task
    task_dir temperature tf32 tokenized_path tool_format top_k top_p torch_compile torch_compile_backend
    torch_compile_mode torch_empty_cache_steps trackio_bucket_id trackio_space_id trackio_static_space_id
    train_from_scratch train_on_prompt train_sampling_strategy trust_remote_code upcast_layernorm
    upcast_lmhead_output use_adam_mini use_apollo use_asft_loss use_audio_in_video use_badam use_cache use_cpu
    use_dft_loss use_dora use_eaft_loss use_fast_tokenizer use_galore use_kt use_kv_cache use_liger_kernel
    use_llama_pro use_muon use_reentrant_gc use_rslora use_swanlab use_unsloth use_unsloth_gc use_v1_kernels
    video_fps video_max_pixels video_maxlen video_min_pixels vllm_config vllm_enforce_eager vllm_gpu_util
    vllm_max_lora_rank vllm_maxlen weight_decay    """.split()
)

#: Keys only a LLaMA-Factory file has; two of them make one (``template`` alone could be anyone's).
IDENTIFYING = frozenset(
    {"stage", "finetuning_type", "template", "dataset_dir", "cutoff_len", "lora_target", "use_mca", "use_v1"}
)
#: Keys of its Megatron backend (``USE_MCA=1``, mcore_adapter's trainer), refused by name.
_MEGATRON_KEYS = (
    "tensor_model_parallel_size", "pipeline_model_parallel_size", "expert_model_parallel_size",
    "virtual_pipeline_model_parallel_size", "use_distributed_optimizer", "sequence_parallel",
    "overlap_grad_reduce", "overlap_param_gather",
)  # fmt: skip
#: Keys only LLaMA-Factory's v1 trainer (``USE_V1=1``, ``llamafactory/v1/config``) reads, refused by name.
_V1_KEYS = ("micro_batch_size", "global_batch_size", "batching_strategy", "dist_config", "train_dataset", "model_class")
#: Keys of the configs that do not train, and the command that reads them.
_NOT_TRAINING = (("infer_backend", "chat"), ("export_dir", "export"))
_SCHED_KEYS = ("schedulers", "scheduler", "max_duration")
_STAGES = ("pt", "sft", "rm", "dpo", "kto")


def recognise(data: Any) -> bool:
    """A mapping with two LLaMA-Factory keys (``stage``, ``finetuning_type``, ``template``...) and no sched spec key."""
    if not isinstance(data, dict) or any(key in data for key in _SCHED_KEYS):
        return False
    return sum(key in data for key in IDENTIFYING) >= 2


def read(data: Any, source: str, options: dict[str, Any]) -> Reading:
    """The sched spec mapping of a LLaMA-Factory training YAML, with notes and derived numbers."""
    if not isinstance(data, dict):
        raise ReaderError(f"{source}: a LLaMA-Factory config is a mapping of arguments, not {type(data).__name__}")
    options = {**{k: data[k] for k in ("dataset_size", "devices", "seq_len") if data.get(k) is not None}, **options}
    stage = data.get("stage", "sft")
    if stage == "ppo":
        raise ReaderError(
            f"{source}: stage: ppo runs TRL's PPO loop, which steps its scheduler per PPO mini-batch over generated "
            "rollouts; sched previews the stages pt, sft, rm, dpo and kto"
        )
    if stage not in _STAGES:
        raise ReaderError(f"{source}: stage: {stage!r} is not a LLaMA-Factory stage ({', '.join(_STAGES)}, ppo)")
    megatron = [key for key in _MEGATRON_KEYS if key in data]
    if megatron:
        raise ReaderError(
            f"{source}: {megatron[0]}: this is LLaMA-Factory's Megatron backend (USE_MCA=1, mcore_adapter's trainer), "
            "which steps Megatron's own scheduler, not Hugging Face's; sched previews the Trainer stages only"
        )
    v1 = "use_v1" if data.get("use_v1") else "trainer" if isinstance(data.get("trainer"), dict) else None
    v1 = v1 or next((key for key in _V1_KEYS if key in data), None)
    if v1:
        raise ReaderError(
            f"{source}: {v1}: LLaMA-Factory's v1 trainer (USE_V1=1) has its own loop and scheduler; sched previews "
            "the Hugging Face Trainer stages only"
        )
    for key, backend in (("use_mca", "Megatron-Core (mcore_adapter)"), ("use_hyper_parallel", "HyperParallel")):
        if data.get(key):
            raise ReaderError(
                f"{source}: {key}: true trains with LLaMA-Factory's {backend} backend and its own trainer; "
                "sched previews the Hugging Face Trainer stages only"
            )
    if not data.get("do_train"):
        # HF's TrainingArguments.do_train defaults to False, and LLaMA-Factory's workflows train only when it is
        # true: without it the file is a chat, evaluation or export config (llamafactory-cli chat / export).
        said = "do_train: false" if "do_train" in data else "no do_train: true"
        kind = next((f" (its {key} is for llamafactory-cli {cli})" for key, cli in _NOT_TRAINING if key in data), "")
        raise ReaderError(
            f"{source}: {said}: LLaMA-Factory trains only with do_train: true, so this file{kind} has no schedule"
        )
    notes: list[str] = []
    facts: list[str] = []
    hf_data = {k: data[k] for k in _HF_KEYS + ("deepspeed",) if k in data}
    duration = options.get("max_duration")
    run_in_steps = duration is not None and str(duration).strip().endswith("ba")
    has_max_steps = run_in_steps or number(source, "max_steps", data.get("max_steps", -1)) > 0
    packed = _packing(data, stage)
    if data.get("streaming") and not has_max_steps:
        raise ReaderError(f"{source}: streaming: true needs max_steps (LLaMA-Factory raises without it)")
    if packed and not has_max_steps:
        raise ReaderError(
            f"{source}: {packed}: samples are packed into sequences of cutoff_len tokens, so the number of "
            "training samples depends on the data; set max_steps, or give the run's updates with --max-duration Nba"
        )
    size = options.get("dataset_size")
    if size is not None and not packed and not data.get("streaming"):
        options = {**options, "dataset_size": _train_samples(data, source, size, facts)}
    else:
        options = {k: v for k, v in options.items() if k != "dataset_size"}
    if data.get("auto_find_batch_size"):
        notes.append(
            f"{source}: auto_find_batch_size: true halves the batch after an out-of-memory error, which changes the "
            "steps; sched shows the run at per_device_train_batch_size"
        )
    if data.get("use_ray"):
        notes.append(f"{source}: use_ray: the world size is ray_num_workers; give it as --devices")
    if hf_data.get("lr_scheduler_type") == "warmup_stable_decay":
        hf_data = _wsd_defaults(hf_data, source, options, facts)
    reading = hf_reader.read(hf_data, source, options)
    spec = reading.spec
    notes += reading.notes
    facts += reading.facts
    config = hf_scheduler_of(spec)
    total = int(str(spec["max_duration"]).removesuffix("ba"))
    if "warmup_steps" in config:
        facts.append(f"llamafactory: warmup: {hf_warmup_steps(config['warmup_steps'], total):,} updates")
    facts.insert(0, f"llamafactory: stage {stage}: Hugging Face's Trainer runs {total:,} updates")
    return Reading(spec, notes, facts)


def _packing(data: dict[str, Any], stage: str) -> str | None:
    """The key that packs samples (``packing`` defaults to true for ``stage: pt``), or ``None``."""
    if data.get("neat_packing"):
        return "neat_packing"
    packing = data.get("packing")
    if packing or (packing is None and stage == "pt"):
        return "packing" if packing else "stage: pt (packing by default)"
    return None


def _train_samples(data: dict[str, Any], source: str, size: Any, facts: list[str]) -> int:
    """``--dataset-size`` after ``max_samples`` and the ``val_size`` split."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ReaderError(f"{source}: --dataset-size {size!r} must be a whole number of at least 1")
    names = data.get("dataset")
    count = len([n for n in names.split(",") if n.strip()]) if isinstance(names, str) else len(names or [])
    cap = data.get("max_samples")
    if cap is not None:
        cap = whole(source, "max_samples", cap)
        if count > 1 and size > cap:
            # Every dataset holds at most the total: at or below the cap, none is cut.
            raise ReaderError(
                f"{source}: max_samples: {cap:,} caps each of the {count} datasets separately, so sched cannot tell "
                "how many of --dataset-size remain; give the capped total as --dataset-size and drop max_samples"
            )
        if cap < size:
            facts.append(f"llamafactory: max_samples keeps {cap:,} of --dataset-size {size:,}")
            size = cap
    if count > 1 and data.get("mix_strategy", "concat") != "concat":
        raise ReaderError(
            f"{source}: mix_strategy: {data['mix_strategy']} interleaves the datasets until one runs out (or all), "
            "so the number of samples depends on each dataset's size; use concat or give the mixed size"
        )
    value = number(source, "val_size", data.get("val_size", 0.0))
    if value > 1e-6:
        if data.get("eval_dataset"):
            raise ReaderError(f"{source}: val_size: cannot be set with eval_dataset (LLaMA-Factory raises)")
        train, held = split_train_size(source, "val_size", size, value)
        facts.append(f"llamafactory: val_size holds out {held:,} of {size:,} samples: {train:,} train")
        size = train
    return size


def _wsd_defaults(hf_data: dict[str, Any], source: str, options: dict[str, Any], facts: list[str]) -> dict[str, Any]:
    """``create_custom_scheduler``: ``num_stable_steps = (T - w) // 3`` and ``num_decay_steps = (T - w) - stable``
    unless given."""
    kwargs = hf_data.get("lr_scheduler_kwargs") or {}
    if not isinstance(kwargs, dict):
        raise ReaderError(f"{source}: lr_scheduler_kwargs: expected a mapping of arguments, got {kwargs!r}")
    if "num_stable_steps" in kwargs and "num_decay_steps" in kwargs:
        return hf_data
    # The run's length and warmup as HF counts them: read the file once as a plain linear schedule.
    probe_data = {k: v for k, v in hf_data.items() if k != "deepspeed"}
    probe_spec = hf_reader.read(
        {**probe_data, "lr_scheduler_type": "linear", "lr_scheduler_kwargs": {}}, source, options
    ).spec
    total = int(str(probe_spec["max_duration"]).removesuffix("ba"))
    warmup = hf_warmup_steps(hf_scheduler_of(probe_spec).get("warmup_steps", 0), total)
    remaining = total - warmup
    filled = {"num_stable_steps": remaining // 3, "num_decay_steps": remaining - remaining // 3}
    added = {k: v for k, v in filled.items() if k not in kwargs}
    facts.append(
        "llamafactory: warmup_stable_decay: "
        + ", ".join(f"{k} = {v:,}" for k, v in added.items())
        + f" (of the {remaining:,} updates after warmup; HF alone "
        + ("would raise without num_decay_steps)" if "num_decay_steps" in added else "would make stable T - w - d)")
    )
    return {**hf_data, "lr_scheduler_kwargs": {**kwargs, **added}}
