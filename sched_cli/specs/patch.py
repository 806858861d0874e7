"""What-if changes to a file's own keys, made before its reader reads it (:attr:`Overrides.patch`).

``sched check`` tests an explanation such as "the run had ``gradient_accumulation_steps: 2``" by
reading the plan's file again with that key changed, so that the reader applies its tool's own
rules to the new value (the steps per epoch, the warmup HF derives, DeepSpeed's ``auto`` fill...)
instead of sched redoing them. A key is dotted to reach into mappings (``scheduler.t_warmup``) or
lists (``schedulers.0.t_warmup``); ``None`` removes it. A reader whose files are not mappings
(Megatron-LM's flags) patches them with its own ``patched(data, patch)``.
"""

from __future__ import annotations

import copy
from typing import Any

from sched_cli.specs.values import SpecError

__all__ = ["patched"]


def patched(data: Any, patch: tuple[tuple[str, Any], ...], source: str, reader: Any = None) -> Any:
    """``data`` with each ``(key, value)`` of ``patch`` set (a copy: the parsed file is left as it was)."""
    if not patch:
        return data
    if not isinstance(data, dict):
        hook = getattr(reader, "patched", None)
        if hook is None:
            raise SpecError(f"{source}: its keys cannot be changed for a what-if ({patch[0][0]})")
        return hook(data, patch)
    data = copy.deepcopy(data)
    for key, value in patch:
        *parents, last = key.split(".")
        node: Any = data
        for part in parents:
            node = _child(node, part)
            if node is None:
                raise SpecError(f"{source}: {key}: the file has no {part!r} to change")
        if isinstance(node, list):
            node[int(last)] = value
        elif value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return data


def _child(node: Any, part: str) -> Any:
    if isinstance(node, dict):
        child = node.get(part)
    elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
        child = node[int(part)]
    else:
        return None
    return child if isinstance(child, dict | list) else None
