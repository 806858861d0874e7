"""sched: preview and export Composer-style stateless learning-rate schedules.

The library mirrors ``composer.optim.scheduler``: ``from sched_cli.schedulers import
CosineAnnealingWithWarmupScheduler`` and ``from sched_cli.state import State``. Importing
``sched_cli`` itself is cheap: the submodules load when first used.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
