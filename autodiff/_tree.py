"""Flatten and rebuild nested tuples/lists/dicts of arrays (arguments of the functional API)."""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["flatten", "unflatten", "tree_map"]


def flatten(tree: Any) -> tuple[list, Any]:
    """Leaves of `tree` in order and a description to rebuild it."""
    leaves: list = []

    def walk(node: Any) -> Any:
        if isinstance(node, (tuple, list)):
            return (type(node), [walk(c) for c in node])
        if isinstance(node, dict):
            keys = list(node)
            return (dict, keys, [walk(node[k]) for k in keys])
        leaves.append(node)
        return None

    return leaves, walk(tree)


def unflatten(treedef: Any, leaves: list) -> Any:
    """Inverse of `flatten`."""
    it = iter(leaves)

    def build(d: Any) -> Any:
        if d is None:
            return next(it)
        if d[0] is dict:
            return {k: build(c) for k, c in zip(d[1], d[2])}
        return d[0](build(c) for c in d[1])

    return build(treedef)


def tree_map(fn: Callable[[Any], Any], tree: Any) -> Any:
    """Apply `fn` to every leaf."""
    leaves, treedef = flatten(tree)
    return unflatten(treedef, [fn(x) for x in leaves])
