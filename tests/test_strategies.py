"""problems/strategies.py: every strategy yields what it promises, and instances certify."""
from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from problems import FAMILIES
from problems.parametric import certify, is_parametric
from problems.strategies import batches, dims, initial_points, instances, oracles, rotations, spectra

PARAMETRIC = sorted(n for n, f in FAMILIES.items() if is_parametric(f))
SETTINGS = settings(max_examples=10, deadline=None)


@SETTINGS
@given(st.data())
def test_spectra_attain_H_and_respect_the_floor(data) -> None:
    d = data.draw(dims(6))
    sc = data.draw(st.booleans())
    lam = data.draw(spectra(d, strongly_convex=sc, max_condition=100.0))
    assert lam.shape == (d,) and float(lam.max()) == float(lam[0])
    assert (lam >= (lam[0] / 100.0 if sc else 0.0) * (1 - 1e-12)).all()


@SETTINGS
@given(st.data())
def test_rotations_are_orthogonal_and_initial_points_at_the_drawn_radius(data) -> None:
    d = data.draw(dims(6))
    Q = data.draw(rotations(d))
    torch.testing.assert_close(Q @ Q.T, torch.eye(d, dtype=torch.float64), rtol=0, atol=1e-12)
    centre = torch.zeros(d, dtype=torch.float64)
    w1 = data.draw(initial_points(centre))
    assert 1e-2 * (1 - 1e-12) <= float(w1.norm()) <= 1e2 * (1 + 1e-12)


@settings(max_examples=6, deadline=None)
@given(st.data())
def test_parametric_instances_certify(data) -> None:
    name = data.draw(st.sampled_from(PARAMETRIC))
    problem = data.draw(instances(name, dim=data.draw(dims(4))))
    assert problem.family == name and problem.batch_size == 1
    certify(problem)


@settings(max_examples=6, deadline=None)
@given(st.data())
def test_batches_and_oracles_for_every_family(data) -> None:
    name = data.draw(st.sampled_from(sorted(FAMILIES)))
    problem = data.draw(batches(name, batch_size=3, dim=2))
    oracle = data.draw(oracles(problem))
    w = problem.w1[:, None, :]
    assert problem.batch_size == 3 and oracle.sample(w).shape == w.shape
    if oracle.name == "exact":
        assert torch.equal(oracle.sample(w), problem.grad(w))


@settings(max_examples=10, deadline=None)
@given(instances("huber"))
def test_docstring_example(problem) -> None:
    """The module docstring's example, verbatim: GD with step 1/H does not increase the loss."""
    w = problem.w1[:, None, :]
    H = problem.constants["H"][:, None, None]
    assert (problem.loss(w - problem.grad(w) / H) <= problem.loss(w) + 1e-9 * (1 + problem.loss(w).abs())).all()
