"""autodiff: a numpy-backed reverse-mode automatic differentiation engine.

Implements section 4 of the lecture notes: variable and operation nodes
(section 4.4) built dynamically during the forward pass (section 4.5), a
backward pass computing vector-Jacobian products (Algorithms 4 and 5,
section 4.6) on tensors (section 4.7), and higher-order derivatives by
recording the backward pass itself. See docs/autodiff.md.
"""

from __future__ import annotations

from ._errors import ShapeError
from ._node import Operation, Primitive, Variable
from . import _methods

_methods.install()

from ._functional import (  # noqa: E402
    grad,
    hessian,
    hessian_vector_product,
    jacobian,
    jvp,
    value_and_grad,
    vjp,
)
from ._ops_elementwise import relu, sigmoid, softplus  # noqa: E402
from ._ops_reduce import logsumexp  # noqa: E402
from . import numpy  # noqa: E402

__all__ = [
    "ShapeError",
    "Variable",
    "Operation",
    "Primitive",
    "grad",
    "value_and_grad",
    "vjp",
    "jvp",
    "hessian_vector_product",
    "hessian",
    "jacobian",
    "relu",
    "sigmoid",
    "softplus",
    "logsumexp",
    "numpy",
]
