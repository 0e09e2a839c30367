"""Where an operation sits: operation Ids are positions, hashed.

The SDK names the n-th operation of a context ``blake2b(f"{context_id}-{n}")`` (``blake2b(n)`` at
the top level), counting from 1, and the i-th map iteration or parallel branch
``blake2b(f"{map_id}-{i}")`` counting from 0 (docs/service-semantics.md#operations). So an
operation's position is found by hashing candidates, and an operation moved to another position gets
(with everything under it) a new Id computed the same way. Operations under a FLAT (virtual) context
carry a prefix that is not their parent's Id; they have no position here and keep their order of
start.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import replace

from pytest_durable.service.model import Operation, OperationType

_SEARCH_MARGIN = 8


def operation_id(parent_id: str | None, index: int) -> str:
    """The Id the SDK gives the operation at ``index`` under ``parent_id``."""
    raw = f"{parent_id}-{index}" if parent_id else str(index)
    return hashlib.blake2b(raw.encode()).hexdigest()[:64]


def index_of(operation_id_: str, parent_id: str | None, limit: int) -> int | None:
    """The position of ``operation_id_`` under ``parent_id`` (0..limit), or None."""
    for index in range(limit + 1):
        if operation_id(parent_id, index) == operation_id_:
            return index
    return None


def children_by_position(operations: Iterable[Operation]) -> dict[str | None, list[Operation]]:
    """Non-EXECUTION operations grouped by parent, in position order (unpositioned ones after,
    in their order of start)."""
    grouped: dict[str | None, list[Operation]] = {}
    for operation in operations:
        if operation.type is not OperationType.EXECUTION:
            grouped.setdefault(operation.parent_id, []).append(operation)
    ordered: dict[str | None, list[Operation]] = {}
    for parent, siblings in grouped.items():
        limit = len(siblings) + _SEARCH_MARGIN
        indexed = [(index_of(op.id, parent, limit), op) for op in siblings]
        positioned = sorted((i, op) for i, op in indexed if i is not None)
        ordered[parent] = [op for _, op in positioned] + [op for i, op in indexed if i is None]
    return ordered


def subtree(operations: dict[str, Operation], root_id: str) -> list[str]:
    """``root_id`` and the Ids of every operation under it."""
    children: dict[str | None, list[str]] = {}
    for op in operations.values():
        children.setdefault(op.parent_id, []).append(op.id)
    found, pending = [], [root_id]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(children.get(current, []))
    return found


def moved(
    operations: dict[str, Operation], source_id: str, target_id: str
) -> list[tuple[str, Operation]]:
    """Copies of ``source_id`` and everything under it, re-keyed so the source sits at
    ``target_id``: each descendant keeps its position under its (re-keyed) parent. Returns
    ``(original Id, copy)`` pairs."""
    source = operations[source_id]
    copies = [(source_id, replace(source, id=target_id))]
    new_ids = {source_id: target_id}
    children: dict[str, list[Operation]] = {}
    for op in operations.values():
        if op.parent_id is not None:
            children.setdefault(op.parent_id, []).append(op)
    pending = [source_id]
    while pending:
        parent = pending.pop(0)
        siblings = children.get(parent, [])
        limit = len(siblings) + _SEARCH_MARGIN
        for child in siblings:
            index = index_of(child.id, parent, limit)
            if index is None:
                continue  # not positional: cannot be re-keyed, so it is left out
            new_id = operation_id(new_ids[parent], index)
            new_ids[child.id] = new_id
            copies.append((child.id, replace(child, id=new_id, parent_id=new_ids[parent])))
            pending.append(child.id)
    return copies
