"""Batched optimizers of the notes under one small protocol (see ``algorithms.protocol``).

Built-in algorithm factories are registered in ``ALGORITHMS`` by the name a spec uses;
``torch_optimizer`` wraps any ``torch.optim.Optimizer`` subclass; ``run`` produces a ``Trace``.
"""
from algorithms.protocol import Algorithm, HyperParameter, Oracle, Schedule, as_schedule
from algorithms.run import FIELDS, ProtocolError, Trace, run, run_in_chunks
from algorithms.schedules import CosineAnnealing, CosineWithRestarts, LinearWarmup, StepDecay, scale_for_batch_size
from algorithms.sgd import GD, SGD, MinibatchSGD
from algorithms.momentum import MomentumSGD, TorchMomentum, momentum_sgd_as_printed
from algorithms.parallel import ParallelMinibatchSGD
from algorithms.scheduled_sgd import cosine_restarts_sgd, cosine_sgd, step_decay_sgd, warmup_sgd
from algorithms.hogwild import Hogwild
from algorithms.layerwise import LAMB, LARS
from algorithms.normalized import NormalizedSGDMomentum, NormalizedSGDVR
from algorithms.shuffling import ShuffledSGD
from algorithms.svrg import SVRG
from algorithms.torch_optim import TorchOptimizer, torch_optimizer
from algorithms.adaptive import AdaGradNorm, CorrectedEMAAdaptive, EMAAdaptive
from algorithms.accelerated import ACCELERATED
from algorithms.adam import REGISTERED as ONLINE_ADAPTIVE
from algorithms.cubic_newton import CubicNewton, NegativeCurvature
from algorithms.proximal_point import SECTIONS_21_22

#: Built-in algorithm factories by name.
ALGORITHMS = {"GD": GD, "SGD": SGD, "MinibatchSGD": MinibatchSGD, "ShuffledSGD": ShuffledSGD,
              "ParallelMinibatchSGD": ParallelMinibatchSGD, "MomentumSGD": MomentumSGD,
              "MomentumSGD-as-printed": momentum_sgd_as_printed, "SGD-step-decay": step_decay_sgd,
              "SGD-cosine": cosine_sgd, "SGD-cosine-restarts": cosine_restarts_sgd, "SGD-warmup": warmup_sgd,
              "SVRG": SVRG, "NormalizedSGDMomentum": NormalizedSGDMomentum, "NormalizedSGDVR": NormalizedSGDVR,
              "LARS": LARS, "LAMB": LAMB, "Hogwild": Hogwild}
ALGORITHMS.update(AdaGradNorm=AdaGradNorm, EMAAdaptive=EMAAdaptive, CorrectedEMAAdaptive=CorrectedEMAAdaptive,
                  CubicNewton=CubicNewton, NegativeCurvature=NegativeCurvature)
ALGORITHMS.update({**ACCELERATED, **ONLINE_ADAPTIVE, **SECTIONS_21_22})

__all__ = [
    "ALGORITHMS", "GD", "SGD", "Algorithm", "Hogwild", "CosineAnnealing", "CosineWithRestarts", "HyperParameter",
    "LAMB", "LARS", "LinearWarmup", "MinibatchSGD", "MomentumSGD", "NormalizedSGDMomentum", "NormalizedSGDVR",
    "Oracle", "ParallelMinibatchSGD", "ProtocolError", "SVRG", "Schedule", "ShuffledSGD", "StepDecay",
    "TorchMomentum", "TorchOptimizer", "Trace",
    "FIELDS", "as_schedule", "run", "run_in_chunks", "scale_for_batch_size", "torch_optimizer",
]
