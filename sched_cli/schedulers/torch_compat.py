"""Turn a stateless scheduler into a PyTorch ``LambdaLR``, as Composer's Trainer does.

torch is imported inside the function only: the rest of ``sched_cli`` works without it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sched_cli.schedulers.base import call_scheduler, takes_ssr

__all__ = ["compile_composer_scheduler"]


def compile_composer_scheduler(
    scheduler: Callable[..., float], state: Any, ssr: float = 1.0, optimizer: Any = None
) -> Any:
    """A ``torch.optim.lr_scheduler.LambdaLR`` whose multiplier is ``scheduler(state, ssr)``.

    The result is bound to ``state``: each ``step()`` re-reads ``state.timestamp``, so the
    scheduler's own step counter is ignored, exactly as in Composer.

    Args:
        scheduler: Any stateless scheduler (a built-in, a function, a callable object).
        state: The state it reads (a :class:`sched_cli.state.State` or Composer's own).
        ssr: Scale schedule ratio. A scheduler that takes only ``state`` needs ``ssr == 1``.
        optimizer: The optimizer to drive; by default the State's only optimizer.

    Raises:
        ImportError: torch is not installed (``pip install 'sched-cli[torch]'``).
        ValueError: no optimizer was given and the State does not carry exactly one.
    """
    try:
        from torch.optim.lr_scheduler import LambdaLR
    except ImportError as exc:  # pragma: no cover - exercised only without torch
        raise ImportError("compile_composer_scheduler needs PyTorch: pip install 'sched-cli[torch]'") from exc

    if optimizer is None:
        optimizers = list(getattr(state, "optimizers", None) or [])
        if len(optimizers) != 1:
            raise ValueError(
                f"compile_composer_scheduler needs one optimizer: pass optimizer=..., "
                f"or give the State exactly one (it has {len(optimizers)})"
            )
        optimizer = optimizers[0]

    ssr_aware = takes_ssr(scheduler)

    def multiplier(step: int) -> float:
        del step  # LambdaLR's own counter; the State's timestamp is the clock
        return call_scheduler(scheduler, state, ssr, ssr_aware=ssr_aware)

    return LambdaLR(optimizer, multiplier)
