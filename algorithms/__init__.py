"""Batched optimizers of the notes under one small protocol (see ``algorithms.protocol``).

Built-in algorithm factories are registered in ``ALGORITHMS`` by the name a spec uses;
``torch_optimizer`` wraps any ``torch.optim.Optimizer`` subclass; ``run`` produces a ``Trace``.
"""
from algorithms.protocol import Algorithm, HyperParameter, Oracle, Schedule, as_schedule
from algorithms.run import FIELDS, ProtocolError, Trace, run, run_in_chunks
from algorithms.schedules import CosineAnnealing, CosineWithRestarts, LinearWarmup, StepDecay, scale_for_batch_size
from algorithms.sgd import GD, SGD, MinibatchSGD
from algorithms.layerwise import LAMB, LARS
from algorithms.normalized import NormalizedSGDMomentum, NormalizedSGDVR
from algorithms.shuffling import ShuffledSGD
from algorithms.svrg import SVRG
from algorithms.torch_optim import TorchOptimizer, torch_optimizer

#: Built-in algorithm factories by name.
ALGORITHMS = {"GD": GD, "SGD": SGD, "MinibatchSGD": MinibatchSGD, "ShuffledSGD": ShuffledSGD, "SVRG": SVRG,
              "NormalizedSGDMomentum": NormalizedSGDMomentum, "NormalizedSGDVR": NormalizedSGDVR, "LARS": LARS,
              "LAMB": LAMB}

__all__ = [
    "ALGORITHMS", "GD", "SGD", "Algorithm", "CosineAnnealing", "CosineWithRestarts", "HyperParameter",
    "LAMB", "LARS", "LinearWarmup", "MinibatchSGD", "NormalizedSGDMomentum", "NormalizedSGDVR", "Oracle",
    "ProtocolError", "SVRG", "Schedule", "ShuffledSGD", "StepDecay", "TorchOptimizer", "Trace",
    "FIELDS", "as_schedule", "run", "run_in_chunks", "scale_for_batch_size", "torch_optimizer",
]
