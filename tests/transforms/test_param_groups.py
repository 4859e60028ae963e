"""Per-group hyperparameters: numopt.ParamGroups and minimize's ``param_groups``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rule_table import MATRIX_RULES

import numopt

RULES = sorted(numopt.RULES)
RNG = np.random.default_rng(0)
X = RNG.standard_normal((32, 3))
Y = X @ np.array([1.0, -2.0, 0.5]) + 0.7 + 0.1 * RNG.standard_normal(32)


def linear(p, X, y):
    """Least squares of a linear model with weights p["w"] and bias p["b"]."""
    r = X @ p["w"] + p["b"][0] - y
    n = len(y)
    return 0.5 * float(r @ r) / n, {"w": X.T @ r / n, "b": np.array([r.sum() / n])}


def as_matrix_model(p, X, y):
    """:func:`linear` with w a 3×1 and b a 1×1 matrix (for a matrix rule)."""
    f, g = linear({"w": p["w"][:, 0], "b": p["b"][0]}, X, y)
    return f, {"w": g["w"][:, None], "b": g["b"][None, :]}


def test_no_weight_decay_on_the_bias_equals_two_optimizers_by_hand():
    res = numopt.minimize(
        linear,
        {"w": np.zeros(3), "b": np.zeros(1)},
        args=(X, Y),
        jac=True,
        method="adamw",
        options={
            "learning_rate": 0.05,
            "weight_decay": 0.1,
            "maxiter": 40,
            "gtol": 0.0,
            "param_groups": [{"params": ["b"], "weight_decay": 0.0}],
        },
    )
    w, b = np.zeros(3), np.zeros(1)
    opt_w = numopt.AdamW(learning_rate=0.05, weight_decay=0.1)
    opt_b = numopt.AdamW(learning_rate=0.05, weight_decay=0.0)
    for _ in range(40):
        g = linear({"w": w, "b": b}, X, Y)[1]
        opt_w.step(w, g["w"])
        opt_b.step(b, g["b"])
    np.testing.assert_array_equal(res.x["w"], w)
    np.testing.assert_array_equal(res.x["b"], b)
    # and the decay mattered: one AdamW for both differs in the bias
    same = numopt.minimize(
        linear,
        {"w": np.zeros(3), "b": np.zeros(1)},
        args=(X, Y),
        jac=True,
        method="adamw",
        options={"learning_rate": 0.05, "weight_decay": 0.1, "maxiter": 40, "gtol": 0.0},
    )
    assert same.x["b"][0] != res.x["b"][0]


@pytest.mark.parametrize("method", RULES)
def test_stateful_groups_equal_one_optimizer_per_array_for_every_rule(method):
    rng = np.random.default_rng(1)
    shapes = {"a": (3, 2), "b": (4,), "c": (2,), "d": (5,)}
    if method in MATRIX_RULES:
        shapes = {"a": (3, 2), "b": (1, 4), "c": (2, 1), "d": (5, 3)}
    params = {k: rng.standard_normal(s) for k, s in shapes.items()}
    mine = {k: v.copy() for k, v in params.items()}
    cls = numopt.RULES[method]
    opt = numopt.ParamGroups(
        cls(learning_rate=0.02), [{"params": ["b", "d"], "learning_rate": 0.005}]
    )
    by_hand = {k: cls(learning_rate=0.005 if k in "bd" else 0.02) for k in shapes}
    for _ in range(6):
        grads = {k: rng.standard_normal(s) for k, s in shapes.items()}
        assert opt.step(params, grads) is params
        for k in shapes:
            by_hand[k].step(mine[k], grads[k])
    for k in shapes:
        np.testing.assert_array_equal(params[k], mine[k])
    assert opt.step_count == 6


@settings(max_examples=25, deadline=None)
@given(
    grouping=st.lists(st.integers(0, 2), min_size=1, max_size=6),
    method=st.sampled_from(["adam", "momentum", "rmsprop", "lion"]),
    seed=st.integers(0, 2**16),
)
def test_minimize_segments_equal_per_array_steps(grouping, method, seed):
    """Arrays 0..n-1 of a list x0, array i in group grouping[i] (2: the method's own
    settings): minimize's runs of neighbouring arrays equal one optimizer per array."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 4, size=len(grouping))
    x0 = [rng.standard_normal(int(n)) for n in sizes]
    targets = [rng.standard_normal(int(n)) for n in sizes]
    settings_of = [{"learning_rate": 0.01}, {"learning_rate": 0.03}]
    groups = [
        {"params": [i for i, g in enumerate(grouping) if g == k], **settings_of[k]}
        for k in (0, 1)
        if k in grouping
    ]

    def fun(xs):
        return sum(0.5 * float((x - t) @ (x - t)) for x, t in zip(xs, targets, strict=True)), [
            x - t for x, t in zip(xs, targets, strict=True)
        ]

    res = numopt.minimize(
        fun,
        x0,
        jac=True,
        method=method,
        options={"learning_rate": 0.1, "maxiter": 8, "gtol": 0.0, "param_groups": groups},
    )
    cls = numopt.RULES[method]
    xs = [x.copy() for x in x0]
    opts = [cls(learning_rate=0.1 if g == 2 else settings_of[g]["learning_rate"]) for g in grouping]
    for _ in range(8):
        for x, t, opt in zip(xs, targets, opts, strict=True):
            opt.step(x, x - t)
    for got, want in zip(res.x, xs, strict=True):
        np.testing.assert_array_equal(got, want)


def test_neighbouring_arrays_of_a_group_share_one_optimizer():
    opt = numopt.ParamGroups(numopt.Adam(), [{"params": ["b", "c"], "beta1": 0.5}])
    opt.bind_flat(["a", "b", "c", "d", "e"], [2, 3, 1, 4, 1], [(2,), (3,), (1,), (4,), (1,)])
    units = [(u.group, u.keys, u.span) for u in opt._units]
    assert units == [
        (1, ("a",), slice(0, 2)),
        (0, ("b", "c"), slice(2, 6)),
        (1, ("d", "e"), slice(6, 11)),
    ]


def test_groups_with_no_override_equal_the_plain_run_with_bounds():
    x0 = [np.zeros(3), np.zeros(2)]

    def fun(xs):
        return float(xs[0].sum() - xs[1].sum()), [np.ones(3), -np.ones(2)]

    options = {"learning_rate": 0.1, "maxiter": 20, "gtol": 0.0}
    bounds = [(-1.0, 0.2)] * 3 + [(-0.3, 1.0)] * 2
    plain = numopt.minimize(fun, x0, jac=True, method="adam", bounds=bounds, options=options)
    grouped = numopt.minimize(
        fun,
        x0,
        jac=True,
        method="adam",
        bounds=bounds,
        options={**options, "param_groups": [{"params": [1]}]},
    )
    for got, want in zip(grouped.x, plain.x, strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(grouped.x[0], [-1.0] * 3)  # clamped by the sliced bounds
    np.testing.assert_array_equal(grouped.x[1], [1.0] * 2)


def test_a_chain_inside_is_copied_per_array():
    rng = np.random.default_rng(3)
    params = {"w": rng.standard_normal(4), "b": rng.standard_normal(2)}
    mine = {k: v.copy() for k, v in params.items()}
    opt = numopt.ParamGroups(
        numopt.Lookahead(numopt.Adam(0.1), k=2), [{"params": ["b"], "learning_rate": 0.01}]
    )
    by_hand = {
        "w": numopt.Lookahead(numopt.Adam(0.1), k=2),
        "b": numopt.Lookahead(numopt.Adam(0.01), k=2),
    }
    for _ in range(5):
        grads = {k: rng.standard_normal(v.shape) for k, v in params.items()}
        opt.step(params, grads)
        for k in params:
            by_hand[k].step(mine[k], grads[k])
    for k in params:
        np.testing.assert_array_equal(params[k], mine[k])


def test_setting_a_default_reaches_the_groups_that_do_not_override_it():
    opt = numopt.ParamGroups(
        numopt.SGD(0.1, weight_decay=0.5), [{"params": [1], "weight_decay": 0.0}]
    )
    xs, gs = [np.ones(1), np.ones(1)], [np.zeros(1), np.zeros(1)]
    opt.step(xs, gs)
    opt.learning_rate = 0.2
    opt.weight_decay = 1.0  # not for group 0, which overrides it
    assert opt.learning_rate == 0.2 and opt.weight_decay == 1.0
    opt.step(xs, gs)
    # array 0: (1 - 0.1·0.5)(1 - 0.2·1.0); array 1: no decay at all
    np.testing.assert_array_equal(xs[0], [(1 - 0.05) * (1 - 0.2)])
    np.testing.assert_array_equal(xs[1], [1.0])
    assert opt.param_groups == [{"params": [1], "weight_decay": 0.0}]


def test_state_dict_round_trip():
    rng = np.random.default_rng(4)
    params = {"w": rng.standard_normal((2, 2)), "b": rng.standard_normal(2)}
    groups = [{"params": ["b"], "beta2": 0.9}]
    a = numopt.ParamGroups(numopt.Adam(0.05), groups)
    for _ in range(3):
        a.step(params, {k: rng.standard_normal(v.shape) for k, v in params.items()})
    sd = a.state_dict()
    assert sd["rule"] == "adam" and sd["step"] == 3
    assert set(sd["state"]) == {"u0_m", "u0_v", "u1_m", "u1_v"}
    assert sd["state"]["u0_m"].shape == (2, 2)
    b = numopt.ParamGroups(numopt.Adam(0.05), groups)
    b.load_state_dict(sd)
    mine = {k: v.copy() for k, v in params.items()}
    for _ in range(3):
        grads = {k: rng.standard_normal(v.shape) for k, v in params.items()}
        a.step(params, grads)
        b.step(mine, grads)
    for k in params:
        np.testing.assert_array_equal(params[k], mine[k])
    with pytest.raises(ValueError, match="saved with param_groups="):
        numopt.ParamGroups(numopt.Adam(0.05), [{"params": ["w"], "beta2": 0.9}]).load_state_dict(sd)
    with pytest.raises(ValueError, match="is for rule 'adam', not 'adamw'"):
        numopt.ParamGroups(numopt.AdamW(0.05), groups).load_state_dict(sd)


def test_reset_and_other_arrays():
    opt = numopt.ParamGroups(numopt.GD(0.5), [{"params": ["b"], "learning_rate": 1.0}])
    p = {"w": np.ones(1), "b": np.ones(1)}
    opt.step(p, {"w": np.ones(1), "b": np.ones(1)})
    np.testing.assert_array_equal(p["w"], [0.5])
    np.testing.assert_array_equal(p["b"], [0.0])
    with pytest.raises(ValueError, match="build a new ParamGroups for other arrays"):
        opt.step({"w": np.ones(1), "b": np.ones(1), "c": np.ones(1)}, {"w": 0, "b": 0, "c": 0})
    opt.reset()
    assert opt.step_count == 0


@pytest.mark.parametrize(
    ("groups", "error", "pattern"),
    [
        ({"params": ["b"]}, TypeError, "param_groups must be a list of dicts"),
        ([["b"]], TypeError, r"param_groups\[0\] must be a dict"),
        ([{"weight_decay": 0.0}], ValueError, r"param_groups\[0\] has no 'params'"),
        ([{"params": "b"}], TypeError, r"param_groups\[0\]\['params'\] must be a non-empty list"),
        ([{"params": []}], TypeError, r"must be a non-empty list"),
        ([{"params": [1.5]}], TypeError, r"holds 1.5; keys are strings"),
        (
            [{"params": ["b"]}, {"params": ["w", "b"]}],
            ValueError,
            r"param_groups\[1\]\['params'\] names 'b', which is in param_groups\[0\] too",
        ),
        ([{"params": ["b", "b"]}], ValueError, "which is twice in it"),
        (
            [{"params": ["b"], "beta": 0.9}],
            ValueError,
            r"sets \['beta'\], not hyperparameters of 'adamw'",
        ),
        (
            [{"params": ["b"], "weight_decay": -1.0}],
            ValueError,
            r"param_groups\[0\]: weight_decay must be >= 0",
        ),
        (
            [{"params": ["b"], "learning_rate": numopt.schedules.ReduceLROnPlateau(0.1)}],
            ValueError,
            "cannot be a ReduceLROnPlateau",
        ),
    ],
)
def test_bad_groups(groups, error, pattern):
    with pytest.raises(error, match=pattern):
        numopt.ParamGroups(numopt.AdamW(), groups)


def test_unknown_key_is_an_error_at_the_first_step():
    opt = numopt.ParamGroups(numopt.AdamW(), [{"params": ["bias"], "weight_decay": 0.0}])
    with pytest.raises(
        ValueError, match=r"names 'bias', which is not an array of x \(its keys: \['w', 'b'\]\)"
    ):
        opt.step({"w": np.ones(2), "b": np.ones(1)}, {"w": np.ones(2), "b": np.ones(1)})


@pytest.mark.parametrize(
    ("call", "error", "pattern"),
    [
        (lambda o: o.step(np.ones(2), np.ones(2)), TypeError, "steps a dict, list or tuple"),
        (lambda o: o.step({"b": np.ones(2)}, [np.ones(2)]), ValueError, "grads must be a dict"),
        (
            lambda o: o.step({"b": np.ones(2)}, {"b": np.ones(3)}),
            ValueError,
            r"params\['b'\]: g has shape",
        ),
        (lambda o: setattr(o, "bounds", (0, 1)), AttributeError, "ParamGroups takes no bounds"),
        (
            lambda o: numopt.Lookahead(o).step({"b": np.ones(2)}, {"b": np.ones(2)}),
            TypeError,
            "put the transform inside it",
        ),
    ],
)
def test_bad_steps(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call(numopt.ParamGroups(numopt.GD(), [{"params": ["b"]}]))


def test_a_used_or_bounded_optimizer_is_refused():
    used = numopt.GD()
    used.step(np.ones(1), np.ones(1))
    with pytest.raises(ValueError, match="pass a fresh optimizer"):
        numopt.ParamGroups(used, [{"params": [0]}])
    bounded = numopt.GD()
    bounded.bounds = (0.0, 1.0)
    with pytest.raises(ValueError, match="takes an optimizer without bounds"):
        numopt.ParamGroups(bounded, [{"params": [0]}])


# -- minimize -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("x0", "groups", "error", "pattern"),
    [
        (
            np.ones(3),
            [{"params": [0]}],
            ValueError,
            "param_groups needs x0 as a dict, list or tuple",
        ),
        (
            {"w": np.ones(3), "b": np.ones(1)},
            [{"params": ["bias"], "weight_decay": 0.0}],
            ValueError,
            r"param_groups\[0\]\['params'\] names 'bias', which is not an array of x",
        ),
        ([np.ones(3), np.ones(1)], [{"params": [2]}], ValueError, "names 2, which is not an array"),
        (
            {"w": np.ones(3), "b": np.ones(1)},
            [{"params": ["b"]}, {"params": ["b"]}],
            ValueError,
            "an array belongs to one group",
        ),
    ],
)
def test_bad_minimize_options(x0, groups, error, pattern):
    def fun(x):
        return 0.0, {k: np.zeros_like(v) for k, v in x.items()} if isinstance(x, dict) else x

    with pytest.raises(error, match=pattern):
        numopt.minimize(fun, x0, method="adam", jac=True, options={"param_groups": groups})


@pytest.mark.parametrize("method", RULES)
def test_every_transform_together_with_every_rule_resumes_bit_exact(method, tmp_path):
    """param_groups + lookahead + average (+ accumulate with batches) around each rule."""
    options = {
        "learning_rate": 0.01,
        "gtol": 0.0,
        "param_groups": [{"params": ["b"], "learning_rate": 0.02}],
        "lookahead": 3,
        "average": "ema",
        "ema_decay": 0.9,
    }
    if method != "rprop":  # full-batch only
        options.update(batch_size=6, accumulate=2, epochs=3, seed=1)
    else:
        options["maxiter"] = 9
    x0, fun = {"w": np.zeros(3), "b": np.zeros(1)}, linear
    if method in MATRIX_RULES:  # Muon: w as a 3×1 matrix, b as a 1×1 one
        x0, fun = {"w": np.zeros((3, 1)), "b": np.zeros((1, 1))}, as_matrix_model
    whole = numopt.minimize(fun, x0, args=(X, Y), jac=True, method=method, options=options)
    assert whole.nit == 9 and whole.compiled is False
    path = tmp_path / "run.npz"
    numopt.minimize(
        fun,
        x0,
        args=(X, Y),
        jac=True,
        method=method,
        options={**options, "maxiter": 4, "checkpoint": path},
    )
    resumed = numopt.minimize(
        fun, x0, args=(X, Y), jac=True, method=method, options={**options, "resume": path}
    )
    for k in x0:
        np.testing.assert_array_equal(resumed.x[k], whole.x[k])
        np.testing.assert_array_equal(resumed.x_average[k], whole.x_average[k])
    changed = {
        **options,
        "param_groups": [{"params": ["b"], "learning_rate": 0.03}],
        "resume": path,
    }
    with pytest.raises(ValueError, match="checkpoint was made with transforms"):
        numopt.minimize(fun, x0, args=(X, Y), jac=True, method=method, options=changed)


def test_a_stateful_method_object_keeps_working_with_groups():
    opt = numopt.Adam(0.1)
    res = numopt.minimize(
        linear,
        {"w": np.zeros(3), "b": np.zeros(1)},
        args=(X, Y),
        jac=True,
        method=opt,
        options={"maxiter": 5, "param_groups": [{"params": ["b"], "learning_rate": 0.2}]},
    )
    assert res.nit == 5 and opt.step_count == 0  # the object is the template, copied per group
    opt.step(np.zeros(1), np.ones(1))
    with pytest.raises(ValueError, match="param_groups needs a method without state"):
        numopt.minimize(
            linear,
            {"w": np.zeros(3), "b": np.zeros(1)},
            args=(X, Y),
            jac=True,
            method=opt,
            options={"param_groups": [{"params": ["b"]}]},
        )


def test_clip_norm_is_refused_clip_value_is_per_group():
    with pytest.raises(ValueError, match="takes an optimizer without clip_norm"):
        numopt.ParamGroups(numopt.Adam(clip_norm=1.0), [{"params": ["b"]}])
    with pytest.raises(ValueError, match=r"sets \['clip_norm'\].*clip_norm is global"):
        numopt.ParamGroups(numopt.Adam(), [{"params": ["b"], "clip_norm": 1.0}])
    opt = numopt.ParamGroups(numopt.SGD(1.0), [{"params": ["b"], "clip_value": 0.5}])
    p = {"w": np.zeros(2), "b": np.zeros(2)}
    opt.step(p, {"w": np.array([2.0, -0.1]), "b": np.array([2.0, -0.1])})
    np.testing.assert_array_equal(p["w"], [-2.0, 0.1])
    np.testing.assert_array_equal(p["b"], [-0.5, 0.1])


@pytest.mark.skipif("lamb" not in numopt.RULES, reason="no LAMB rule")
def test_lamb_keeps_one_layer_per_array_in_groups():
    rng = np.random.default_rng(6)
    x0 = {k: rng.standard_normal(n) for k, n in (("a", 3), ("b", 2), ("c", 4))}
    targets = {k: rng.standard_normal(v.shape) for k, v in x0.items()}

    def fun(p):
        return 0.0, {k: p[k] - targets[k] for k in p}

    options = {"learning_rate": 0.05, "maxiter": 6, "gtol": 0.0}
    plain = numopt.minimize(fun, x0, jac=True, method="lamb", options=options)
    # a and b are neighbours in one group: one optimizer, still two layers
    grouped = numopt.minimize(
        fun,
        x0,
        jac=True,
        method="lamb",
        options={**options, "param_groups": [{"params": ["a", "b"]}]},
    )
    for k in x0:
        np.testing.assert_array_equal(grouped.x[k], plain.x[k])
    with pytest.raises(ValueError, match="are not x's arrays: with ParamGroups each array"):
        numopt.ParamGroups(numopt.Lamb(layers=[1, 2]), [{"params": ["a"]}]).step(
            {"a": np.ones(3)}, {"a": np.ones(3)}
        )


def test_a_param_groups_object_as_method():
    groups = [{"params": ["b"], "learning_rate": 0.2}]
    x0 = {"w": np.zeros(3), "b": np.zeros(1)}
    options = {"maxiter": 5, "gtol": 0.0}
    res = numopt.minimize(
        linear,
        x0,
        args=(X, Y),
        jac=True,
        method=numopt.ParamGroups(numopt.Adam(0.1), groups),
        options=options,
    )
    want = numopt.minimize(
        linear,
        x0,
        args=(X, Y),
        jac=True,
        method="adam",
        options={**options, "learning_rate": 0.1, "param_groups": groups},
    )
    for k in x0:
        np.testing.assert_array_equal(res.x[k], want.x[k])
    with pytest.raises(ValueError, match="method is a ParamGroups: it needs x0 as a dict"):
        numopt.minimize(
            linear,
            np.zeros(3),
            args=(X, Y),
            jac=True,
            method=numopt.ParamGroups(numopt.Adam(0.1), groups),
        )
    with pytest.raises(ValueError, match="already a ParamGroups"):
        numopt.minimize(
            linear,
            x0,
            args=(X, Y),
            jac=True,
            method=numopt.ParamGroups(numopt.Adam(0.1), groups),
            options={"param_groups": groups},
        )


# -- a group with its own optimizer (Muon for matrices, AdamW for the rest) -------------------
def test_a_group_with_its_own_optimizer_equals_two_optimizers_by_hand():
    rng = np.random.default_rng(5)
    shapes = {"w1": (4, 3), "b1": (3,), "w2": (3, 2), "b2": (2,)}
    params = {k: rng.standard_normal(s) for k, s in shapes.items()}
    mine = {k: v.copy() for k, v in params.items()}
    opt = numopt.ParamGroups(
        numopt.Muon(learning_rate=0.02),
        [{"params": ["b1", "b2"], "optimizer": numopt.AdamW(learning_rate=3e-3), "beta1": 0.8}],
    )
    muon = numopt.Muon(learning_rate=0.02)
    adamw = numopt.AdamW(learning_rate=3e-3, beta1=0.8)
    for _ in range(5):
        grads = {k: rng.standard_normal(s) for k, s in shapes.items()}
        opt.step(params, grads)
        muon.step([mine["w1"], mine["w2"]], [grads["w1"], grads["w2"]])
        adamw.step([mine["b1"], mine["b2"]], [grads["b1"], grads["b2"]])
    for k in shapes:
        np.testing.assert_array_equal(params[k], mine[k])
    # the defaults' changes leave the group with its own optimizer alone
    opt.learning_rate = 0.5
    assert [u.opt.learning_rate for u in opt._units] == [0.5, 3e-3, 0.5, 3e-3]
    assert opt.param_groups[0]["optimizer"].name == "adamw"


@pytest.mark.parametrize(
    ("group", "error", "pattern"),
    [
        ({"params": ["b"], "optimizer": "adamw"}, TypeError, r"param_groups\[0\]\['optimizer'\]"),
        ({"params": ["b"], "optimizer": numopt.AdamW(clip_norm=1.0)}, ValueError, "clip_norm"),
        ({"params": ["b"], "optimizer": numopt.AdamW(), "beta": 0.5}, ValueError, "'adamw'"),
        ({"params": ["b"], "optimizer": numopt.AdamW(), "beta1": 1.5}, ValueError, "beta1"),
    ],
)
def test_a_bad_group_optimizer_is_named(group, error, pattern):
    with pytest.raises(error, match=pattern):
        numopt.ParamGroups(numopt.Muon(), [group])


def test_a_used_group_optimizer_is_refused():
    used = numopt.AdamW()
    used.step(np.zeros(2), np.ones(2))
    with pytest.raises(ValueError, match="must be fresh"):
        numopt.ParamGroups(numopt.Muon(), [{"params": ["b"], "optimizer": used}])
