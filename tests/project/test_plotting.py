"""numopt.plotting: history plots from real runs, clear errors, overlays."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from scipy.optimize import rosen, rosen_der

import numopt

matplotlib = pytest.importorskip("matplotlib", reason="the 'plot' extra (matplotlib) is missing")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from numopt.plotting import plot_histories, plot_history  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _run(method="adam", lr=0.02, maxiter=200, history=True):
    return numopt.minimize(
        rosen,
        [-1.2, 1.0],
        jac=rosen_der,
        method=method,
        options={"learning_rate": lr, "maxiter": maxiter, "history": history},
    )


def test_plot_history_draws_loss_gradient_and_learning_rate():
    res = _run(lr=numopt.schedules.exponential(0.05, 0.1, 1000), maxiter=2000)
    fig, axes = plot_history(res)
    assert fig is axes[0].figure and len(axes) == 3
    assert [a.get_ylabel() for a in axes] == ["loss", "gradient norm  max|g|", "learning rate"]
    loss, gnorm, lr = (a.get_lines()[0] for a in axes)
    np.testing.assert_array_equal(loss.get_ydata(), res.history["fun"])
    np.testing.assert_array_equal(gnorm.get_ydata(), res.history["grad_norm"])
    np.testing.assert_array_equal(lr.get_ydata(), res.history["learning_rate"])
    assert len(loss.get_xdata()) == res.nit + 1 and len(lr.get_xdata()) == res.nit
    # losses and gradients spanning decades on log scales; the rate linear unless asked
    assert [a.get_yscale() for a in axes] == ["log", "log", "linear"]
    assert all(a.get_legend() is None for a in axes)  # no label, no legend
    _, axes = plot_history(res, panels=["learning_rate"], log_lr=True)
    assert axes[0].get_yscale() == "log"


def test_plot_history_into_given_axes_with_label_and_style():
    res = _run()
    fig, ax = plt.subplots(1, 2)
    out_fig, axes = plot_history(
        res, ax, panels=["fun", "learning_rate"], label="adam", color="red", logy=False
    )
    assert out_fig is fig and list(axes) == list(ax)
    assert [a.get_yscale() for a in axes] == ["linear", "linear"]
    for a in axes:
        (line,) = a.get_lines()
        assert line.get_label() == "adam" and line.get_color() == "red"
    assert [t.get_text() for t in axes[0].get_legend().get_texts()] == ["adam"]
    assert axes[1].get_legend() is None  # one legend, on the first panel


def test_plot_history_without_history_says_how_to_get_one():
    res = _run(history=False)
    with pytest.raises(ValueError, match=r"options=\{'history': True\}"):
        plot_history(res)
    with pytest.raises(ValueError, match="history"):
        plot_history({"x": np.zeros(2)})


def test_plot_history_rejects_bad_panels_and_axes():
    res = _run(maxiter=5)
    with pytest.raises(ValueError, match="panels"):
        plot_history(res, panels=["loss"])
    with pytest.raises(ValueError, match="panels"):
        plot_history(res, panels=[])
    _, ax = plt.subplots(1, 2)
    with pytest.raises(ValueError, match="one Axes per panel"):
        plot_history(res, ax)


def test_plot_history_marks_epoch_means_of_a_minibatch_run():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((96, 3))
    y = X @ np.array([1.0, -2.0, 0.5])

    def loss(w, X, y):
        r = X @ w - y
        return 0.5 * r @ r / len(y), X.T @ r / len(y)

    res = numopt.minimize(
        loss,
        np.zeros(3),
        args=(X, y),
        jac=True,
        method="sgd",
        options={"learning_rate": 0.1, "batch_size": 16, "epochs": 4, "seed": 0, "history": True},
    )
    _, axes = plot_history(res, panels="fun", label="sgd")
    curve, dots = axes[0].get_lines()
    assert dots.get_label() == "sgd: epoch means"
    assert len(curve.get_xdata()) == res.nit == 24
    np.testing.assert_array_equal(dots.get_xdata(), [6, 12, 18, 24])
    np.testing.assert_array_equal(dots.get_ydata(), res.history["epoch_fun"])
    _, axes = plot_history(res, panels="fun", epoch_means=False)
    assert len(axes[0].get_lines()) == 1


def test_plot_histories_overlays_runs_with_one_colour_each():
    runs = {
        "adam": _run(maxiter=2000),
        "rmsprop": _run("rmsprop", 0.002),
        "gd": _run("gd", 1e-3),
    }
    fig, axes = plot_histories(runs, title="three runs")
    assert fig._suptitle.get_text() == "three runs"
    for a in axes:
        assert [line.get_label() for line in a.get_lines()] == list(runs)
    assert [t.get_text() for t in axes[0].get_legend().get_texts()] == list(runs)
    colours = [line.get_color() for line in axes[0].get_lines()]
    assert len(set(colours)) == 3
    assert colours == [line.get_color() for line in axes[2].get_lines()]
    # the loss spans decades; the constant rates differ by 20x: both on log scales
    assert axes[0].get_yscale() == "log" and axes[2].get_yscale() == "log"
    _, axes = plot_histories(runs, panels=["learning_rate"], log_lr=False)
    assert axes[0].get_yscale() == "linear"


def test_plot_histories_names_the_run_without_history():
    with pytest.raises(ValueError, match=r"'plain' has no history.*'history': True"):
        plot_histories({"ok": _run(maxiter=5), "plain": _run(maxiter=5, history=False)})
    with pytest.raises(ValueError, match="non-empty"):
        plot_histories({})


def test_missing_matplotlib_names_the_extra(monkeypatch):
    res = _run(maxiter=5)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install 'numopt\[plot\]'"):
        plot_history(res)
