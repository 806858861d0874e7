"""Which code a spec may run: the trust rule for custom schedulers.

A spec names a custom scheduler as ``path/to/file.py:name`` or ``package.module:name``; sched
then imports that code and calls it. Opening, validating or plotting a spec must never run code
the user did not choose, so every such name is checked here *before* anything is imported or
constructed, wherever it appears (top-level schedulers, ``sequential`` phases at any depth):

- **A file** (``file.py:name``) must be a ``.py`` file inside the spec's own directory tree: the
  directory that holds the spec file, or below it, once symlinks and ``..`` are resolved. Whoever
  wrote the spec put its code next to it; a spec cannot reach out to ``/tmp/x.py`` or
  ``../../elsewhere.py``. In an inline expression typed on the command line the user chose the
  file: there it is relative to the current directory and may be anywhere, but must still be a
  ``.py`` file.
- **A module** (``package.module:name``) must be allowed explicitly, with ``--allow-import PKG``
  (repeatable) or the environment variable ``SCHED_ALLOW_IMPORT=pkg1,pkg2``. Allowing ``pkg``
  allows ``pkg`` and its submodules (``pkg.schedules``), nothing else. This holds for inline
  expressions too: ``os:system`` is never imported just because it was named.
- **PyTorch schedulers** are a fixed list of classes of ``torch.optim.lr_scheduler``
  (:data:`~sched_cli.schedulers.torch_native.TORCH_SCHEDULERS`), never an arbitrary attribute.

Anything else is a :class:`UntrustedCode` error naming what would have been imported (and
called with which arguments) and how to allow it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ENV_VAR", "Trust", "UntrustedCode"]

#: Modules allowed from the environment, comma-separated.
ENV_VAR = "SCHED_ALLOW_IMPORT"


class UntrustedCode(Exception):
    """A custom scheduler the trust rule does not allow; nothing was imported."""


@dataclass(frozen=True)
class Trust:
    """What a spec may import.

    Args:
        root: The spec's directory: custom ``.py`` files must lie in its tree. ``None`` for an
            inline expression, whose files the user typed (any ``.py`` file, relative to the
            current directory).
        modules: Modules (and their submodules) allowed by the user, e.g. from ``--allow-import``.
            Those in :data:`ENV_VAR` are added by :meth:`allowed_modules`.
    """

    root: Path | None
    modules: tuple[str, ...] = ()

    @classmethod
    def for_spec(cls, spec_dir: str | os.PathLike[str], modules: Iterable[str] = ()) -> Trust:
        return cls(Path(spec_dir), tuple(modules))

    @classmethod
    def for_inline(cls, modules: Iterable[str] = ()) -> Trust:
        return cls(None, tuple(modules))

    def allowed_modules(self) -> tuple[str, ...]:
        """The modules allowed on the command line and in the environment."""
        from_env = [m.strip() for m in os.environ.get(ENV_VAR, "").split(",")]
        return tuple(m for m in (*self.modules, *from_env) if m)

    def check_module(self, module: str, what: str) -> None:
        """Allow importing ``module`` only if the user allowed it (or a package holding it).

        ``what`` says what would then run, e.g. ``"call Popen(args=['touch', 'x'])"``.
        """
        for allowed in self.allowed_modules():
            if module == allowed or module.startswith(allowed + "."):
                return
        top = module.split(".")[0]
        raise UntrustedCode(
            f"would import module {module!r} and {what}: a spec runs only code you allow; "
            f"if you trust {top!r}, pass --allow-import {top} (or set {ENV_VAR}={top})"
        )

    def check_file(self, target: str, base_dir: str | os.PathLike[str], what: str) -> Path:
        """The resolved path of custom code file ``target`` (relative to ``base_dir``), if allowed.

        Symlinks are followed and ``..`` resolved before the path is compared with the tree.
        """
        resolved = (Path(base_dir) / target).resolve()
        if resolved.suffix != ".py":
            raise UntrustedCode(
                f"would run {target!r} ({resolved}) and {what}, but custom scheduler code must be a .py file"
            )
        if self.root is None:
            return resolved
        root = Path(self.root).resolve()
        if not resolved.is_relative_to(root):
            raise UntrustedCode(
                f"would run {target!r} ({resolved}) and {what}, but it lies outside the spec's directory {root}: "
                "a spec runs only .py files in its own directory tree; move the file there, or make it an "
                "importable module and pass --allow-import"
            )
        return resolved
