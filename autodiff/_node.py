"""Variable and operation nodes of the computation graph (section 4.4).

The graph is built dynamically (section 4.5): calling a primitive on
variable nodes immediately computes the forward value and returns a new
variable node whose parent is the operation node that produced it. Only
parent pointers are stored, which is all the backward pass needs.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable, Sequence

import numpy as np

from ._errors import shape_error

__all__ = ["Variable", "Operation", "Primitive", "as_float_array", "raw", "unary_op", "binary_op"]

_next_id = itertools.count().__next__
_object_new = object.__new__


def as_float_array(value: Any) -> np.ndarray:
    """Convert an input to the array stored in a source variable node.

    Integer and boolean inputs are cast to float64 (the documented policy);
    floating inputs keep their dtype; anything else is rejected because the
    engine only differentiates real floating point values.
    """
    arr = np.asarray(value)
    kind = arr.dtype.kind
    if kind == "f":
        return arr
    if kind in "biu":
        return arr.astype(np.float64)
    raise TypeError(
        f"autodiff differentiates real floating point values only; got dtype {arr.dtype}"
    )


class Operation:
    """Operation node: one primitive applied to parent variable nodes.

    `parents` are the traced arguments (variable nodes) and `argnums` their
    positions in `args`; `raw_args` holds the plain numpy values so that the
    first-order backward pass can run without creating nodes. Each operation
    node has exactly one child, the variable node that stores it as `op`.
    """

    __slots__ = ("primitive", "parents", "argnums", "args", "raw_args", "kwargs")

    def __init__(
        self,
        primitive: "Primitive",
        parents: tuple,
        argnums: tuple,
        args: tuple,
        raw_args: tuple,
        kwargs: dict | None,
    ) -> None:
        self.primitive = primitive
        self.parents = parents
        self.argnums = argnums
        self.args = args
        self.raw_args = raw_args
        self.kwargs = kwargs

    @property
    def name(self) -> str:
        return self.primitive.name

    def __repr__(self) -> str:
        return f"Operation({self.primitive.name}, {len(self.parents)} parent(s))"


class Variable:
    """Variable node: a tensor value, its parent operation and a derivative accumulator.

    `grad` is the accumulator `V.derivative` of Algorithm 4 (section 4.4); it
    is filled on source nodes by `backward()` and accumulates across calls.
    """

    __slots__ = ("value", "op", "grad", "_id", "__weakref__")
    __array_ufunc__ = None
    __array_priority__ = 1000.0
    __hash__ = object.__hash__

    def __init__(self, value: Any) -> None:
        if isinstance(value, Variable):
            raise TypeError("Variable(...) expects a numpy value, not another Variable")
        self.value = as_float_array(value)
        self.op: Operation | None = None
        self.grad: np.ndarray | None = None
        self._id = _next_id()

    @property
    def shape(self) -> tuple:
        return self.value.shape

    @property
    def ndim(self) -> int:
        return self.value.ndim

    @property
    def size(self) -> int:
        return self.value.size

    @property
    def dtype(self) -> np.dtype:
        return self.value.dtype

    @property
    def derivative(self) -> np.ndarray | None:
        """Alias of `grad` using the notes' name `V.derivative`."""
        return self.grad

    @property
    def is_source(self) -> bool:
        """True for source nodes (no parent operation)."""
        return self.op is None

    def zero_grad(self) -> None:
        """Reset the derivative accumulator to empty."""
        self.grad = None

    def backward(self, seed: Any = None, create_graph: bool = False) -> None:
        """Run the backward pass from this node, accumulating into source nodes' `grad`.

        This is VariableNodeBackward(z, D) of Algorithm 4 with D = `seed`; for a
        scalar output the seed defaults to 1. With `create_graph=True` the
        gradients are themselves variable nodes that can be differentiated again.
        """
        from ._backward import backward_pass, default_seed

        if seed is None:
            seed = default_seed(self, "backward()")
        backward_pass([self], [seed], wrt=None, create_graph=create_graph)

    def item(self) -> float:
        """The value as a Python float (not traced)."""
        return float(np.asarray(self.value).item())

    def __float__(self) -> float:
        return float(self.value)

    def __int__(self) -> int:
        return int(self.value)

    def __bool__(self) -> bool:
        return bool(self.value)

    def __len__(self) -> int:
        shape = self.shape
        if not shape:
            raise TypeError("len() of a 0-d Variable")
        return shape[0]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise TypeError(
            "a traced autodiff Variable was passed to a plain numpy function; "
            "use the same function from autodiff.numpy (import autodiff.numpy as anp)"
        )

    def __repr__(self) -> str:
        origin = "source" if self.op is None else self.op.primitive.name
        return f"Variable({np.array2string(np.asarray(self.value), precision=6)}, op={origin})"


def raw(x: Any) -> Any:
    """The plain value of `x` (unwraps variable nodes, passes constants through)."""
    return x.value if isinstance(x, Variable) else x


def _new_variable(value: Any, op: Operation) -> Variable:
    v = _object_new(Variable)
    v.value = value
    v.op = op
    v.grad = None
    v._id = _next_id()
    return v


class _Positional:
    """VJP table for variadic primitives: rule(i, g, ans, *args) for argument i."""

    __slots__ = ("rule",)

    def __init__(self, rule: Callable) -> None:
        self.rule = rule

    def __getitem__(self, i: int) -> Callable:
        rule = self.rule
        return lambda g, ans, *args, **kw: rule(i, g, ans, *args, **kw)


class Primitive:
    """An operation type: a numpy forward function plus one VJP rule per argument.

    A VJP rule `rule(g, ans, *args, **kwargs)` returns D·∂ for its argument
    (section 4.6: the partial derivative matrix itself is never formed). Rules
    are written with the engine's own polymorphic ops: on plain arrays they run
    as numpy (first-order fast path), on variable nodes they record a graph, so
    gradients can be differentiated again.
    """

    __slots__ = ("name", "fwd", "vjps")

    def __init__(self, name: str, fwd: Callable, vjps: Sequence[Callable] | Callable) -> None:
        self.name = name
        self.fwd = fwd
        self.vjps = vjps if isinstance(vjps, (tuple, list)) else _Positional(vjps)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the forward pass; if any argument is traced, record an operation node."""
        argnums = tuple(i for i, a in enumerate(args) if isinstance(a, Variable))
        if not argnums:
            try:
                return self.fwd(*args, **kwargs)
            except ValueError as e:
                raise shape_error(self.name, args, e) from None
        raw_args = tuple(a.value if isinstance(a, Variable) else a for a in args)
        try:
            value = self.fwd(*raw_args, **kwargs)
        except ValueError as e:
            raise shape_error(self.name, raw_args, e) from None
        parents = tuple(args[i] for i in argnums)
        return _new_variable(value, Operation(self, parents, argnums, args, raw_args, kwargs or None))

    def __repr__(self) -> str:
        return f"Primitive({self.name})"


def unary_op(name: str, fwd: Callable, vjp: Callable) -> Callable[[Any], Any]:
    """Make a fast single-argument op function (the common elementwise case)."""
    prim = Primitive(name, fwd, (vjp,))
    argnums = (0,)

    def op(x: Any) -> Any:
        if x.__class__ is not Variable:
            return fwd(x)
        xv = x.value
        return _new_variable(fwd(xv), Operation(prim, (x,), argnums, (x,), (xv,), None))

    op.__name__ = op.__qualname__ = name
    op.primitive = prim
    return op


def binary_op(name: str, fwd: Callable, vjp0: Callable, vjp1: Callable) -> Callable[[Any, Any], Any]:
    """Make a fast two-argument broadcasting op function."""
    prim = Primitive(name, fwd, (vjp0, vjp1))
    both, first, second = (0, 1), (0,), (1,)

    def op(x: Any, y: Any) -> Any:
        tx = x.__class__ is Variable
        ty = y.__class__ is Variable
        xv = x.value if tx else x
        yv = y.value if ty else y
        try:
            value = fwd(xv, yv)
        except ValueError as e:
            raise shape_error(name, (xv, yv), e) from None
        if tx:
            if ty:
                return _new_variable(value, Operation(prim, (x, y), both, (x, y), (xv, yv), None))
            return _new_variable(value, Operation(prim, (x,), first, (x, y), (xv, yv), None))
        if ty:
            return _new_variable(value, Operation(prim, (y,), second, (x, y), (xv, yv), None))
        return value

    op.__name__ = op.__qualname__ = name
    op.primitive = prim
    return op

