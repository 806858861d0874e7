"""Tools whose files only look like another's: recognised by their keys, and refused in one line
naming the tool and what it adds, never read as something else.

Each entry of :data:`TOOLS` is a tool no reader models yet: the keys that identify it and what it
changes in the schedule. When a reader for one of them arrives (axolotl and LLaMA-Factory have), its
entry goes, and the reader's ``recognise`` takes over: :func:`identify` is asked before any reader
reads a file, so a reader never reads another tool's file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Tool", "TOOLS", "identify", "tool_keys"]


@dataclass(frozen=True)
class Tool:
    """A tool no reader models.

    Args:
        name: The tool, as its users name it.
        keys: Top-level keys only its files have.
        needs: How many of ``keys`` a file must have to be this tool's (one key can be a coincidence).
        adds: What the tool changes that sched would miss, for the refusal.
        detail: A more precise name and reason from the file's values (a stage, a backend), or ``None``.
    """

    name: str
    keys: frozenset[str]
    needs: int
    adds: str
    detail: Callable[[dict[str, Any]], str | None] | None = None

    def matches(self, data: dict[str, Any]) -> list[str]:
        """The identifying keys ``data`` has, when they are enough; else an empty list."""
        found = [key for key in data if key in self.keys]
        return found if len(found) >= self.needs else []


def _trl_online(data: dict[str, Any]) -> str | None:
    """Which of TRL's online trainers a config is for, by the keys only it has."""
    if "rloo_k" in data:
        return "RLOOConfig (RLOO)"
    if "mixture_coef" in data:
        return "NashMDConfig (Nash-MD)"
    if any(k in data for k in ("num_ppo_epochs", "total_episodes", "num_mini_batches", "vf_coef", "cliprange_value")):
        return "PPOConfig (PPO)"
    if any(k in data for k in ("num_generations", "steps_per_generation", "generation_batch_size", "reward_funcs")):
        return "GRPOConfig (GRPO, or RLOO's new config)"
    return "OnlineDPOConfig (online DPO, Nash-MD or XPO)"


TOOLS: tuple[Tool, ...] = (
    Tool(
        "accelerate launch",
        frozenset(
            {
                "compute_environment",
                "distributed_type",
                "num_processes",
                "num_machines",
                "machine_rank",
                "main_training_function",
                "deepspeed_config",
                "fsdp_config",
                "mixed_precision",
                "rdzv_backend",
                "same_network",
                "use_cpu",
            }
        ),
        2,
        "it says how `accelerate launch` starts the processes (its num_processes is the world size: give it to "
        "sched as --devices); give sched the TrainingArguments file the training script reads",
    ),
    Tool(
        "a TRL online trainer",
        frozenset(
            {
                "num_generations",
                "num_ppo_epochs",
                "rloo_k",
                "missing_eos_penalty",
                "vllm_mode",
                "use_vllm",
                "steps_per_generation",
                "generation_batch_size",
                "total_episodes",
                "mixture_coef",
                "reward_funcs",
                "num_mini_batches",
                "kl_coef",
                "cliprange",
                "vf_coef",
                "cliprange_value",
            }
        ),
        1,
        "its steps count generated completions (per_device_train_batch_size counts completions, num_generations "
        "of them per prompt, and an epoch of rollouts may take several optimizer steps), not SFT samples; "
        "sched does not model TRL's online trainers",
        _trl_online,
    ),
)


def tool_keys() -> frozenset[str]:
    """Every key that identifies a tool of :data:`TOOLS` (a reader notes them when it meets one)."""
    return frozenset().union(*(tool.keys for tool in TOOLS))


def identify(data: Any, source: str) -> str | None:
    """The one-line refusal for a file of a tool no reader models, or ``None``."""
    if not isinstance(data, dict):
        return None
    for tool in TOOLS:
        found = tool.matches(data)
        if not found:
            continue
        detail = tool.detail(data) if tool.detail else None
        keys = ", ".join(found[:4])
        if tool.name == "a TRL online trainer":
            return f"{source}: this is a TRL {detail} config ({keys}): {tool.adds}"
        if tool.name == "accelerate launch":
            return f"{source}: this is an accelerate launch config ({keys}), not training arguments: {tool.adds}"
        what = f"; {detail}" if detail else ""
        return f"{source}: this is a {tool.name} config ({keys}){what}: sched would miss {tool.adds}"
    return None
