"""The claims of T15.1, T16.2, T16.3, S16.1, A12 and S17.1-S17.3 can fail: each is violated once its
bound is made smaller (or, for a claim written E[x - X] <= 0, once x is made larger); both sides
of each regret bound scale alike; the printed slips of Theorem 16.3's proof; the rare-feature
example measured as d grows; ``check T16.3 --algorithm torch.optim.Adagrad`` runs."""
from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp
import torch

from algorithms.adagrad_diag import DiagonalAdaGrad
from algorithms.online_gd import OnlineGD, ProjectedAdaptiveGD
from problems.online import one_hot_sequence
from problems.projections import worst_in_box, worst_in_l2_ball
from theorems.catalog import CATALOG
from theorems.engine import statistics
from theorems.engine.claims import evaluate_claim
from theorems.engine.plan import round_key
from theorems.engine.profiles import PROFILES
from theorems.engine.rounds import build_round
from theorems.engine.seeding import derive_seed
from theorems.language import symbols as S

QUICK = PROFILES["quick"]


def violated(spec_id: str, claim, adversary: str, horizon: int, dim: int, rounds: int = 3) -> bool:
    """Whether any of ``rounds`` rounds of the claim's setting on ``adversary`` shows a violation."""
    spec = CATALOG[spec_id]
    setting = spec.setting(claim.setting)
    for i in range(rounds):
        key = round_key(spec, setting, (adversary, setting.online), derive_seed("online-can-fail", spec_id, claim.name, i),
                        horizon, dim, QUICK, "cpu")
        if evaluate_claim(claim, build_round(spec, key), QUICK.level, QUICK.rtol, QUICK.atol).violation is not None:
            return True
    return False


def scaled(factor: float):
    return lambda claim: dataclasses.replace(claim, bound=factor * claim.bound)


def raised(symbol: sp.Symbol, factor: float):
    """For a claim E[x - X] <= 0 (bound 0): x replaced by factor x."""
    return lambda claim: dataclasses.replace(claim, measured=claim.measured.subs(symbol, factor * symbol))


_RATE = S.eta * S.T * S.g_mean * S.sign_mean
#: (result, claim, adversary, T, d, the stronger claim); chosen where the claim is attained or nearly
CASES = [
    ("T15.1", "regret", "gaussian", 4, 3, scaled(0.999)),            # equality at w* = w_{T+1}
    ("T16.2", "regret", "two-phase", 1, 1, scaled(0.70)),            # 1/sqrt(2) at T = 1, w1 on the sphere
    ("T16.2", "expected-suboptimality", "two-phase", 1, 1, raised(S.D_2, 0.3)),
    ("T16.3", "regret", "two-phase", 1, 1, scaled(0.70)),
    ("T16.3", "expected-suboptimality", "two-phase", 1, 1, raised(S.D_inf, 0.3)),
    ("S16.1", "coordinate-sum", "one-hot", 4, 1, scaled(0.99)),      # d = 1: sqrt(T) exactly
    ("S16.1", "harmonic-log", "one-hot", 1, 1, scaled(0.999)),       # d = 1: 1 = 1 + log 1
    ("S16.1", "l2-sum", "one-hot", 4, 3, scaled(0.999)),
    ("S16.1", "l2-sum-attained", "one-hot", 4, 3, scaled(0.999)),
    ("S16.1", "adagrad-regret", "one-hot", 1, 1, scaled(0.70)),
    ("S16.1", "bounds-compared", "one-hot", 4, 1, scaled(0.999)),
    ("A12", "v-hat-upper", "stationary-two-point", 4, 1, scaled(0.999)),      # equality when E g = 0
    ("A12", "v-hat-lower", "stationary-two-point", 4, 1, scaled(0.999)),
    ("S17.1", "unbiased-upper", "stationary-two-point", 4, 1, scaled(0.9)),
    ("S17.1", "unbiased-lower", "stationary-two-point", 4, 1, raised(S.g_sq_mean, 1.1)),
    ("S17.2", "variance", "stationary-two-point", 4, 1, scaled(0.9)),
    ("S17.2", "variance-lower", "stationary-two-point", 4, 1, raised(S.g_var, 1.1)),
    ("S17.2", "variance-below-displayed", "stationary-two-point", 4, 1, scaled(0.9)),   # equal at beta1 = 0
    ("S17.2", "four-alpha", "stationary-gaussian", 16, 1, scaled(0.3)),    # 3/(4 (1 + beta1)) at beta1^t = 1/2
    ("S17.3", "uphill-rate", "skewed", 16, 1, scaled(0.8)),
    ("S17.3", "uphill-rate-attained", "skewed", 16, 1, raised(S.sign_mean, 1.25)),
]


@pytest.mark.parametrize("spec_id, name, adversary, horizon, dim, stronger", CASES,
                         ids=[f"{s}:{c}" for s, c, *_ in CASES])
def test_claim_holds_but_fails_when_made_stronger(spec_id, name, adversary, horizon, dim, stronger) -> None:
    claim = CATALOG[spec_id].claim(name)
    assert not violated(spec_id, claim, adversary, horizon, dim)
    assert violated(spec_id, stronger(claim), adversary, horizon, dim)


@pytest.mark.parametrize("spec_id", ["T16.2", "T16.3"])
def test_start_inside_the_set_is_what_the_regret_needs(spec_id: str) -> None:
    """From w_1 inside the set the regret bound holds; the same runs from w_1 anywhere break it (the
    erratum ``regret-any-start``), already at T = 1."""
    claim = CATALOG[spec_id].claim("regret")
    assert not violated(spec_id, claim, "gaussian", 1, 2)
    assert violated(spec_id, dataclasses.replace(claim, setting="any-start"), "gaussian", 1, 2)


def test_uphill_fails_when_claimed_at_more_than_its_exact_rate() -> None:
    """S17.3's ``uphill`` (E[loss change] >= 0) is true with room: claiming E[change] >= 1.25 x the
    exact rate -eta T E[g] E[sign g] is violated."""
    claim = CATALOG["S17.3"].claim("uphill")
    assert not violated("S17.3", claim, "skewed", 16, 1)
    stronger = dataclasses.replace(claim, measured=claim.measured - 1.25 * _RATE)
    assert violated("S17.3", stronger, "skewed", 16, 1)


def test_regret_bounds_are_homogeneous() -> None:
    """Multiplying the gradients by lam and the radius by kap multiplies both sides of Theorems
    16.2-16.3 by lam kap; for Theorem 15.1 (eta -> eta/lam) both sides by lam."""
    lam, kap, Ssym, dist = sp.symbols("lam kap S dist", positive=True)
    for spec_id, radius, root in (("T16.2", S.D_2, sp.sqrt(S.sum_g_sq)), ("T16.3", S.D_inf, S.sum_coord_root)):
        bound = CATALOG[spec_id].claim("regret").bound
        assert sp.simplify(bound.subs({radius: kap * radius, root: lam * root}) - lam * kap * bound) == 0
    bound = CATALOG["T15.1"].claim("regret").bound
    assert sp.simplify(bound.subs({S.eta: S.eta / lam, S.sum_g_sq: lam ** 2 * S.sum_g_sq}, simultaneous=True)
                       - lam * bound) == 0


@pytest.mark.parametrize("lam, kap", [(1e-6, 1.0), (1e5, 3e-4), (7.0, 1e6)])
def test_measured_regret_scales_like_its_bound(lam: float, kap: float) -> None:
    """AdaGrad and projected adaptive GD are invariant to the gradients' scale and equivariant to
    the radius: regret and bound both scale by lam kap, so the tightness does not move."""
    generator = torch.Generator().manual_seed(5)
    B, d, T = 4, 3, 50
    gs = [torch.randn(B, 1, d, generator=generator, dtype=torch.float64) for _ in range(T)]
    w1 = torch.rand(B, 1, d, generator=generator, dtype=torch.float64) - 0.5

    def regret(make, worst, scale_g: float, radius: float) -> torch.Tensor:
        algorithm, w = make(radius), w1 * radius
        state, total, linear = algorithm.init(w), torch.zeros_like(w), torch.zeros(B, 1, dtype=torch.float64)
        for t, g in enumerate(gs, start=1):
            linear += (scale_g * g * w).sum(-1)
            total += scale_g * g
            w, state = algorithm.step(w, state, lambda p, m=1, g=g: scale_g * g, t)
        return linear - (total * worst(total, torch.tensor(radius, dtype=torch.float64))).sum(-1)

    for make, worst in ((lambda r: DiagonalAdaGrad(math.sqrt(2) * r, radius=r), worst_in_box),
                        (lambda r: ProjectedAdaptiveGD(math.sqrt(2) * r, radius=r), worst_in_l2_ball)):
        base, moved = regret(make, worst, 1.0, 1.0), regret(make, worst, lam, kap)
        assert torch.allclose(moved, lam * kap * base, rtol=1e-9, atol=0)
    ogd = [regret(lambda r, e=e: OnlineGD(e), lambda s, r: torch.zeros_like(s), sg, 1.0) for e, sg in ((0.3, 1.0),
                                                                                                      (0.3 / lam, lam))]
    assert torch.allclose(ogd[1], lam * ogd[0], rtol=1e-9, atol=0)


def test_the_printed_slips_of_the_adagrad_proof() -> None:
    """Theorem 16.3's proof prints int_0^S dx/sqrt(x) = sqrt(2 S) (it is 2 sqrt(S)) and bounds
    (w_t[i] - w*[i])^2 by D_inf^2 (w_t[i] = D_inf, w*[i] = -D_inf give 4 D_inf^2); with the printed
    values the two terms add up to (1 + 1/(2 sqrt 2)) D sqrt(S), not the stated 2 sqrt(2) D sqrt(S),
    which the corrected terms give exactly (the specs' proof steps)."""
    x, Ssym, D = sp.symbols("x S D", positive=True)
    integral = sp.integrate(1 / sp.sqrt(x), (x, 0, Ssym))
    assert sp.simplify(integral - 2 * sp.sqrt(Ssym)) == 0 and sp.simplify(integral - sp.sqrt(2 * Ssym)) != 0
    assert (D - (-D)) ** 2 == 4 * D ** 2
    c = sp.sqrt(2) * D
    printed = D ** 2 * sp.sqrt(Ssym) / (2 * c) + c / 2 * sp.sqrt(2 * Ssym)
    assert sp.simplify(printed - (1 + 1 / (2 * sp.sqrt(2))) * D * sp.sqrt(Ssym)) == 0
    assert all(step.verify() for spec in ("T16.2", "T16.3") for step in CATALOG[spec].proof_steps)


def test_proof_steps_can_fail() -> None:
    """A wrong telescoping end or a wrong step size makes the proof steps fail."""
    step = CATALOG["T15.1"].proof_steps[2]
    assert not dataclasses.replace(step, rhs=step.rhs.subs(S.T, S.T - 1)).verify()
    step = CATALOG["T16.3"].proof_steps[0]
    c = next(iter(step.subs))
    assert not dataclasses.replace(step, subs={c: 2 * step.subs[c]}).verify()


def test_rare_features_as_d_grows() -> None:
    """Section 16's example measured: E[sum_i sqrt(n_i)] / sqrt(T) stays below H_d = sum_{i<=d} 1/i
    (the engine's one-sided test) and grows like log d, while sqrt(d) (the D_2 bound on the box's
    vertex, D_2 = sqrt(d) D_inf) grows much faster: their ratio falls as d grows."""
    T, R = 1024, 64
    ratios = []
    for d in (1, 4, 16, 64, 256, 1024):
        g = one_hot_sequence(1, R, d, T, torch.Generator().manual_seed(d))
        root = (g * g).sum(0).sqrt().sum(-1) / math.sqrt(T)          # (1, R)
        harmonic = sum(1 / i for i in range(1, d + 1))
        p = statistics.p_values(root.reshape(1, R, 1), torch.tensor([[harmonic]], dtype=torch.float64))
        assert float(p) > QUICK.level
        ratios.append(float(root.mean()) / math.sqrt(d))
        assert harmonic <= 1 + math.log(d) + 1e-12
    assert all(a > b for a, b in zip(ratios, ratios[1:]))
    assert ratios[-1] < 0.15   # measured 0.112 at d = 1024 (3.58 against H_d = 7.51, sqrt(d) = 32)


def test_check_t16_3_with_torch_adagrad_runs_and_says_what_holds(tmp_path: Path) -> None:
    """torch.optim.Adagrad (lr = c, no projection onto the box) under T16.3: the regret bound of the
    projected algorithm does not survive the missing projection (exit 1, a violation with replay)."""
    out = subprocess.run([sys.executable, "-m", "theorems", "check", "T16.3", "--algorithm", "torch.optim.Adagrad",
                          "--claim", "regret", "--jobs", "1"], capture_output=True, text=True, timeout=300,
                         cwd=tmp_path, env={"PYTHONPATH": str(Path(__file__).resolve().parents[1]),
                                            "PATH": "/usr/bin:/bin"})
    assert out.returncode == 1, out.stderr
    assert "regret" in out.stdout and "violated" in out.stdout and "replay" in out.stdout


def test_rare_feature_regrets_of_both_algorithms() -> None:
    """On the example with w* a vertex of the box (D_inf = 1, D_2 = sqrt(d)), diagonal AdaGrad on the
    box and projected adaptive GD on the ball of radius sqrt(d) both stay below their bounds
    (2 sqrt(2) D_inf sqrt(T) H_d and 2 sqrt(2) D_2 sqrt(T), the engine's one-sided test); the gap
    between the bounds (log d against sqrt d) is not a gap between the regrets: at T = 1024 we
    measured, per sqrt(T), 3.00 (AdaGrad) and 2.79 (adaptive GD) at d = 256, bounds 17.3 and 45.3."""
    T, R = 256, 16
    for d in (4, 64):
        g = one_hot_sequence(1, R, d, T, torch.Generator().manual_seed(d))[:, 0]
        harmonic = sum(1 / i for i in range(1, d + 1))
        for algorithm, bound in ((DiagonalAdaGrad(math.sqrt(2), radius=1.0), 2 * math.sqrt(2) * harmonic),
                                 (ProjectedAdaptiveGD(math.sqrt(2 * d), radius=math.sqrt(d)), 2 * math.sqrt(2 * d))):
            w, linear = torch.zeros(1, R, d, dtype=torch.float64), torch.zeros(1, R, dtype=torch.float64)
            state = algorithm.init(w)
            for t in range(T):
                linear += (g[t][None] * w).sum(-1)
                w, state = algorithm.step(w, state, lambda p, m=1, gt=g[t][None]: gt, t + 1)
            total = g.sum(0)[None]
            regret = (linear - (total * worst_in_box(total, torch.tensor(1.0, dtype=torch.float64))).sum(-1)) / math.sqrt(T)
            assert float(statistics.p_values(regret.reshape(1, R, 1), torch.tensor([[bound]], dtype=torch.float64))) > 0.01
            assert float(regret.mean()) > 0.5   # of order sqrt(T): both pay for the rare coordinates


@pytest.mark.parametrize("change, message", [
    ({"online": "simplex"}, "feasible set"), ({"noise": ("heavy-tailed",)}, "noise"), ({"minibatch": (2,)}, "minibatch")])
def test_malformed_online_settings_are_refused(change: dict, message: str) -> None:
    from theorems.language.spec import Claim, Setting, Source, Spec, SpecError
    setting = Setting("s", "OnlineGD", hyper={"eta": S.D_2}, **{"online": "l2-ball", **change})
    with pytest.raises(SpecError, match=message):
        Spec("U1", "u", Source("0", 1), frozenset(), (setting,), (Claim("c", "sure", S.sum_gw, S.sum_gu, "s", "x"),))


def test_unknown_adversaries_are_refused_when_planned_and_the_sets_match_the_projections() -> None:
    """The adversary registry needs torch, so a spec names its adversaries freely and planning its
    rounds refuses an unknown one; the set names the spec language knows are the projections'."""
    from problems.projections import SETS
    from theorems.engine.online_rounds import combinations
    from theorems.language.spec import ONLINE_SETS, Setting, SpecError
    with pytest.raises(SpecError, match="nobody"):
        combinations(Setting("s", "OnlineGD", hyper={"eta": 1}, online="free", adversaries=("nobody",)))
    assert set(ONLINE_SETS) == set(SETS)


def test_online_claims_may_not_use_symbols_of_other_settings() -> None:
    from theorems.language.spec import Claim, Setting, Source, Spec, SpecError
    with pytest.raises(SpecError, match="sum_subopt"):
        Spec("U2", "u", Source("0", 1), frozenset(), (Setting("s", "OnlineGD", hyper={"eta": 1}, online="free"),),
             (Claim("c", "sure", S.sum_subopt, S.sum_gu, "s", "x"),))
