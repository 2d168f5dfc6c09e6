"""The backward pass: Algorithms 4 (VariableNodeBackward) and 5 (OperationNodeBackward).

The recursive description of section 4.4 is run iteratively: the nodes
reachable from the outputs are collected with an explicit stack and visited
in reverse creation order, which is a topological order because a node's
parents always exist before it. Each variable node is therefore visited once,
after all downstream products D·∂ have been added to its accumulator, so a
variable used in several places (the f(x, x + 1) example of section 4.3)
receives the sum over all paths. Deep graphs do not hit the recursion limit.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any, Sequence

import numpy as np

from ._errors import ShapeError
from ._node import Variable

__all__ = ["backward_pass", "default_seed"]

_by_id = attrgetter("_id")


def default_seed(y: Variable, what: str) -> np.ndarray:
    """The seed D = 1 for a scalar output; non-scalar outputs need an explicit seed."""
    if y.value.size != 1:
        raise ShapeError(
            f"{what}: the output has shape {y.shape}, so a seed vector of that shape is "
            "needed (the backward pass computes seed^T J; only a single-element output "
            "has the implicit seed 1)"
        )
    return np.ones(y.value.shape, dtype=y.value.dtype)


def _collect(outputs: Sequence[Variable], stop: set | None) -> tuple[list, bool]:
    """Nodes reachable from `outputs` through parent links, not crossing `stop` nodes.

    Returns the nodes and whether a source node outside `stop` was reached
    (only then can some nodes be irrelevant to the requested gradients).
    """
    seen = set()
    nodes = []
    stack = list(outputs)
    foreign_source = False
    while stack:
        node = stack.pop()
        key = id(node)
        if key in seen:
            continue
        seen.add(key)
        nodes.append(node)
        op = node.op
        if stop is not None and key in stop:
            continue
        if op is None:
            foreign_source = True
            continue
        for p in op.parents:
            if id(p) not in seen:
                stack.append(p)
    nodes.sort(key=_by_id, reverse=True)
    return nodes, foreign_source


def _relevant(nodes: list, stop: set) -> set:
    """Ids of nodes that depend on a `stop` node (gradients flow only through them)."""
    relevant = set()
    for node in reversed(nodes):
        key = id(node)
        if key in stop:
            relevant.add(key)
        elif node.op is not None:
            for p in node.op.parents:
                if id(p) in relevant:
                    relevant.add(key)
                    break
    return relevant


def _check_seed(y: Variable, seed: Any) -> Any:
    shape = seed.shape if isinstance(seed, Variable) else np.shape(seed)
    if tuple(shape) != y.value.shape:
        raise ShapeError(f"backward: seed of shape {tuple(shape)} for an output of shape {y.value.shape}")
    if isinstance(seed, Variable):
        return seed
    seed = np.asarray(seed)
    return seed if seed.dtype.kind == "f" else seed.astype(np.float64)


def backward_pass(
    outputs: Sequence[Variable],
    seeds: Sequence[Any],
    wrt: Sequence[Variable] | None = None,
    create_graph: bool = False,
) -> list | None:
    """Propagate seeds from `outputs` back through the graph.

    With `wrt=None` the result is accumulated into the `grad` of every source
    node (Algorithm 4's V.derivative); otherwise the gradients with respect to
    the `wrt` nodes are returned (None where no path exists) and no node is
    modified. With `create_graph=True` the VJP rules run on variable nodes, so
    the returned gradients are themselves differentiable.
    """
    grads: dict[int, Any] = {}
    for y, seed in zip(outputs, seeds):
        seed = _check_seed(y, seed)
        key = id(y)
        grads[key] = seed if key not in grads else grads[key] + seed

    stop = None if wrt is None else {id(v) for v in wrt}
    nodes, foreign = _collect(outputs, stop)
    relevant = _relevant(nodes, stop) if (stop is not None and foreign) else None
    results: dict[int, Any] = {}

    for node in nodes:
        key = id(node)
        g = grads.pop(key, None)
        if g is None:
            continue
        op = node.op
        if stop is not None and key in stop:
            results[key] = g
            continue
        if op is None:
            if stop is None:
                if not create_graph and isinstance(g, Variable):
                    g = g.value
                node.grad = g if node.grad is None else node.grad + g
            continue
        if create_graph:
            args, ans = op.args, node
        else:
            args, ans = op.raw_args, node.value
        kwargs = op.kwargs
        vjps = op.primitive.vjps
        for i, parent in zip(op.argnums, op.parents):
            pkey = id(parent)
            if relevant is not None and pkey not in relevant:
                continue
            if kwargs is None:
                gi = vjps[i](g, ans, *args)
            else:
                gi = vjps[i](g, ans, *args, **kwargs)
            prev = grads.get(pkey)
            grads[pkey] = gi if prev is None else prev + gi

    if wrt is None:
        return None
    return [results.get(id(v)) for v in wrt]
