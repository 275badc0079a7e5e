"""The population forecast's kernels (alignment, mixture quantiles) against plain numpy references written from their definitions."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import ndtr

from batterylab.grading import trajectory as T
from batterylab.kernels.forecast import align_references


def naive_align(xp, fp, n, c, wt, stretches):
    """Every stretch that keeps the history inside the reference, at once, with numpy.interp."""
    s = stretches[: int(np.searchsorted(stretches * n[-1], xp[-1], side="right"))]
    if s.size == 0:
        return (np.inf, 1.0, 1.0)
    r = np.interp(s[:, None] * n[None, :], xp, fp)
    den = (r * r) @ wt
    ok = den > 0
    if not ok.any():
        return (np.inf, 1.0, 1.0)
    a = np.where(ok, (r @ (wt * c)) / np.where(ok, den, 1.0), 0.0)
    rmse = np.where(ok, np.sqrt(((c[None, :] - a[:, None] * r) ** 2) @ wt / n.size), np.inf)
    i = int(np.argmin(rmse))
    return (float(rmse[i]), float(s[i]), float(a[i]))


def naive_mixture_quantiles(mu, sd, w, probs, *, tol=1e-9, max_iter=200):
    """Every quantile of every point at once, in lock-step (numpy, scipy's ndtr)."""
    from scipy.special import ndtr, ndtri  # noqa: F401 (ndtri: the reference's start)

    w = np.asarray(w, float)
    npts = mu.shape[0]
    pr = np.repeat(np.asarray(probs, float), npts)  # every quantile of every point, solved at once
    mu = np.tile(mu, (len(probs), 1))
    sd = np.tile(sd, (len(probs), 1))
    lo = (mu - 6.0 * sd).min(axis=1)
    hi = (mu + 6.0 * sd).max(axis=1)
    mean = mu @ w
    spread = np.sqrt(np.maximum(((mu - mean[:, None]) ** 2 + sd**2) @ w, 1e-300))
    width_before = hi - lo
    x = np.clip(mean + ndtri(pr) * spread, lo, hi)
    for it in range(max_iter):
        z = (x[:, None] - mu) / sd
        err = ndtr(z) @ w - pr
        done = np.abs(err) <= tol
        if np.all(done):
            break
        lo = np.where(err < 0.0, x, lo)
        hi = np.where(err > 0.0, x, hi)
        dens = (np.exp(-0.5 * z * z) / sd) @ w * 0.3989422804014327
        newton = x - err / np.maximum(dens, 1e-300)
        inside = (newton > lo) & (newton < hi)
        if it % 3 == 2:
            inside &= (hi - lo) <= 0.5 * width_before
            width_before = hi - lo
        x = np.where(done, x, np.where(inside, newton, 0.5 * (lo + hi)))
    return [x[j * npts:(j + 1) * npts] for j in range(len(probs))]


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 30), st.integers(1, 8), st.integers(0, 2**32 - 1), st.sampled_from([1e-9, 1e-6]))
def test_mixture_quantiles_equal_the_numpy_reference(npts, k, seed, tol):
    rng = np.random.default_rng(seed)
    mu = rng.normal(0.9, 0.05, (npts, k)) + rng.choice([0.0, 0.3], (npts, k))  # separated components too
    sd = rng.uniform(1e-4, 0.05, (npts, k))
    w = rng.dirichlet(np.ones(k))
    probs = (0.5, 0.025, 0.975)
    got = T._mixture_quantiles(mu, sd, w, probs, tol=tol)
    want = naive_mixture_quantiles(mu, sd, w, probs, tol=tol)
    for g, x, p in zip(got, want, probs):
        # the definition: F(x) within tol of p (in scipy's ndtr, not the kernel's own), inside the
        # components' 6-sigma range
        F = (ndtr((g[:, None] - mu) / sd) @ w) - p
        assert np.all(np.abs(F) <= tol * (1 + 1e-6))
        assert np.all(g >= (mu - 6 * sd).min(axis=1)) and np.all(g <= (mu + 6 * sd).max(axis=1))
        # the same steps as the lock-step form: where F is steep (one component, small sd) the two
        # agree to rounding; elsewhere each may stop at another point within tol
        steep = (k == 1) & (sd.max() < 0.01)
        if steep:
            np.testing.assert_allclose(g, x, rtol=0, atol=1e-12)


def test_normal_distribution_function_follows_scipy():
    from batterylab.kernels.forecast import _ndtr

    z = np.r_[np.linspace(-12.0, 12.0, 2401), -0.999, 0.999, -1.0, 1.0, 0.0]
    # the C library's erfc and Cephes' differ by a few ulps far in the tail (7.5e-15 at z = -12)
    np.testing.assert_allclose([_ndtr(v) for v in z], ndtr(z), rtol=2e-14, atol=1e-300)


@st.composite
def reference(draw):
    m = draw(st.integers(2, 60))
    gaps = draw(st.lists(st.sampled_from([0.0, 1.0, 3.0, 17.5, 250.0]), min_size=m - 1, max_size=m - 1))
    xp = draw(st.floats(0.0, 50.0)) + np.concatenate([[0.0], np.cumsum(gaps)])  # repeated cycles included
    shape = draw(st.sampled_from(["fade", "zero", "flat", "noisy"]))
    if shape == "zero":
        fp = np.zeros(m)
    elif shape == "flat":
        fp = np.full(m, 0.93)
    else:
        fp = 1.0 - 1e-3 * (xp - xp[0]) ** 1.3 / max(xp[-1] - xp[0], 1.0) ** 0.3
        if shape == "noisy":
            fp = fp + np.asarray(draw(st.lists(st.floats(-0.02, 0.02), min_size=m, max_size=m)))
    return xp, fp


@settings(max_examples=200, deadline=None)
@given(st.lists(reference(), min_size=1, max_size=6), st.integers(3, 40), st.floats(5.0, 900.0), st.floats(1.0, 80.0))
def test_kernel_equals_the_numpy_reference(refs, npts, last, first):
    n = np.sort(np.r_[first, np.linspace(first, first + last, npts - 1)])
    c = 1.0 - 2e-4 * (n - n[0]) + 1e-3 * np.sin(n)
    span = n[-1] - n[0]
    wt = (n - n[0]) / span if span > 0 else np.ones_like(n)
    wt = wt / wt.mean()
    starts = np.cumsum([0] + [x.size for x, _ in refs]).astype(np.int64)
    out = np.empty((len(refs), 3))
    align_references(n, c, wt, T.STRETCHES, np.concatenate([x for x, _ in refs]), np.concatenate([f for _, f in refs]),
                     starts, out)
    for j, (xp, fp) in enumerate(refs):
        want = naive_align(xp, fp, n, c, wt, T.STRETCHES)
        if not np.isfinite(want[0]):
            assert tuple(out[j]) == (np.inf, 1.0, 1.0)
            continue
        # the stretch is the same one unless two stretches score within rounding of each other
        rmse_at = naive_align(xp, fp, n, c, wt, np.array([out[j, 1]]))
        assert out[j, 0] == np.float64(want[0]) or abs(out[j, 0] - want[0]) <= 1e-12 * max(want[0], 1e-300) + 1e-15
        assert abs(rmse_at[0] - out[j, 0]) <= 1e-12 * max(out[j, 0], 1e-300) + 1e-15
        if out[j, 1] == want[1]:
            assert abs(out[j, 2] - want[2]) <= 1e-12 * abs(want[2])


def test_interpolation_follows_numpy_at_nodes_repeats_and_ends():
    # stretched cycles that land on nodes, on repeated nodes, before the first and on the last one
    xp = np.array([10.0, 20.0, 20.0, 30.0, 40.0])
    fp = np.array([1.0, 0.98, 0.95, 0.9, 0.8])
    n = np.array([2.0, 10.0, 20.0, 30.0, 40.0])
    c = np.array([1.0, 1.0, 0.96, 0.9, 0.81])
    wt = np.ones(5)
    out = np.empty((1, 3))
    align_references(n, c, wt, np.array([1.0]), xp, fp, np.array([0, 5]), out)
    r = np.interp(n, xp, fp)
    a = (r @ c) / (r @ r)
    assert out[0, 2] == pytest.approx(a, rel=1e-14) and out[0, 1] == 1.0
    np.testing.assert_allclose(out[0, 0], np.sqrt(np.sum((c - a * r) ** 2) / 5), rtol=1e-14)
