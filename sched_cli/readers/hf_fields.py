"""The fields of a Hugging Face ``TrainingArguments`` file, by what they do to the schedule.

Taken from ``dataclasses.fields(TrainingArguments)`` of transformers 5.24 and 5.25 (the same fields;
``tests/test_against_hf.py`` checks it) and from TRL's
``SFTConfig``, ``DPOConfig``, ``KTOConfig``, ``ORPOConfig``, ``CPOConfig`` and ``RewardConfig``
(offline trainers: each step is a batch of dataset rows, as in HF's Trainer).

- :data:`READ`: the fields the reader reads (the run's length, geometry and schedule);
- :data:`IRRELEVANT`: fields that change neither the LR nor the number or size of the steps
  (model, precision, evaluation, logging, saving, the hub, data processing);
- :data:`UNMODELLED`: fields that can change the schedule or the steps and are not modelled;
  each has a test of its value saying when it does, and a note the reader gives then.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

READ = frozenset(
    {
        "learning_rate",
        "lr_scheduler_type",
        "lr_scheduler_kwargs",
        "warmup_steps",
        "warmup_ratio",
        "num_train_epochs",
        "max_steps",
        "per_device_train_batch_size",
        "gradient_accumulation_steps",
        "dataloader_drop_last",
        # The DeepSpeed helper reads its scheduler block (readers/deepspeed.py); kept here so that
        # the key is accounted for by the reader that owns it.
        "deepspeed",
        # sched-only keys: what the command line would otherwise say.
        "dataset_size",
        "devices",
        "seq_len",
    }
)

_TRAINING_ARGUMENTS = """
output_dir optim_args weight_decay adam_beta1 adam_beta2 adam_epsilon optim_target_modules
average_tokens_across_devices max_grad_norm label_smoothing_factor bf16 fp16 bf16_full_eval fp16_full_eval tf32
activation_checkpointing activation_checkpointing_kwargs gradient_checkpointing gradient_checkpointing_kwargs
torch_compile torch_compile_backend torch_compile_mode use_liger_kernel liger_kernel_config use_cache
neftune_noise_alpha torch_empty_cache_steps logging_strategy logging_steps logging_first_step log_on_each_node
logging_nan_inf_filter include_num_input_tokens_seen log_level log_level_replica disable_tqdm report_to run_name
project trackio_space_id trackio_bucket_id trackio_static_space_id eval_strategy eval_steps eval_delay
per_device_eval_batch_size prediction_loss_only eval_on_start eval_do_concat_batches eval_use_gather_object
eval_accumulation_steps include_for_metrics batch_eval_metrics save_only_model save_strategy save_steps
save_on_each_node save_total_limit enable_jit_checkpoint push_to_hub hub_token hub_private_repo hub_model_id
hub_strategy hub_always_push hub_revision load_best_model_at_end metric_for_best_model greater_is_better
ignore_data_skip restore_callback_states_from_checkpoint full_determinism seed data_seed use_cpu
dataloader_num_workers dataloader_pin_memory dataloader_persistent_workers dataloader_prefetch_factor
dataloader_multiprocessing_context dataloader_in_order remove_unused_columns label_names train_sampling_strategy
length_column_name ddp_find_unused_parameters ddp_bucket_cap_mb ddp_broadcast_buffers ddp_static_graph ddp_backend
ddp_timeout fsdp fsdp_config debug skip_memory_metrics do_train do_eval do_predict local_rank
overwrite_output_dir logging_dir save_safetensors jit_mode_eval use_ipex bf16_full_eval past_index
group_by_length hub_private_repo gradient_checkpointing_kwargs eval_do_concat_batches use_mps_device
evaluation_strategy push_to_hub_model_id push_to_hub_organization push_to_hub_token mp_parameters
ray_scope torchdynamo tpu_num_cores tpu_metrics_debug fp16_opt_level fp16_backend half_precision_backend
"""

# TRL's offline trainers: fields that shape the data or the loss, not the steps.
_TRL = """
model_init_kwargs chat_template_path dataset_text_field dataset_kwargs dataset_num_proc eos_token pad_token
max_length max_seq_length packing_strategy padding_free pad_to_multiple_of eval_packing completion_only_loss
assistant_only_loss loss_type activation_offloading use_flash_attention_adapter shuffle_dataset
beta label_smoothing max_prompt_length max_completion_length truncation_mode padding_value label_pad_token_id
precompute_ref_log_probs precompute_ref_batch_size ref_model_init_kwargs generate_during_eval is_encoder_decoder
disable_dropout ref_model_mixup_alpha ref_model_sync_steps sync_ref_model rpo_alpha use_weighting
f_divergence_type f_alpha_divergence_coef reference_free force_use_ref_model tools use_logits_to_keep ld_alpha
discopop_tau loss_weights desirable_weight undesirable_weight center_rewards_coefficient cpo_alpha simpo_gamma
dataset_name dataset_config dataset_train_split dataset_test_split model_name_or_path model_revision torch_dtype
trust_remote_code attn_implementation use_peft lora_r lora_alpha lora_dropout lora_target_modules
lora_modules_to_save lora_task_type use_rslora use_dora load_in_8bit load_in_4bit bnb_4bit_quant_type
use_bnb_nested_quant
"""

# The example scripts' own dataclasses (run_clm.py, run_mlm.py...: ModelArguments, DataTrainingArguments),
# parsed from the same file by HfArgumentParser.
_EXAMPLES = """
model_type config_overrides config_name tokenizer_name cache_dir use_fast_tokenizer token low_cpu_mem_usage
dataset_config_name train_file validation_file test_file max_eval_samples max_predict_samples streaming block_size
overwrite_cache validation_split_percentage preprocessing_num_workers keep_linebreaks mlm_probability
line_by_line pad_to_max_length max_seq_length text_column_name
"""

#: Fields known not to change the LR, the steps, or their size.
IRRELEVANT = frozenset(_TRAINING_ARGUMENTS.split()) | frozenset(_TRL.split()) | frozenset(_EXAMPLES.split())


def _true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _set(value: Any) -> bool:
    return value not in (None, False, "", {}, [])


def _accelerator(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())  # a JSON file sched does not open
    if isinstance(value, dict):
        return _true(value.get("split_batches")) or value.get("even_batches") is False
    return False


#: Fields that change the schedule or the steps when set, and what the note says.
UNMODELLED: dict[str, tuple[Callable[[Any], bool], str]] = {
    "auto_find_batch_size": (
        _true,
        "halves per_device_train_batch_size after an out-of-memory error, which changes the steps; the preview "
        "assumes the batch fits",
    ),
    "accelerator_config": (
        _accelerator,
        "split_batches (the batch is split across devices) or even_batches: false change each rank's loader "
        "length; the preview assumes accelerate's defaults",
    ),
    "resume_from_checkpoint": (
        _set,
        "the run resumes from a checkpoint, whose step the preview does not know; preview it with "
        "--resume-from/--resume-at",
    ),
    "parallelism_config": (
        _set,
        "tensor or context parallelism makes the data-parallel size smaller than the world size; give --devices "
        "as the data-parallel size",
    ),
    "optim": (
        lambda value: isinstance(value, str) and "schedule_free" in value,
        "a schedule-free optimizer replaces the LR schedule's decay with its own averaging",
    ),
    "max_train_samples": (
        _set,
        "the example scripts cap the training set at this many rows: give --dataset-size as the smaller of it and "
        "the dataset's rows (after grouping into blocks)",
    ),
    "packing": (
        _true,
        "packing joins samples into sequences, so --dataset-size must count packed sequences, not dataset rows",
    ),
}
