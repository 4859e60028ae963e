"""What ``minimize(method="l-bfgs-b")`` does besides converging: dtypes, structured
``x0``, callbacks, history, ``disp``, every way a run ends (with SciPy's counts where
SciPy has the same stop), non-finite trial points, searches that fail, finite
differences, and the spellings of the method.  The loop run from Python throughout
(the compiled loop's equality with it is ``test_lbfgs_compiled.py``'s)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize
from bounded_problems import BOUNDED
from mgh import problem
from scipy.optimize import OptimizeWarning, minimize
from scipy.optimize._numdiff import approx_derivative

import numopt
import numopt.methods
from numopt.loop.status import Status
from numopt.quasi_newton.workspace import IV, F, I

ROSEN = problem("rosenbrock")
XROSEN10 = problem("extended_rosenbrock_10")
BOX = next(p for p in BOUNDED if p.name == "rosenbrock_box")


def run(p=ROSEN, x0=None, method="l-bfgs-b", **kw):
    kw.setdefault("jac", p.jac)
    kw.setdefault("bounds", p.bounds)
    kw["options"] = {"compiled": False, **kw.get("options", {})}
    return numopt.minimize(p.fun, p.x0.copy() if x0 is None else x0, method=method, **kw)


def scipy_run(p=ROSEN, **kw):
    kw.setdefault("jac", p.jac)
    return minimize(p.fun, p.x0.copy(), method="L-BFGS-B", bounds=p.bounds, **kw)


# -- dtypes and structures ----------------------------------------------------------------
def test_float32_is_kept_and_reaches_the_minimum():
    res = run(x0=ROSEN.x0.astype(np.float32))  # jac returns float64: cast into float32
    assert res.x.dtype == res.jac.dtype == np.float32
    assert res.success, res.message
    # float32 resolves x to ~1e-7 relative: f near 0 is ~(1e-4)^2 at worst
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-3)
    assert res.fun < 1e-6


def test_structured_x0_runs_as_its_flat_buffer():
    flat = XROSEN10.x0.copy()
    x0 = {"w": flat[:6].reshape(2, 3), "b": flat[6:]}

    def fun(x):
        return XROSEN10.fun(np.concatenate([x["w"].ravel(), x["b"]]))

    def jac(x):
        g = XROSEN10.jac(np.concatenate([x["w"].ravel(), x["b"]]))
        return {"w": g[:6].reshape(2, 3), "b": g[6:]}

    w_hi = np.array([[0.5, 2.0, 2.0], [2.0, 2.0, 2.0]])  # x1 <= 0.5 is active at the end
    bounds = {"w": (-2.0, w_hi), "b": (None, 1.5)}
    lo = np.r_[np.full(6, -2.0), np.full(4, -np.inf)]
    hi = np.r_[w_hi.ravel(), np.full(4, 1.5)]
    for structured_bounds, flat_bounds in ((None, None), (bounds, list(zip(lo, hi, strict=True)))):
        res = numopt.minimize(
            fun,
            x0,
            jac=jac,
            method="l-bfgs-b",
            bounds=structured_bounds,
            options={"compiled": False},
        )
        ref = run(XROSEN10, jac=XROSEN10.jac, bounds=flat_bounds)
        assert set(res.x) == {"w", "b"} and res.x["w"].shape == (2, 3)
        np.testing.assert_array_equal(np.concatenate([res.x["w"].ravel(), res.x["b"]]), ref.x)
        assert (res.nit, res.nfev, res.fun) == (ref.nit, ref.nfev, ref.fun)


# -- callbacks, history, disp ---------------------------------------------------------------
@pytest.mark.parametrize("p", [ROSEN, BOX], ids=lambda p: p.name)
def test_callbacks_see_scipys_iterates(p):
    ours, legacy, theirs = [], [], []

    def cb(intermediate_result):
        ours.append(intermediate_result)

    def scipy_cb(intermediate_result):
        theirs.append(
            (intermediate_result.fun, intermediate_result.x.copy(), set(intermediate_result))
        )

    res = run(p, callback=[cb, legacy.append])
    ref = scipy_run(p, callback=scipy_cb)
    assert len(ours) == len(legacy) == len(theirs) == res.nit == ref.nit
    assert [r.nit for r in ours] == list(range(1, res.nit + 1))
    for r, xk, (f, x, keys) in zip(ours, legacy, theirs, strict=True):
        assert keys <= set(r)  # SciPy's x and fun (numopt adds nit)
        assert r.fun == p.fun(r.x) and np.array_equal(r.x, xk)
        # the same iterates up to rounding (SciPy's dot products are BLAS's): measured
        # |Δf| <= 1e-11, |Δx| <= 2e-10 along the whole run
        assert r.fun == pytest.approx(f, rel=1e-7, abs=1e-9)
        np.testing.assert_allclose(r.x, x, rtol=1e-7, atol=1e-8)
    assert legacy[0] is not legacy[1]  # copies, not one buffer
    np.testing.assert_array_equal(legacy[-1], res.x)


def test_a_callback_stops_the_run():
    res = run(callback=lambda intermediate_result: intermediate_result.nit == 5)
    assert (res.status, res.nit) == (Status.CALLBACK, 5) and "returned True" in res.message
    assert res.fun == ROSEN.fun(res.x)


def test_history_records_each_update_and_its_accepted_step():
    res = run(options={"history": True})
    h = res.history
    assert len(h["fun"]) == len(h["grad_norm"]) == res.nit + 1  # x0 and every iterate
    assert len(h["learning_rate"]) == res.nit  # one step per update
    assert h["fun"][0] == ROSEN.fun(ROSEN.x0) and h["fun"][-1] == res.fun
    assert np.all(np.diff(h["fun"]) < 0)  # a line search accepts decrease only
    assert h["grad_norm"][0] == np.max(np.abs(ROSEN.jac(ROSEN.x0)))
    # the accepted steps, as the stateful optimizer's line search records them
    opt, x, steps = numopt.LBFGS(), ROSEN.x0.copy(), []
    for _ in range(res.nit):
        opt.step(x, lambda x: (ROSEN.fun(x), ROSEN.jac(x)))
        steps.append(opt._work.floats[F.stp])
    np.testing.assert_array_equal(h["learning_rate"], steps)
    assert steps[0] < 1.0 and steps[-1] == 1.0  # 1/|g0| scaled at first; then unit steps


def test_disp_prints_the_table_and_scipy_style_summary(capsys):
    res = run(options={"disp": True})
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Python loop (compiled=False)"  # run() asks for the Python loop
    assert out[1].split() == ["iter", "f", "max|g|", "lr"]
    assert out[2].split()[0] == "0" and float(out[2].split()[1]) == pytest.approx(24.2)
    assert res.message in out
    assert f"         Iterations: {res.nit}" in out
    assert f"         Function evaluations: {res.nfev}" in out


# -- how a run ends -------------------------------------------------------------------------
def test_an_inconsistent_gradient_ends_in_a_failed_line_search():
    def f(x):
        return float(x @ x)

    def wrong(x):  # minus the gradient: every direction it suggests goes uphill
        return -2.0 * x

    # maxls = 15: with the default 20 the last trials' steps shrink to where x + step d
    # rounds to x0 on some CPUs (f unchanged: SciPy and numpy both stop by ftol there)
    x0, options = np.array([1.0, 2.0]), {"maxls": 15}
    res = numopt.minimize(
        f, x0, jac=wrong, method="l-bfgs-b", options={**options, "compiled": False}
    )
    ref = minimize(f, x0, jac=wrong, method="L-BFGS-B", options=options)
    assert res.status == Status.LINE_SEARCH == 9 and not res.success
    assert res.message.startswith("ABNORMAL: ") and ref.message.startswith("ABNORMAL")
    assert ref.status == 2
    np.testing.assert_array_equal(res.x, x0)  # the last good point, with its value
    assert (res.fun, res.nit) == (5.0, 0)
    # maxls evaluations in the search, after x0's, as SciPy counts them
    assert res.nfev == ref.nfev == 16


@pytest.mark.parametrize(
    "p", [ROSEN, problem("extended_rosenbrock_100"), BOX], ids=lambda p: p.name
)
def test_maxls_failures_match_scipy(p):
    """maxls = 1 leaves no room: the search fails along steepest descent (status 9) at
    the iteration SciPy's does, with SciPy's counts and point; numopt returns that
    point's own value (SciPy returns the last trial's)."""
    res = run(p, options={"maxls": 1})
    ref = scipy_run(p, options={"maxls": 1})
    assert res.status == Status.LINE_SEARCH and ref.status == 2
    assert (res.nit, res.nfev) == (ref.nit, ref.nfev)
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-12)  # a few iterations: rounding only
    assert res.fun == p.fun(res.x) == res.fun_best


@pytest.mark.parametrize("maxiter", [1, 4, 17])
def test_maxiter_stops_where_scipys_does(maxiter):
    res = run(XROSEN10, options={"maxiter": maxiter})
    ref = scipy_run(XROSEN10, options={"maxiter": maxiter})
    assert res.status == Status.MAXITER and ref.status == 1
    assert (res.nit, res.nfev) == (ref.nit, ref.nfev) == (maxiter, ref.nfev)
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-10)  # a few iterations: rounding only


@pytest.mark.parametrize("maxfun", [1, 5, 10, 23, 40])
def test_maxfun_stops_where_scipys_does(maxfun):
    """SciPy tests ``nfev > maxfun`` after each iteration (a line search may pass it)."""
    res = run(XROSEN10, options={"maxfun": maxfun})
    ref = scipy_run(XROSEN10, options={"maxfun": maxfun})
    assert res.status == Status.MAXFEV and ref.status == 1, (res.message, ref.message)
    assert (res.nit, res.nfev) == (ref.nit, ref.nfev) and res.nfev > maxfun
    # maxfev is the same limit counted as numopt's other methods count it: nfev >= maxfev
    same = run(XROSEN10, options={"maxfev": maxfun + 1})
    np.testing.assert_array_equal(same.x, res.x)
    assert (same.status, same.nfev) == (res.status, res.nfev)


def test_when_maxfun_and_gtol_hold_together_numopt_reports_convergence():
    """SciPy tests maxfun before its convergence tests, numopt after (its loop's order):
    the same run, but numopt says it converged."""
    whole = run(XROSEN10)
    res = run(XROSEN10, options={"maxfun": whole.nfev - 1})
    ref = scipy_run(XROSEN10, options={"maxfun": whole.nfev - 1})
    assert (res.nit, res.nfev) == (ref.nit, ref.nfev) == (whole.nit, whole.nfev)
    assert res.status == Status.GTOL and ref.status == 1


def test_defaults_are_scipys():
    explicit = {"maxcor": 10, "maxls": 20, "gtol": 1e-5, "ftol": 2.220446049250313e-09}
    default = run(XROSEN10)
    given = run(XROSEN10, options={**explicit, "maxiter": 15000, "maxfun": 15000})
    np.testing.assert_array_equal(default.x, given.x)
    assert (default.nit, default.nfev, default.status) == (given.nit, given.nfev, given.status)
    loose = run(XROSEN10, options={"gtol": 1e-2})
    assert loose.status == Status.GTOL and loose.nit < default.nit
    assert np.max(np.abs(loose.jac)) <= 1e-2
    by_tol = run(XROSEN10, tol=1e-2)  # both tolerances, as SciPy's L-BFGS-B
    both = run(XROSEN10, options={"gtol": 1e-2, "ftol": 1e-2})
    np.testing.assert_array_equal(by_tol.x, both.x)
    stopped_by_ftol = run(ROSEN)  # SciPy too: "RELATIVE REDUCTION OF F <= FACTR*EPSMCH"
    no_ftol = run(ROSEN, options={"ftol": 0.0})
    assert stopped_by_ftol.status == Status.FTOL and no_ftol.status == Status.GTOL
    assert no_ftol.nit > stopped_by_ftol.nit and np.max(np.abs(no_ftol.jac)) <= 1e-5


# -- non-finite trial points, failed searches -----------------------------------------------
@pytest.mark.parametrize("bad", [math.inf, math.nan], ids=["inf", "nan"])
@pytest.mark.parametrize("jac_form", ["jac", "combined"])
def test_non_finite_trial_points_shorten_the_step(bad, jac_form):
    """Outside the disc of radius 1.6 f is not finite (and g NaN): the first step leaves
    it, the line search halves it back, and the run converges to (1, 1)."""
    values = []

    def fun(x):
        f = ROSEN.fun(x) if x @ x <= 1.6**2 else bad
        values.append(f)
        return f

    def jac(x):
        return ROSEN.jac(x) if x @ x <= 1.6**2 else np.full(2, np.nan)

    if jac_form == "jac":
        res = numopt.minimize(fun, ROSEN.x0.copy(), jac=jac, method="l-bfgs-b")
    else:
        res = numopt.minimize(
            lambda x: (fun(x), jac(x)), ROSEN.x0.copy(), jac=True, method="l-bfgs-b"
        )
    assert res.success, res.message
    assert sum(not math.isfinite(v) for v in values) >= 1
    # converged as the run without the wall does (gtol 1e-5 near a nonsingular minimum)
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-5)
    assert res.fun < 1e-10 and math.isfinite(res.fun)


def test_a_failed_search_with_memory_restarts_along_steepest_descent():
    """maxls = 2 fails one search on Rosenbrock: the memory is emptied, the iteration
    restarts from steepest descent and the run converges — SciPy's run, count for count."""
    opt = numopt.LBFGS(maxls=2)
    res = run(method=opt)
    ref = scipy_run(options={"maxls": 2})
    assert opt._work.ints[I.restarts] == 1
    assert res.success and ref.success
    assert (res.nit, res.nfev) == (ref.nit, ref.nfev)
    assert res.fun == pytest.approx(ref.fun, rel=1e-6, abs=1e-12)  # f ~ 1e-16: absolute


def test_steepest_descent_that_is_not_a_descent_direction_ends_the_run():
    """gᵀd underflows to 0 for a gradient of 1e-300: not a descent direction, and with an
    empty memory nothing to restart from (gtol = 0 keeps the gradient test off)."""
    res = numopt.minimize(
        lambda x: 1e-300 * float(x @ x),
        np.array([1.0, 2.0]),
        jac=lambda x: 2e-300 * x,
        method="l-bfgs-b",
        options={"gtol": 0.0},
    )
    assert (res.status, res.nit, res.nfev) == (Status.LINE_SEARCH, 0, 1)
    np.testing.assert_array_equal(res.x, [1.0, 2.0])


def test_a_non_finite_gradient_at_x0_stops_with_status_3():
    res = run(jac=lambda x: np.array([np.nan, 1.0]))
    assert res.status == Status.NONFINITE and "non-finite gradient" in res.message
    np.testing.assert_array_equal(res.x, ROSEN.x0)


# -- finite differences ---------------------------------------------------------------------
@pytest.mark.parametrize("p", [ROSEN, problem("beale"), BOX], ids=lambda p: p.name)
def test_default_finite_differences_are_scipys(p):
    """jac=None: forward differences with L-BFGS-B's absolute step eps (1e-8)."""
    at_x0 = run(p, jac=None, options={"maxiter": 0})
    expected = approx_derivative(p.fun, p.x0, abs_step=1e-8, method="2-point")
    np.testing.assert_array_equal(at_x0.jac, expected)
    res, ref = run(p, jac=None), scipy_run(p, jac=None)
    assert res.success and res.nfev == (p.n + 1) * res.njev  # n differences per gradient
    # a gradient with ~1e-8 of noise: the runs part near the end (counts within 1.5x)
    assert res.nit <= 1.5 * ref.nit and res.nfev <= 1.5 * ref.nfev
    assert res.fun == pytest.approx(ref.fun, rel=1e-6, abs=1e-9)
    steps = run(p, jac=None, options={"eps": 1e-6, "maxiter": 0})
    np.testing.assert_array_equal(
        steps.jac, approx_derivative(p.fun, p.x0, "2-point", abs_step=1e-6)
    )


def test_named_difference_schemes_take_scipys_relative_steps():
    """jac="2-point"/"3-point": SciPy's L-BFGS-B ignores eps and takes relative steps."""
    for scheme in ("2-point", "3-point"):
        ours = run(jac=scheme, options={"eps": 1e-3, "maxiter": 0})
        np.testing.assert_array_equal(ours.jac, approx_derivative(ROSEN.fun, ROSEN.x0, scheme))
        res, ref = run(jac=scheme), scipy_run(jac=scheme)
        assert (res.nit, res.nfev) == (ref.nit, ref.nfev)  # measured equal on Rosenbrock


# -- the method's names and objects ------------------------------------------------------------
def test_spellings_method_object_and_scipy_door_are_one_method():
    base = run(BOX, options={"maxcor": 5})
    assert base.method == "l-bfgs-b"
    others = [
        run(BOX, method=name, options={"maxcor": 5})
        for name in ("L-BFGS-B", "lbfgs", "l-bfgs", "LBFGSB")
    ]
    others.append(run(BOX, method=numopt.LBFGS(maxcor=5)))
    others.append(
        scipy.optimize.minimize(
            BOX.fun,
            BOX.x0.copy(),
            jac=BOX.jac,
            bounds=BOX.bounds,
            method=numopt.methods.lbfgsb,
            options={"maxcor": 5, "compiled": False},
        )
    )
    for res in others:
        np.testing.assert_array_equal(res.x, base.x)
        assert (res.nit, res.nfev, res.status) == (base.nit, base.nfev, base.status)


def test_x0_outside_the_bounds_is_clipped_as_scipy_clips_it():
    x0 = np.array([-3.0, 1.0])
    bounds = [(-2.0, 2.0), (-2.0, 2.0)]
    with pytest.warns(OptimizeWarning, match="clipped"):
        res = numopt.minimize(ROSEN.fun, x0, jac=ROSEN.jac, method="l-bfgs-b", bounds=bounds)
    ref = minimize(ROSEN.fun, x0, jac=ROSEN.jac, method="L-BFGS-B", bounds=bounds)
    assert (res.nit, res.nfev) == (ref.nit, ref.nfev)
    np.testing.assert_allclose(res.x, ref.x, atol=1e-8)  # both converge to (1, 1) to ~1e-8


def test_ftol_zero_still_stops_a_stalled_run_as_scipys():
    """With ftol = 0 SciPy's L-BFGS-B still stops when f does not decrease at all
    (``fold - f <= 0``), and so does numopt's (a first-order rule's ftol = 0 is off):
    a run stalled by rounding ends there, not at maxfun."""
    A = np.array([[0.109375, 0.0, 0.0], [0.0, 4.109375, 4.0], [0.0, 4.0, 5.109375]])
    b = np.array([1.0, 0.0, 1.0])  # (a problem hypothesis found; see test_lbfgs_properties.py)

    def fun(x):
        return float(0.5 * x @ A @ x - b @ x)

    def jac(x):
        return A @ x - b

    options = {"gtol": 1e-10, "ftol": 0.0, "maxfun": 200}
    ref = minimize(fun, np.zeros(3), jac=jac, method="L-BFGS-B", options=options)
    assert ref.status == 0 and ref.nit < 20  # SciPy: "RELATIVE REDUCTION OF F" at once
    res = numopt.minimize(fun, np.zeros(3), jac=jac, method="l-bfgs-b", options=options)
    assert res.status == Status.FTOL, res.message
    # the same iterations; the stalled last search's evaluations are counted differently
    assert res.nit == ref.nit and abs(res.nfev - ref.nfev) <= 3
    np.testing.assert_allclose(res.fun, ref.fun, rtol=1e-12)  # at the same minimum


@pytest.mark.parametrize("bounded", [False, True])
def test_the_resolved_step_is_the_dispatchers_for_its_arrays_and_hands_others_on(bounded):
    """The Python loop calls the step compiled for its own arrays past Numba's
    dispatcher; given other arrays it goes through the dispatcher: the same codes and
    the same bits either way."""
    from numopt.quasi_newton import lbfgsb, method, workspace

    def fresh():
        x = XROSEN10.x0.copy()
        g = np.empty_like(x)
        lo, hi = (np.full(x.size, -2.0), np.full(x.size, 2.0)) if bounded else (x[:0], x[:0])
        w = workspace.new(x.size, 5, 20)
        lbfgsb.initialize(w, x, lo, hi)
        return w, x, g, method.Context(w, lo, hi)

    def trajectory(advance, ctx, w, x, g):
        seen = []
        f = XROSEN10.inplace(x, g)
        for _ in range(30):
            code = lbfgsb.START
            while True:
                code = advance(ctx, w, x, g, f, code)
                seen.append(code)
                if code != lbfgsb.EVALUATE:
                    break
                f = XROSEN10.inplace(x, g)
            if code == lbfgsb.FAILED:
                break
        return seen, x.copy(), g.copy()

    w, x, g, ctx = fresh()
    resolved = method.resolved_advance(w, x, g, ctx.lo, ctx.hi)
    mine = trajectory(resolved, ctx, w, x, g)
    w2, x2, g2, ctx2 = fresh()  # other arrays: handed on to the dispatcher
    other = trajectory(resolved, ctx2, w2, x2, g2)
    w3, x3, g3, ctx3 = fresh()
    reference = trajectory(method._advance, ctx3, w3, x3, g3)
    for got in (mine, other):
        assert got[0] == reference[0]
        assert np.array_equal(got[1], reference[1]) and np.array_equal(got[2], reference[2])


@pytest.mark.parametrize("n", [0, 1, 7])
def test_a_new_workspace_is_what_initialize_makes_of_no_bounds(n):
    """``workspace.new`` sets up an unbounded problem itself (``LBFGS.work_for`` then
    skips ``initialize``, a compiled call, where there are no bounds): the same arrays
    as ``initialize`` with empty bounds leaves."""
    from numopt.quasi_newton import lbfgsb, workspace

    x = np.linspace(-1.0, 1.0, n)
    mine = workspace.new(n, 4, 20)
    theirs = workspace.new(n, 4, 20)
    theirs.iv[IV.nbd] = theirs.iv[IV.iwhere] = 7  # the rows initialize writes
    theirs.ints[I.nfree] = -1
    lbfgsb.initialize(theirs, x, x[:0], x[:0])
    for name, a, b in zip(workspace.Work._fields, mine, theirs, strict=True):
        assert np.array_equal(a, b), name
