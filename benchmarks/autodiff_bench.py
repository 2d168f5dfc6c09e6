"""Time one gradient evaluation of the autodiff engine against HIPS autograd and torch.autograd.

Run as `python benchmarks/autodiff_bench.py [--repeats N]`. Everything runs
single-threaded on the CPU. Workloads:
  (a) a scalar function of a 1000-dim vector built from ~50 elementwise ops,
  (b) the logistic regression loss with X of shape 1000 x 100,
  (c) a 3-layer MLP 100-256-256-1 (tanh) with squared loss on a batch of 128,
plus the per-op overhead (forward + backward) on tiny inputs.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from typing import Callable  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import autodiff as ad  # noqa: E402
import autodiff.numpy as anp  # noqa: E402

try:
    import autograd  # noqa: E402
    import autograd.numpy as agnp  # noqa: E402
except ImportError:
    autograd = None
    agnp = None

torch.set_num_threads(1)


def median_times(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median wall time (seconds) of each callable, after warm-up.

    The callables are timed in rotation, one call each per round, so that load
    from other processes on the machine affects every framework alike.
    """
    for fn in fns.values():
        fn()
        fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


# Workloads written once against a numpy-like namespace `xp`. ---------------------------


def elementwise_chain(xp, x):
    """~50 elementwise ops on a 1000-dim vector, reduced to a scalar."""
    y = x
    for _ in range(10):
        y = xp.sin(y) * 0.9 + xp.tanh(y) * 0.1
    return xp.sum(y * y)


def logistic_loss(xp, w, X, y, lam=1e-3):
    """Mean logistic loss log(1 + exp(-y <x, w>)) plus an L2 penalty."""
    margins = -y * (X @ w)
    return xp.mean(xp.log1p(xp.exp(margins))) + 0.5 * lam * xp.sum(w * w)


def mlp_loss(xp, params, X, y):
    """3-layer tanh MLP 100-256-256-1 with mean squared error."""
    W1, b1, W2, b2, W3, b3 = params
    h = xp.tanh(X @ W1 + b1)
    h = xp.tanh(h @ W2 + b2)
    out = h @ W3 + b3
    r = out - y
    return xp.mean(r * r)


def tiny_chain(xp, x, n):
    y = x
    for _ in range(n):
        y = y * 1.0001
    return xp.sum(y)


# Framework adapters: each returns a zero-argument callable computing one gradient. ----


def _numpy_style_case(grad, module, case, data, params_as_tuple=False):
    """One gradient evaluation of ``case`` with a numpy-style engine (``grad``, its numpy ``module``)."""
    if case == "a":
        g = grad(lambda x: elementwise_chain(module, x))
        return lambda: g(data["x"])
    if case == "b":
        g = grad(lambda w: logistic_loss(module, w, data["X"], data["y"]))
        return lambda: g(data["w"])
    if case == "c":
        g = grad(lambda p: mlp_loss(module, p, data["X"], data["y"]))
        params = tuple(data["params"]) if params_as_tuple else data["params"]
        return lambda: g(params)
    g = grad(lambda x: tiny_chain(module, x, data["n"]))
    return lambda: g(data["x"])


def engine_case(case, data):
    return _numpy_style_case(ad.grad, anp, case, data)


def autograd_case(case, data):
    return _numpy_style_case(autograd.grad, agnp, case, data, params_as_tuple=True)


def torch_case(case, data):
    """Same computation in torch.autograd; inputs are converted once, outside the timing."""
    t = {k: (torch.from_numpy(v) if isinstance(v, np.ndarray) else v) for k, v in data.items() if k != "params"}
    if case == "a":
        def run():
            x = t["x"].clone().requires_grad_(True)
            return torch.autograd.grad(elementwise_chain(torch, x), x)
        return run
    if case == "b":
        def run():
            w = t["w"].clone().requires_grad_(True)
            return torch.autograd.grad(logistic_loss(torch, w, t["X"], t["y"]), w)
        return run
    if case == "c":
        params = [torch.from_numpy(p) for p in data["params"]]

        def run():
            ps = [p.clone().requires_grad_(True) for p in params]
            return torch.autograd.grad(mlp_loss(torch, ps, t["X"], t["y"]), ps)
        return run

    def run():
        x = t["x"].clone().requires_grad_(True)
        return torch.autograd.grad(tiny_chain(torch, x, data["n"]), x)
    return run


def make_data(rng: np.random.Generator) -> dict:
    X = rng.standard_normal((1000, 100))
    Xm = rng.standard_normal((128, 100))
    return {
        "a": {"x": rng.standard_normal(1000)},
        "b": {"w": 0.1 * rng.standard_normal(100), "X": X, "y": np.sign(rng.standard_normal(1000))},
        "c": {
            "params": [
                rng.standard_normal((100, 256)) / 10, np.zeros(256),
                rng.standard_normal((256, 256)) / 16, np.zeros(256),
                rng.standard_normal((256, 1)) / 16, np.zeros(1),
            ],
            "X": Xm,
            "y": rng.standard_normal((128, 1)),
        },
        "tiny": {"x": np.ones(3), "n": 1000},
    }


def check_agreement(data: dict) -> None:
    """The three frameworks must compute the same gradients before we time them."""
    for case in ("a", "b", "c"):
        mine = engine_case(case, data[case])()
        ref = [r.numpy() for r in torch_case(case, data[case])()]
        mine = list(mine) if isinstance(mine, (tuple, list)) else [mine]
        for m, r in zip(mine, ref):
            np.testing.assert_allclose(m, r, rtol=1e-8, atol=1e-10)


def blas_note() -> str:
    try:
        cfg = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{cfg.get('name')} {cfg.get('version', '')}".strip()
    except Exception:  # noqa: BLE001 - informational only
        blas = "unknown"
    extra = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ}
    note = f"numpy {np.__version__} with BLAS {blas}"
    if extra:
        note += f" (environment: {extra})"
    try:
        from threadpoolctl import threadpool_info

        kernels = {i.get("internal_api"): i.get("architecture") for i in threadpool_info()}
        note += f"; BLAS kernels in use: {kernels}"
    except ImportError:
        note += "; install threadpoolctl to see which BLAS kernel runs"
    return note + f"; torch {torch.__version__}, {torch.get_num_threads()} thread"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()

    data = make_data(np.random.default_rng(0))
    check_agreement(data)
    print(blas_note())
    if autograd is None:
        print("HIPS autograd is not installed (pip install 'theorycheck[bench]'): skipping its column.")

    names = {
        "a": "(a) 50 elementwise ops, d=1000",
        "b": "(b) logistic loss, X 1000x100",
        "c": "(c) MLP 100-256-256-1, batch 128",
    }
    header = f"{'workload':36} {'autodiff':>11} {'autograd':>11} {'torch':>11} {'ad/autograd':>12} {'ad/torch':>9}"
    print()
    print("median time of one gradient evaluation (ms)")
    print(header)
    print("-" * len(header))
    frameworks = {"autodiff": engine_case, "torch": torch_case}
    if autograd is not None:
        frameworks["autograd"] = autograd_case
    for case in ("a", "b", "c"):
        t = median_times({k: make(case, data[case]) for k, make in frameworks.items()}, args.repeats)
        mine, ref, theirs = t["autodiff"], t["torch"], t.get("autograd")
        ag = f"{theirs * 1e3:11.3f}" if theirs else f"{'-':>11}"
        ratio_ag = f"{mine / theirs:12.2f}" if theirs else f"{'-':>12}"
        print(f"{names[case]:36} {mine * 1e3:11.3f} {ag} {ref * 1e3:11.3f} {ratio_ag} {mine / ref:9.2f}")

    n = data["tiny"]["n"]
    t = median_times({k: make("tiny", data["tiny"]) for k, make in frameworks.items()}, max(5, args.repeats // 5))
    mine, ref, theirs = t["autodiff"] / n, t["torch"] / n, (t["autograd"] / n if "autograd" in t else None)
    ag = f"{theirs * 1e6:11.2f}" if theirs else f"{'-':>11}"
    print()
    print(f"per-op overhead, forward + backward, shape (3,) inputs, chain of {n} multiplies (µs/op)")
    print(f"{'':36} {'autodiff':>11} {'autograd':>11} {'torch':>11}")
    print(f"{'per op':36} {mine * 1e6:11.2f} {ag} {ref * 1e6:11.2f}")


if __name__ == "__main__":
    main()
