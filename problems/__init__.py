"""Problem families with certified constants, and stochastic gradient oracles (DESIGN.md).

Every family builds B instances at once (``family.sample(B, d, generator, device, dtype)``) and
declares the classes of CATALOG.md it belongs to; every oracle binds to a batch and declares
the noise classes it satisfies with exact constants.
"""
from problems._batch import CLASS_TAGS, Family, FiniteSum, ProblemBatch
from problems.cosine_wells import CosineWells
from problems.huber import Huber
from problems.least_squares import LeastSquares
from problems.log_cosh import LogCosh
from problems.logistic import Logistic, RegularizedLogistic
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

#: The registered oracles, by name.
ORACLES = {o.name: o for o in (Exact(), GaussianNoise(), SphereNoise(), HeavyTailedNoise(), StateDependentNoise(),
                               FiniteSumSampling(), TimeVaryingNoise())}

__all__ = [
    "CLASS_TAGS", "FAMILIES", "ORACLES", "BoundOracle", "CosineWells", "Exact", "Family", "FiniteSum",
    "FiniteSumSampling", "GaussianNoise", "HeavyTailedNoise", "Huber", "LeastSquares", "LogCosh", "Logistic",
    "NoiseSchedule", "PiecewiseLinearRegression",
    "PiecewiseQuadratic",
    "ProblemBatch", "PseudoHuber", "Quadratic", "Regularized", "RegularizedLogistic", "SphereNoise",
    "StateDependentNoise", "TimeVaryingNoise",
]
