"""Evaluate sympy expressions on batched torch tensors (lambdify with a torch namespace)."""
from __future__ import annotations

import functools
from typing import Mapping

import sympy as sp
import torch

Tensor = torch.Tensor


def _tensors(args: tuple) -> list[Tensor]:
    """Numbers among ``args`` as tensors of the dtype and device of the tensors among them."""
    like = next((a for a in args if isinstance(a, Tensor)), torch.tensor(0.0, dtype=torch.float64))
    return [torch.as_tensor(a, dtype=like.dtype, device=like.device) for a in args]


def _minimum(*args: Tensor | float) -> Tensor:
    return functools.reduce(torch.minimum, _tensors(args))


def _maximum(*args: Tensor | float) -> Tensor:
    return functools.reduce(torch.maximum, _tensors(args))


_MODULES = [{"min": _minimum, "max": _maximum, "Min": _minimum, "Max": _maximum}, "torch"]


@functools.lru_cache(maxsize=None)
def _compiled(expr: sp.Basic, names: tuple[str, ...]):
    symbols = [sp.Symbol(n) for n in names]
    plain = expr.xreplace({s: sp.Symbol(s.name) for s in expr.free_symbols}).evalf(17)
    return sp.lambdify(symbols, plain, modules=_MODULES)


def evaluate(expr: sp.Basic, values: Mapping[str, Tensor], like: Tensor) -> Tensor:
    """``expr`` with every free symbol replaced by ``values[name]``, broadcast to ``like``'s shape.

    Relational expressions (e.g. ``eta <= 1/H``) and conjunctions of them (``And``) return boolean
    tensors. A finite sum
    ``Sum(f(t), (t, a, b))`` whose limits evaluate to integers shared by the whole batch (e.g.
    ``(t, 1, T)``) is summed exactly over a new last axis, so bounds such as Theorem 6.2's
    ``sum_t eta_t^2`` are written as in the notes.
    """
    expr = sp.sympify(expr)
    if expr.has(sp.Sum):
        expr, values = _sums_as_symbols(expr, values, like)
    names = tuple(sorted(s.name for s in expr.free_symbols))
    missing = [n for n in names if n not in values]
    if missing:
        raise KeyError(f"no value for symbol(s) {missing} in {expr}")
    if isinstance(expr, sp.And):
        parts = [evaluate(arg, values, like) for arg in expr.args]
        out = parts[0]
        for part in parts[1:]:
            out = out & part
        return out
    if isinstance(expr, sp.core.relational.Relational):
        lhs = evaluate(expr.lhs, values, like)
        rhs = evaluate(expr.rhs, values, like)
        ops = {"<=": torch.le, "<": torch.lt, ">=": torch.ge, ">": torch.gt, "==": torch.eq}
        return ops[expr.rel_op](lhs, rhs)
    fn = _compiled(expr, names)
    args = [torch.as_tensor(values[n], dtype=like.dtype, device=like.device) for n in names]
    out = torch.as_tensor(fn(*args), dtype=like.dtype, device=like.device)
    return torch.broadcast_to(out, torch.broadcast_shapes(out.shape, like.shape))


def _sums_as_symbols(expr: sp.Basic, values: Mapping[str, Tensor], like: Tensor) -> tuple[sp.Basic, dict]:
    """Replace each outermost ``Sum`` by a symbol whose value is the sum, computed term by term."""
    extended = dict(values)
    replacements = {}
    outermost = [s for s in expr.atoms(sp.Sum) if not any(s != o and o.has(s) for o in expr.atoms(sp.Sum))]
    for i, total in enumerate(sorted(outermost, key=sp.default_sort_key)):
        if len(total.limits) != 1:
            raise ValueError(f"only single-index sums are supported, got {total}")
        index, low, high = total.limits[0]
        bounds = [evaluate(limit, values, torch.zeros((), dtype=like.dtype, device=like.device)) for limit in (low, high)]
        if any(b.numel() != 1 or float(b) != round(float(b)) for b in bounds):
            raise ValueError(f"the limits of {total} must be integers shared by the whole batch")
        steps = torch.arange(int(bounds[0]), int(bounds[1]) + 1, dtype=like.dtype, device=like.device)
        terms = evaluate(total.function, {**values, index.name: steps.reshape(*([1] * (like.dim() - 1)), -1)}, like)
        name = f"_sum_{i}"
        extended[name] = terms.sum(-1, keepdim=True)
        replacements[total] = sp.Symbol(name)
    return expr.xreplace(replacements), extended


def magnitude(expr: sp.Basic) -> sp.Expr:
    """The sum of the absolute values of the terms of ``expr`` (recursively through sums and
    products, and through Max, Min and Abs, whose value is one of their arguments): the scale
    that rounding errors of evaluating ``expr`` are proportional to."""
    expr = sp.sympify(expr)
    if expr.is_Add:
        return sp.Add(*[magnitude(a) for a in expr.args])
    if expr.is_Mul:
        return sp.Mul(*[magnitude(a) for a in expr.args])
    if isinstance(expr, (sp.Max, sp.Min)):
        return sp.Max(*[magnitude(a) for a in expr.args])
    if isinstance(expr, sp.Abs):
        return magnitude(expr.args[0])
    return sp.Abs(expr)
