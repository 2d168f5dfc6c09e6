"""Expressions typed by a user or read from a file, parsed as data, never run as code.

A hyper-parameter override (``--hyper 'eta=1/(3*H)'``, a counterexample file's ``round.hyper``)
is text from outside. sympy's ``parse_expr`` evaluates Python, so it would run whatever the text
says; this parser reads the text with Python's ``ast`` and builds the sympy expression from a
whitelist only: numbers, the allowed symbols, ``+ - * / **`` and a few named functions. Numeric
powers are sized before they are computed, so ``10**10**10`` is an error, not a hang.
"""
from __future__ import annotations

import ast
import math
from typing import Callable, Iterable, Mapping

import sympy as sp

#: The functions an expression may call, by the names a user writes.
FUNCTIONS: Mapping[str, Callable[..., sp.Expr]] = {
    "sqrt": sp.sqrt, "exp": sp.exp, "log": sp.log, "abs": sp.Abs, "Abs": sp.Abs,
    "min": sp.Min, "max": sp.Max, "Min": sp.Min, "Max": sp.Max, "floor": sp.floor, "ceiling": sp.ceiling,
}
#: Named numbers.
NUMBERS: Mapping[str, sp.Expr] = {"pi": sp.pi, "E": sp.E}
#: Longest accepted text and largest accepted syntax tree.
MAX_LENGTH, MAX_NODES = 500, 200
#: A numeric power whose result would have more decimal digits than this is refused.
MAX_DIGITS = 400

_BINARY = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
           ast.Div: lambda a, b: a / b, ast.Pow: lambda a, b: _power(a, b)}
_UNARY = {ast.USub: lambda a: -a, ast.UAdd: lambda a: a}


class ExpressionError(ValueError):
    """The text is not an expression of the allowed form."""


def _power(base: sp.Expr, exponent: sp.Expr) -> sp.Expr:
    """``base**exponent``, refusing a numeric power too large to compute."""
    if base.is_number and exponent.is_number:
        try:
            b, e = abs(complex(base)), abs(complex(exponent))
        except (TypeError, ValueError, OverflowError):
            raise ExpressionError("a power is too large to compute") from None
        if b != 0 and e * abs(math.log10(b)) > MAX_DIGITS:
            raise ExpressionError(f"a power has more than {MAX_DIGITS} digits")
    elif exponent.is_number and abs(complex(exponent)) > 10 ** 6:
        raise ExpressionError("an exponent is larger than 1e6")
    return base ** exponent


def parse_expression(text: str, symbols: Iterable[str] | Mapping[str, sp.Symbol]) -> sp.Expr:
    """The sympy expression written in ``text``, over the named ``symbols`` only.

    Raises ``ExpressionError`` (one line) for anything else: attribute access, subscripts,
    strings, keyword arguments, unknown names or functions, lambdas, comparisons, too long a text.
    """
    table = dict(symbols) if isinstance(symbols, Mapping) else {n: sp.Symbol(n) for n in symbols}
    if not isinstance(text, str):
        raise ExpressionError(f"expected text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError) as exc:
        raise ExpressionError(f"{text!r} is not an expression ({getattr(exc, 'msg', exc)})") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ExpressionError(f"the expression has more than {MAX_NODES} parts")

    def build(node: ast.AST) -> sp.Expr:
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            if isinstance(node.value, float) and not math.isfinite(node.value):
                raise ExpressionError(f"the number {node.value!r} is not finite")
            return sp.Integer(node.value) if isinstance(node.value, int) else sp.Float(node.value)
        if isinstance(node, ast.Name):
            if node.id in table:
                return table[node.id]
            if node.id in NUMBERS:
                return NUMBERS[node.id]
            raise ExpressionError(f"unknown name {node.id!r}; it may use {sorted(table)}")
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _BINARY[type(node.op)](build(node.left), build(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return _UNARY[type(node.op)](build(node.operand))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            if node.func.id not in FUNCTIONS:
                raise ExpressionError(f"unknown function {node.func.id!r}; allowed: {sorted(FUNCTIONS)}")
            if not node.args or any(isinstance(a, ast.Starred) for a in node.args):
                raise ExpressionError(f"{node.func.id}() needs plain arguments")
            try:
                return FUNCTIONS[node.func.id](*[build(a) for a in node.args])
            except TypeError as exc:
                raise ExpressionError(f"{node.func.id}(): {exc}") from None
        raise ExpressionError(f"{ast.unparse(node)!r} is not allowed (numbers, names, + - * / ** and "
                              f"{', '.join(sorted(FUNCTIONS))} only)")

    expr = build(tree.body)
    if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise ExpressionError(f"{text!r} is not finite")
    if expr.is_number and expr.is_real is False:
        raise ExpressionError(f"{text!r} is not a real number")
    return expr
