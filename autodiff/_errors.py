"""Exceptions raised by the engine.

Section 4.5 of the notes: with a dynamic graph an error such as a shape
mismatch must surface at the line that defines the operation, so every
primitive converts numpy's generic error into one that names the op and the
operand shapes.
"""

from __future__ import annotations

__all__ = ["ShapeError", "shape_error"]


class ShapeError(ValueError):
    """Operands of an operation (or a seed vector) have incompatible shapes."""


def _shape_of(a: object) -> object:
    shape = getattr(a, "shape", None)
    if shape is not None:
        return tuple(shape)
    if isinstance(a, (int, float)):
        return ()
    return type(a).__name__


def shape_error(op_name: str, args: tuple, err: Exception) -> ShapeError:
    """Build the ShapeError raised when numpy rejects the operands of `op_name`."""
    shapes = ", ".join(str(_shape_of(a)) for a in args)
    return ShapeError(f"{op_name}: incompatible operand shapes {shapes}: {err}")
