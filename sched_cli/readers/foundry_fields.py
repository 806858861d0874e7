"""The keys of an LLM Foundry training YAML (and of an MCLI run file around one), by what they do
to the schedule: read by :mod:`sched_cli.readers.foundry`, or known to change nothing."""

from __future__ import annotations

#: Keys read (at the top level, or under an MCLI run file's ``parameters``).
KEYS = frozenset(
    "max_duration global_train_batch_size max_seq_len variables scheduler optimizer train_loader "
    "train_subset_num_batches dataloader_len parameters compute load_path".split()
)
#: llmfoundry's ``TrainConfig`` fields (``llmfoundry/utils/config_utils.py``) and MCLI run keys
#: that change neither the LR nor the batches: the model, evaluation, logging, checkpoints...
IRRELEVANT = frozenset(
    """model tokenizer device_train_batch_size device_eval_batch_size eval_interval seed global_seed precision
    code_paths max_split_size_mb expandable_segments cuda_load_lazy dist_timeout fsdp_config tp_config eval_loader
    eval_loaders icl_tasks icl_tasks_str eval_gauntlet eval_gauntlet_str icl_subset_num_batches icl_seq_len loggers
    progress_bar log_to_console python_log_level console_log_interval log_config callbacks algorithms save_folder
    save_latest_filename save_overwrite save_weights_only save_filename save_interval save_num_checkpoints_to_keep
    load_weights_only load_strict_model_weights load_ignore_keys save_ignore_keys device_train_microbatch_size
    eval_subset_num_batches eval_first compile_config metadata run_name autoresume profiler n_gpus
    device_train_grad_accum data_local data_remote hf_save_path name image integrations command scheduling
    env_variables cluster gpu_type gpu_num""".split()
)
