"""SVRG, Algorithm 17 of the notes (section 23, line 3346), batched over instances and replicas.

On a finite sum L = (1/N) sum_i l_i, with checkpoint v_1 = w_1 and its full gradient grad L(v_1):

    g_t = grad l_{i_t}(w_t) - grad l_{i_t}(v_e) + grad L(v_e),    i_t ~ U{1..N}
    w_{t+1} = w_t - eta g_t
    if t = 0 mod N: e = e + 1, v_e = (1/N) sum_{i=t-N+1}^t w_i, and grad L(v_e) is computed again.

``epoch`` (default: the number of terms N, as in the notes) is the snapshot period; it may differ per
instance (a tensor (B, 1, 1) of positive integers), so that snapshots are taken at other times than
the notes' (Lemma 23.1 holds for every checkpoint v). The oracle must be a finite-sum sampler
(``problems.FiniteSumSampling``) that chooses terms by index (``term_grad``) and gives the full
gradient (``grad``).
"""
from __future__ import annotations

from typing import Any, Mapping

import torch

from algorithms.protocol import HyperParameter, Oracle, as_schedule

Tensor = torch.Tensor


def _needs_finite_sum(oracle: Oracle) -> None:
    if not (hasattr(oracle, "term_grad") and hasattr(oracle, "num_terms") and hasattr(oracle, "grad")):
        raise ValueError("SVRG needs a finite-sum oracle (problems.FiniteSumSampling) that chooses terms by index")


class SVRG:
    """Algorithm 17 (SVRG) with step ``eta`` and snapshot period ``epoch`` (None: N)."""

    returns_fresh_iterates = True  # algorithms.protocol

    def __init__(self, eta: HyperParameter, epoch: Tensor | int | None = None) -> None:
        self.eta = as_schedule(eta)
        self.epoch = epoch
        self._anchor_terms: tuple[Tensor, Tensor] | None = None  # (checkpoint, its N term gradients), for probe

    def init(self, w1: Tensor) -> Any:
        return {"anchor": w1.clone(), "anchor_grad": None, "window": torch.zeros_like(w1), "index": None}

    def step(self, w: Tensor, state: Any, oracle: Oracle, t: int) -> tuple[Tensor, Any]:
        _needs_finite_sum(oracle)
        anchor, anchor_grad = state["anchor"], state["anchor_grad"]
        if anchor_grad is None:  # grad L(v_1), computed once at the start
            anchor_grad = oracle.grad(anchor)
        idx = torch.randint(0, oracle.num_terms, w.shape[:-1], generator=oracle.generator, device=w.device)
        g = oracle.term_grad(w, idx) - oracle.term_grad(anchor, idx) + anchor_grad
        window = state["window"] + w
        epoch = oracle.num_terms if self.epoch is None else self.epoch
        snapshot = torch.as_tensor(t % torch.as_tensor(epoch) == 0, device=w.device)
        used = {"anchor": anchor, "anchor_grad": anchor_grad, "index": idx}
        if bool(snapshot.any()):
            average = window / torch.as_tensor(epoch, dtype=w.dtype, device=w.device)
            anchor = torch.where(snapshot, average, anchor)
            anchor_grad = torch.where(snapshot, oracle.grad(anchor), anchor_grad)
            window = torch.where(snapshot, torch.zeros_like(window), window)
        return w - self.eta(t) * g, {"anchor": anchor, "anchor_grad": anchor_grad, "window": window, "used": used}

    def probe(self, w: Tensor, state: Any, oracle: Oracle) -> Mapping[str, Tensor]:
        """The step's checkpoint v ("anchor") and the exact E_i ||g_t||^2 given w_t and v
        ("estimate_sq", averaged over all N terms; Lemma 23.1's left side)."""
        used = state["used"]
        anchor = used["anchor"]
        if self._anchor_terms is None or self._anchor_terms[0] is not anchor:  # once per checkpoint
            self._anchor_terms = (anchor, every_term_gradient(oracle, anchor))
        g = every_term_gradient(oracle, w) - self._anchor_terms[1] + used["anchor_grad"][:, :, None, :]
        return {"anchor": anchor, "estimate_sq": g.square().sum(-1).mean(-1)}


def every_term_gradient(oracle: Oracle, w: Tensor) -> Tensor:
    """grad l_i(w) for every term i = 1..N, shape (B, R, N, d), in one batched call; with it,
    (1/N) sum_i ||grad l_i(w) - grad l_i(v) + grad L(v)||^2 is the exact second moment of SVRG's
    estimate over the uniformly drawn term (Lemma 23.1)."""
    _needs_finite_sum(oracle)
    B, R, d = w.shape
    N = oracle.num_terms
    idx = torch.arange(N, device=w.device).repeat(B, R)  # term j of point r at r * N + j
    return oracle.term_grad(w.repeat_interleave(N, dim=1), idx).reshape(B, R, N, d)
