"""The catalog: every encoded result of the notes, one module per section (CATALOG.md IDs)."""
from __future__ import annotations

import re

from theorems.catalog import (appendix_convexity, appendix_probability, s02_convex_gd, s03_sgd_convex,
                              s03_shuffling, s05_function_classes, s05_smooth, s06_sgd_nonconvex, s07_minibatch,
                              s08_1_schedules, s08_schedules, s10_adagrad, s10_background, s11_noise, s12_ema,
                              s13_smooth_convex, s14_integrator, s15_accelerated, s15_online, s16_adaptive_online,
                              s17_adam, s18_parallel, s19_hogwild, s20_momentum, s21_regularization,
                              s21_strongly_convex, s22_accelerated, s22_strongly_convex_sgd, s23_svrg,
                              s24_normalized, s25_second_order)
from theorems.language.spec import Spec

_MODULES = (s02_convex_gd, s03_sgd_convex, s03_shuffling, s05_function_classes, s05_smooth, s06_sgd_nonconvex,
            s07_minibatch, s08_1_schedules, s08_schedules, s10_background, s10_adagrad, s11_noise, s12_ema,
            s13_smooth_convex, s14_integrator, s15_accelerated, s15_online, s16_adaptive_online, s17_adam,
            s18_parallel, s19_hogwild, s20_momentum, s21_strongly_convex, s21_regularization,
            s22_strongly_convex_sgd, s22_accelerated, s23_svrg, s24_normalized, s25_second_order,
            appendix_probability, appendix_convexity)

#: Every spec, by catalog ID, in the order of the notes.
CATALOG: dict[str, Spec] = {spec.id: spec for spec in sorted((spec for module in _MODULES for spec in module.SPECS),
                                                      key=lambda spec: spec.source.line)}


def register(spec: Spec) -> Spec:
    """Add a user's own result to the catalog (``theorycheck --load MODULE`` imports a module
    that calls this); its claims then run in ``check``, ``report`` and ``pytest theorems/``."""
    if not isinstance(spec, Spec):
        raise TypeError(f"register() takes a theorems.Spec, got {type(spec).__name__}")
    if spec.id in CATALOG and CATALOG[spec.id] is not spec:
        raise ValueError(f"a result with id {spec.id!r} is already in the catalog; choose another id")
    CATALOG[spec.id] = spec
    return spec


class UnknownResultError(KeyError):
    """No result of the catalog has that ID."""

    def __str__(self) -> str:
        return str(self.args[0])


def lookup(identifier: str) -> Spec:
    """The spec for ``T5.8``, ``t5.8`` or ``5.8`` (the bare number when it names one result)."""
    text = identifier.strip()
    for spec in CATALOG.values():
        if spec.id.lower() == text.lower():
            return spec
    if re.fullmatch(r"\d+(\.\d+)*", text):
        matches = [s for s in CATALOG.values() if s.id[1:] == text and s.id[0].isalpha()]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise UnknownResultError(f"{text!r} is ambiguous: {', '.join(s.id for s in matches)}")
    raise UnknownResultError(f"unknown result {identifier!r}; `theorycheck list` shows the "
                             f"{len(CATALOG)} encoded results ({', '.join(CATALOG)})")
