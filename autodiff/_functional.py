"""Functional API: grad, value_and_grad, vjp, jvp, hessian_vector_product, hessian, jacobian.

Each transform lifts its inputs to source variable nodes, runs the function
(building the graph dynamically, section 4.5) and runs the backward pass
(Algorithms 4 and 5). When a transform is applied inside another one (or to
traced inputs) its backward pass records a graph (`create_graph`), so the
result can be differentiated again: that is how Hessians and Jacobians of
gradients are obtained. jvp uses the double-vjp trick: the VJP u -> J^T u is
linear in u, and its own VJP applied to the tangent t is J t.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from ._backward import backward_pass, default_seed
from ._errors import ShapeError
from ._node import Primitive, Variable, raw
from ._ops_core import reshape, sum
from ._ops_shape import stack
from ._tree import flatten, unflatten

__all__ = [
    "grad",
    "value_and_grad",
    "vjp",
    "jvp",
    "hessian_vector_product",
    "hessian",
    "jacobian",
]

_identity = Primitive("identity", lambda x: x, (lambda g, ans, x: g,))
_state = threading.local()


def _depth() -> int:
    return getattr(_state, "depth", 0)


@contextmanager
def _tracing() -> Iterator[None]:
    _state.depth = _depth() + 1
    try:
        yield
    finally:
        _state.depth -= 1


def _lift(leaf: Any) -> Variable:
    """A fresh source node for this transform (an identity node if `leaf` is already traced)."""
    if isinstance(leaf, Variable):
        return _identity(leaf)
    return Variable(leaf)


def _argnums_tuple(argnums: int | Sequence[int], nargs: int) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for n in nums:
        if not -nargs <= n < nargs:
            raise ValueError(f"argnums {n} is out of range for {nargs} positional argument(s)")
    return tuple(n % nargs for n in nums)


class _Lifted:
    """Arguments with the differentiated ones replaced by fresh nodes."""

    def __init__(self, args: tuple, nums: tuple[int, ...]) -> None:
        self.args = list(args)
        self.nums = nums
        self.defs = []
        self.inputs: list[Variable] = []
        self.counts = []
        nested = _depth() > 0
        for n in nums:
            leaves, treedef = flatten(args[n])
            nested = nested or any(isinstance(x, Variable) for x in leaves)
            lifted = [_lift(x) for x in leaves]
            self.args[n] = unflatten(treedef, lifted)
            self.defs.append(treedef)
            self.counts.append(len(lifted))
            self.inputs.extend(lifted)
        self.nested = nested

    def call(self, f: Callable) -> Any:
        with _tracing():
            return f(*self.args)

    def regroup(self, flat: list, single: bool) -> Any:
        """Per-argument pytrees from a flat list of per-input results."""
        out, start = [], 0
        for treedef, count in zip(self.defs, self.counts):
            out.append(unflatten(treedef, flat[start:start + count]))
            start += count
        return out[0] if single else tuple(out)


def _finish(x: Any, nested: bool) -> Any:
    """Plain numpy result (0-d results as numpy scalars) unless a graph is being recorded."""
    if nested:
        return x
    x = raw(x)
    arr = np.asarray(x)
    if arr.ndim == 0:
        return arr[()]
    if not arr.flags.writeable:
        arr = arr.copy()
    return arr


def _fill(grads: list, inputs: list[Variable], nested: bool) -> list:
    return [
        _finish(np.zeros_like(v.value) if g is None else g, nested) for g, v in zip(grads, inputs)
    ]


def value_and_grad(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """Return a function computing (f(*args), gradient of f w.r.t. args[argnums]).

    `f` must return a single-element value. With a tuple `argnums` the gradient
    is a tuple; arguments may be arrays, Python floats or nested tuples/lists/dicts.
    """

    def value_and_grad_f(*args: Any) -> tuple[Any, Any]:
        lifted = _Lifted(args, _argnums_tuple(argnums, len(args)))
        out = lifted.call(f)
        if isinstance(out, Variable):
            seed = default_seed(out, "grad")
            grads = backward_pass([out], [seed], wrt=lifted.inputs, create_graph=lifted.nested)
        else:
            if np.size(out) != 1:
                raise ShapeError(f"grad: f must return a single-element value, got shape {np.shape(out)}")
            grads = [None] * len(lifted.inputs)
        flat = _fill(grads, lifted.inputs, lifted.nested)
        return _finish(out, lifted.nested), lifted.regroup(flat, isinstance(argnums, int))

    return value_and_grad_f


def grad(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """Return a function computing the gradient of scalar-valued `f` (reverse mode, section 4.4)."""
    vg = value_and_grad(f, argnums)

    def grad_f(*args: Any) -> Any:
        return vg(*args)[1]

    return grad_f


def vjp(f: Callable, *primals: Any) -> tuple[Any, Callable]:
    """Evaluate f(*primals) and return (y, vjp_fn) with vjp_fn(v) = v^T D_{f,x} (section 4.6).

    vjp_fn returns a tuple with one gradient per primal; `v` has the structure of y.
    """
    lifted = _Lifted(primals, tuple(range(len(primals))))
    out = lifted.call(f)
    out_leaves, out_def = flatten(out)
    nested = lifted.nested

    def vjp_fn(cotangent: Any) -> tuple:
        ct_leaves, _ = flatten(cotangent)
        if len(ct_leaves) != len(out_leaves):
            raise ShapeError(f"vjp: cotangent has {len(ct_leaves)} leaves, the output has {len(out_leaves)}")
        outputs, seeds = [], []
        for y, v in zip(out_leaves, ct_leaves):
            if np.shape(raw(v)) != np.shape(raw(y)):
                raise ShapeError(f"vjp: cotangent of shape {np.shape(raw(v))} for an output of shape {np.shape(raw(y))}")
            if isinstance(y, Variable):
                outputs.append(y)
                seeds.append(v)
        record = nested or any(isinstance(v, Variable) for v in seeds)
        grads = backward_pass(outputs, seeds, wrt=lifted.inputs, create_graph=record) if outputs else [None] * len(lifted.inputs)
        return lifted.regroup(_fill(grads, lifted.inputs, record), False)

    y = unflatten(out_def, [_finish(v, nested) for v in out_leaves])
    return y, vjp_fn


def jvp(f: Callable, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """Forward-mode product: return (f(*primals), D_{f,x} t) by the double-vjp trick."""
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError("jvp: primals and tangents must have the same length")
    lifted = _Lifted(primals, tuple(range(len(primals))))
    t_leaves, _ = flatten(tangents)
    if len(t_leaves) != len(lifted.inputs):
        raise ShapeError("jvp: tangents must have the same structure as primals")
    for x, t in zip(lifted.inputs, t_leaves):
        if np.shape(raw(t)) != x.shape:
            raise ShapeError(f"jvp: tangent of shape {np.shape(raw(t))} for a primal of shape {x.shape}")
    out = lifted.call(f)
    out_leaves, out_def = flatten(out)
    nested = lifted.nested or any(isinstance(t, Variable) for t in t_leaves)
    outputs = [y for y in out_leaves if isinstance(y, Variable)]
    dummies = [Variable(np.zeros_like(y.value)) for y in outputs]
    if outputs:
        pulled = backward_pass(outputs, dummies, wrt=lifted.inputs, create_graph=True)
    else:
        pulled = []
    linear, seeds = [], []
    for g, t in zip(pulled, t_leaves):
        if isinstance(g, Variable):
            linear.append(g)
            seeds.append(t if isinstance(t, Variable) else np.asarray(t, dtype=g.dtype))
    pushed = backward_pass(linear, seeds, wrt=dummies, create_graph=nested) if linear else [None] * len(dummies)
    by_output = iter(pushed)
    tangent_out = []
    for y in out_leaves:
        if isinstance(y, Variable):
            t = next(by_output)
            tangent_out.append(_finish(np.zeros_like(y.value) if t is None else t, nested))
        else:
            tangent_out.append(_finish(np.zeros_like(np.asarray(y, dtype=np.float64)), nested))
    y = unflatten(out_def, [_finish(v, nested) for v in out_leaves])
    return y, unflatten(out_def, tangent_out)


def _tree_vdot(a: Any, b: Any) -> Any:
    la, _ = flatten(a)
    lb, _ = flatten(b)
    total = 0.0
    for x, y in zip(la, lb):
        total = total + sum(x * np.asarray(raw(y)) if not isinstance(y, Variable) else x * y)
    return total


def hessian_vector_product(f: Callable, argnums: int = 0) -> Callable:
    """Return hvp(*args, vector) = (∇² f) · vector, by differentiating <∇f(x), vector>."""
    if not isinstance(argnums, int):
        raise TypeError("hessian_vector_product: argnums must be a single int")

    def hvp(*args_and_vector: Any) -> Any:
        *args, vector = args_and_vector
        grad_f = grad(f, argnums)
        return grad(lambda *a: _tree_vdot(grad_f(*a), vector), argnums)(*args)

    return hvp


def jacobian(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """Return a function computing the Jacobian D_{f,x} (section 4.1), shape y.shape + x.shape.

    One backward pass per output entry (reverse mode). With a tuple `argnums`
    the result is a tuple of Jacobians; `f` must return a single array.
    """

    def jacobian_f(*args: Any) -> Any:
        nums = _argnums_tuple(argnums, len(args))
        for n in nums:
            if isinstance(args[n], (tuple, list, dict)):
                raise TypeError("jacobian: differentiated arguments must be arrays or floats")
        lifted = _Lifted(args, nums)
        out = lifted.call(f)
        out_shape = np.shape(raw(out))
        nested = lifted.nested
        size = int(np.prod(out_shape, dtype=np.int64))
        rows: list[list] = [[] for _ in lifted.inputs]
        for k in range(size):
            if isinstance(out, Variable):
                seed = np.zeros(size, dtype=out.dtype)
                seed[k] = 1.0
                grads = backward_pass([out], [seed.reshape(out_shape)], wrt=lifted.inputs, create_graph=nested)
            else:
                grads = [None] * len(lifted.inputs)
            for r, g, x in zip(rows, grads, lifted.inputs):
                r.append(np.zeros_like(x.value) if g is None else g)
        result = []
        for r, x in zip(rows, lifted.inputs):
            if size == 0:
                result.append(np.zeros(out_shape + x.shape))
                continue
            if any(isinstance(g, Variable) for g in r):
                result.append(reshape(stack(r), out_shape + x.shape))
            else:
                result.append(_finish(np.stack([raw(g) for g in r]).reshape(out_shape + x.shape), nested))
        return result[0] if isinstance(argnums, int) else tuple(result)

    return jacobian_f


def hessian(f: Callable, argnums: int = 0) -> Callable:
    """Return a function computing the Hessian of scalar `f` w.r.t. args[argnums], shape x.shape * 2."""
    if not isinstance(argnums, int):
        raise TypeError("hessian: argnums must be a single int")
    return jacobian(grad(f, argnums), argnums)
