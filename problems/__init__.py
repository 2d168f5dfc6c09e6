"""Problem families with certified constants, and stochastic gradient oracles (DESIGN.md).

Every family builds B instances at once (``family.sample(B, d, generator, device, dtype)``) and
declares the classes of CATALOG.md it belongs to; every oracle binds to a batch and declares
the noise classes it satisfies with exact constants. A user's family (``from_numpy_loss``, or
any object with ``name``, ``classes`` and ``sample``) joins ``FAMILIES`` through ``register``.
"""
import os
from typing import Mapping

from problems._batch import CLASS_TAGS, Family, FiniteSum, ProblemBatch
from problems.cosine_wells import CosineWells
from problems.huber import Huber
from problems.least_squares import LeastSquares
from problems.log_cosh import LogCosh
from problems.logistic import Logistic, RegularizedLogistic
from problems.numpy_loss import CertificateError, Certified, Estimated, NumpyLossFamily, from_numpy_loss
from problems.nonsmooth import PiecewiseLinearRegression
from problems.oracles import (BoundOracle, Exact, FiniteSumSampling, GaussianNoise, HeavyTailedNoise, NoiseSchedule,
                              SphereNoise, StateDependentNoise, TimeVaryingNoise)
from problems.piecewise_quadratic import PiecewiseQuadratic
from problems.pseudo_huber import PseudoHuber
from problems.quadratic import Quadratic
from problems.regularized import Regularized

#: The registered families, by name.
FAMILIES: dict[str, Family] = {
    f.name: f for f in (Quadratic(strongly_convex=False), Quadratic(strongly_convex=True),
                        PseudoHuber(), CosineWells(), RegularizedLogistic(),
                        PiecewiseLinearRegression("l1-regression"), PiecewiseLinearRegression("hinge"),
                        LogCosh(), Regularized(LogCosh(max_shift=0.0)), Huber(), PiecewiseQuadratic(),
                        LeastSquares(ridge=False), LeastSquares(ridge=True), Logistic(regularized=False))
}

#: The environment variable naming the modules (comma separated) that register a user's families;
#: the ``theorycheck`` command imports them only when it is set.
FAMILIES_ENV = "THEORYCHECK_FAMILIES"


def register(family: Family) -> Family:
    """Add a user's family to ``FAMILIES`` (then ``theorycheck check ID --family NAME`` and every
    check use it). A name already registered for another family is refused; returns ``family``."""
    name, classes = getattr(family, "name", None), getattr(family, "classes", None)
    if not isinstance(name, str) or not name or "/" in name:
        raise ValueError(f"a family needs a non-empty name without '/', got {name!r}")
    if not callable(getattr(family, "sample", None)) or not isinstance(classes, frozenset) or not classes <= CLASS_TAGS:
        raise TypeError(f"family {name!r} must have sample(...) and classes, a frozenset of {sorted(CLASS_TAGS)}")
    if FAMILIES.get(name, family) is not family:
        raise ValueError(f"family {name!r} is already registered")
    FAMILIES[name] = family
    return family


def user_family_modules(environ: Mapping[str, str] = os.environ) -> list[str]:
    """The modules named in ``THEORYCHECK_FAMILIES`` (comma separated; none when unset)."""
    return [m.strip() for m in environ.get(FAMILIES_ENV, "").split(",") if m.strip()]


#: The registered oracles, by name.
ORACLES = {o.name: o for o in (Exact(), GaussianNoise(), SphereNoise(), HeavyTailedNoise(), StateDependentNoise(),
                               FiniteSumSampling(), TimeVaryingNoise())}

__all__ = [
    "CLASS_TAGS", "FAMILIES", "FAMILIES_ENV", "ORACLES", "BoundOracle", "CertificateError", "Certified", "CosineWells",
    "Estimated", "Exact", "Family", "FiniteSum",
    "FiniteSumSampling", "GaussianNoise", "HeavyTailedNoise", "Huber", "LeastSquares", "LogCosh", "Logistic",
    "NoiseSchedule", "NumpyLossFamily", "PiecewiseLinearRegression",
    "PiecewiseQuadratic",
    "ProblemBatch", "PseudoHuber", "Quadratic", "Regularized", "RegularizedLogistic", "SphereNoise",
    "StateDependentNoise", "TimeVaryingNoise", "from_numpy_loss", "register", "user_family_modules",
]
