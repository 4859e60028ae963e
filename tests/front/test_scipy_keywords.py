"""SciPy's keywords and other libraries' names (issue 20, item 4).

``minimize`` and ``minimize_many`` take SciPy's whole signature: a Hessian is ignored
with SciPy's own ``RuntimeWarning``, general constraints are an error that says what
to use instead.  A misspelt option, constructor keyword or method name is still an
error, now with the name meant (``lr`` → ``learning_rate``, ``"Adam "`` → ``"adam"``).
"""

from __future__ import annotations

import inspect
import re
import warnings

import numpy as np
import pytest
import scipy.optimize
from scipy.optimize import LinearConstraint, rosen, rosen_der, rosen_hess, rosen_hess_prod

import numopt
import numopt.methods
from numopt import _spelling
from numopt.rules import RULES

X0 = np.array([-1.2, 1.0])
SCIPY_ORDER = [
    "fun", "x0", "args", "method", "jac", "hess", "hessp", "bounds", "constraints", "tol",
    "callback", "options",
]  # fmt: skip
CONSTRAINT = {"type": "ineq", "fun": lambda x: 1.0 - x[0]}
CONSTRAINTS_ERROR = (
    r"Method {} cannot handle constraints: numopt's methods take box bounds only, "
    r"lo <= x <= hi, given as bounds= .*scipy.optimize.minimize with "
    r"method='trust-constr' or 'SLSQP'"
)


def adam(**kwargs):
    base = {"jac": rosen_der, "method": "adam", "options": {"maxiter": 5}}
    return numopt.minimize(rosen, X0, **{**base, **kwargs})


def many(**kwargs):
    base = {"jac": rosen_der, "options": {"maxiter": 5}}
    return numopt.minimize_many(rosen, np.tile(X0, (3, 1)), **{**base, **kwargs})


def scipy_warning(method, **kwargs):
    """The message SciPy's own minimize warns with for ``method`` (a gradient method)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scipy.optimize.minimize(rosen, X0, jac=rosen_der, method=method, **kwargs)
    (w,) = [w for w in caught if "does not use" in str(w.message)]
    return w.category, str(w.message)


# -- the signature ----------------------------------------------------------------------
def test_minimize_takes_scipys_signature_in_scipys_order():
    for function in (numopt.minimize, numopt.minimize_many):
        params = inspect.signature(function).parameters
        assert list(params)[: len(SCIPY_ORDER)] == SCIPY_ORDER
        scipy_params = inspect.signature(scipy.optimize.minimize).parameters
        for name in SCIPY_ORDER[2:]:
            assert params[name].default == scipy_params[name].default, name
    assert inspect.signature(numopt.minimize_many).parameters["problem_args"].kind == (
        inspect.Parameter.KEYWORD_ONLY
    )


def test_a_positional_scipy_call_runs():
    seen = []
    args = (rosen, X0, (), "adam", rosen_der, None, None, [(-2, 2), (-2, 2)], (), 1e-3)
    res = numopt.minimize(*args, seen.append, {"maxiter": 7})
    assert res.nit == 7 and len(seen) == 7
    ref = numopt.minimize(rosen, X0, method="adam", jac=rosen_der, bounds=[(-2, 2)] * 2,
                          tol=1e-3, options={"maxiter": 7})  # fmt: skip
    np.testing.assert_array_equal(res.x, ref.x)


# -- hess and hessp: SciPy's warning, word for word, and ignored --------------------------
@pytest.mark.parametrize(
    ("keyword", "value", "what"),
    [
        ("hess", rosen_hess, "Hessian information (hess)"),
        ("hessp", rosen_hess_prod, "Hessian-vector product information (hessp)"),
    ],
)
def test_a_hessian_warns_as_scipy_does_and_is_ignored(keyword, value, what):
    category, message = scipy_warning("CG", **{keyword: value})
    assert category is RuntimeWarning
    assert message == f"Method CG does not use {what}."
    with pytest.warns(RuntimeWarning) as record:
        res = adam(**{keyword: value})
    assert [str(w.message) for w in record] == [message.replace("CG", "adam")]
    assert record[0].filename == __file__  # points at the caller, as SciPy's does
    np.testing.assert_array_equal(res.x, adam().x)


def test_the_warning_names_the_method_run():
    with pytest.warns(RuntimeWarning, match=r"^Method l-bfgs-b does not use Hessian"):
        numopt.minimize(rosen, X0, jac=rosen_der, hess=rosen_hess)  # the default method
    with pytest.warns(RuntimeWarning, match=r"^Method l-bfgs-b does not use Hessian"):
        numopt.minimize(rosen, X0, jac=rosen_der, method="L-BFGS-B", hess=rosen_hess)
    with pytest.warns(RuntimeWarning, match=r"^Method Adam does not use Hessian-vector"):
        adam(method=numopt.Adam(), hessp=rosen_hess_prod)


def test_no_hessian_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        adam(hess=None, hessp=None)


# -- constraints: an error naming what to use ---------------------------------------------
@pytest.mark.parametrize(
    "constraints",
    [CONSTRAINT, [CONSTRAINT], (CONSTRAINT,), LinearConstraint([[1.0, 0.0]], -1, 1)],
    ids=["dict", "list", "tuple", "LinearConstraint"],
)
def test_constraints_are_refused_with_the_alternatives(constraints):
    with pytest.raises(ValueError, match=CONSTRAINTS_ERROR.format("adam")):
        adam(constraints=constraints)
    with pytest.raises(ValueError, match=CONSTRAINTS_ERROR.format("l-bfgs-b")):
        many(constraints=constraints)


@pytest.mark.parametrize("empty", [(), [], None, {}], ids=repr)
def test_empty_constraints_are_no_constraints(empty):
    assert adam(constraints=empty).nit == 5
    assert (many(constraints=empty).nit > 0).all()


def test_minimize_many_warns_for_a_hessian():
    with pytest.warns(RuntimeWarning, match=r"^Method adam does not use Hessian information"):
        many(method="adam", hess=rosen_hess)


def test_the_scipy_callables_answer_alike():
    """``scipy.optimize.minimize(method=numopt.methods.adam)``: SciPy checks nothing for a
    callable method and hands everything on; numopt answers as above."""
    kwargs = {"jac": rosen_der, "method": numopt.methods.adam, "options": {"maxiter": 5}}
    with pytest.warns(RuntimeWarning, match=r"^Method adam does not use Hessian information"):
        scipy.optimize.minimize(rosen, X0, hess=rosen_hess, **kwargs)
    with pytest.raises(ValueError, match=CONSTRAINTS_ERROR.format("adam")):
        scipy.optimize.minimize(rosen, X0, constraints=[CONSTRAINT], **kwargs)


# -- options: the name meant --------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "given", "meant"),
    [
        ("adam", "lr", "learning_rate"),  # torch.optim
        ("adam", "max_iter", "maxiter"),  # torch's LBFGS, scikit-learn
        ("adam", "max_eval", "maxfev"),
        ("adam", "tolerance_grad", "gtol"),
        ("adam", "tolerance_change", "ftol"),
        ("adam", "b1", "beta1"),  # optax
        ("adam", "epsilon", "eps"),  # Keras
        ("adam", "learnin_rate", "learning_rate"),  # a typo: difflib
        ("adam", "Max_Iter", "maxiter"),  # case and underscores
        ("adam", "batchsize", "batch_size"),
        ("momentum", "momentum", "beta"),  # torch's SGD(momentum=...)
        ("l-bfgs-b", "history_size", "maxcor"),  # torch's LBFGS
        ("l-bfgs-b", "memory_size", "maxcor"),  # optax.lbfgs
        ("l-bfgs-b", "max_iter", "maxiter"),
        ("l-bfgs-b", "iprint", "disp"),  # SciPy's L-BFGS-B
        ("rmsprop", "alpha", "beta"),  # torch's RMSprop(alpha=...)
    ],
)
def test_an_unknown_option_names_the_one_meant(method, given, meant):
    pattern = (
        rf"^unknown option\(s\) \['{given}'\] for method '{method}' \(did you mean "
        rf"'{meant}'\?\); valid options: \["
    )
    options = {given: 1}
    with pytest.raises(ValueError, match=pattern):
        numopt.minimize(rosen, X0, jac=rosen_der, method=method, options=options)
    with pytest.raises(ValueError, match=pattern):
        numopt.minimize_many(rosen, np.tile(X0, (2, 1)), method=method, options=options)


def test_betas_names_beta1_and_beta2_with_their_values():
    with pytest.raises(
        ValueError,
        match=r"\['betas'\] for method 'adam' \(did you mean 'beta1': 0\.9, 'beta2': 0\.99 "
        r"for 'betas'\?\); valid options",
    ):
        adam(options={"betas": (0.9, 0.99)})


def test_several_unknown_options_each_get_theirs():
    with pytest.raises(
        ValueError,
        match=r"\['lr', 'max_iter', 'zzz'\] for method 'adam' \(did you mean 'learning_rate' "
        r"for 'lr'; 'maxiter' for 'max_iter'\?\); valid",
    ):
        adam(options={"max_iter": 5, "zzz": 1, "lr": 0.1})


def test_no_suggestion_where_none_is_valid():
    # learning_rate is no option of L-BFGS-B: nothing is suggested that would fail too
    with pytest.raises(ValueError, match=r"^unknown option\(s\) \['lr'\] for method 'l-bfgs-b'; "):
        numopt.minimize(rosen, X0, jac=rosen_der, method="l-bfgs-b", options={"lr": 0.1})
    with pytest.raises(ValueError, match=r"^unknown option\(s\) \['zzz'\] for method 'adam'; "):
        adam(options={"zzz": 1})


def test_an_optimizer_object_gets_the_loops_names_only():
    with pytest.raises(
        ValueError,
        match=r"\['max_iter'\] for an optimizer object \(set hyperparameters on the object "
        r"itself\) \(did you mean 'maxiter'\?\); valid options",
    ):
        adam(method=numopt.Adam(), options={"max_iter": 5})


# -- constructor keywords -----------------------------------------------------------------
def test_a_constructor_names_the_keyword_meant():
    with pytest.raises(
        TypeError,
        match=r"^Adam\(\) got an unexpected keyword argument 'lr' \(did you mean "
        r"learning_rate=0\.1\?\); its keywords are \['learning_rate', 'beta1', 'beta2', ",
    ):
        numopt.Adam(lr=0.1)
    with pytest.raises(
        TypeError,
        match=r"^AdamW\(\) got an unexpected keyword argument 'betas' \(did you mean "
        r"beta1=0\.9, beta2=0\.95 for betas=\(0\.9, 0\.95\)\?\); its keywords",
    ):
        numopt.AdamW(betas=(0.9, 0.95))
    with pytest.raises(
        TypeError,
        match=r"^Adam\(\) got unexpected keyword arguments \['lr', 'weight_dacay'\] \(did you "
        r"mean learning_rate=0\.1 for lr; weight_decay=0\.01 for weight_dacay\?\)",
    ):
        numopt.Adam(lr=0.1, weight_dacay=0.01)
    with pytest.raises(TypeError, match=r"^Momentum\(\) .* \(did you mean beta=0\.9\?\)"):
        numopt.Momentum(momentum=0.9)
    with pytest.raises(TypeError, match=r"^RMSprop\(\) .* \(did you mean beta=0\.99\?\)"):
        numopt.RMSprop(alpha=0.99)  # torch's name; ASGD and AdEMAMix have an alpha of their own
    assert numopt.ASGD(alpha=0.5).alpha == 0.5
    with pytest.raises(TypeError, match=r"^GD\(\) got an unexpected keyword argument 'zzz'; its"):
        numopt.GD(zzz=1)


@pytest.mark.parametrize("cls", sorted(set(RULES.values()), key=lambda c: c.__name__))
def test_every_rule_answers_lr(cls):
    with pytest.raises(TypeError, match=rf"^{cls.__name__}\(\) .*learning_rate=0\.1\?"):
        cls(lr=0.1)


def test_the_constructor_otherwise_binds_as_before():
    assert numopt.Adam(0.1).learning_rate == 0.1
    assert numopt.Adam(learning_rate=0.1, beta1=0.8).beta1 == 0.8
    with pytest.raises(TypeError, match="too many positional arguments"):
        numopt.Adam(0.1, 0.9)


def test_setting_a_misspelt_hyperparameter_names_the_one_meant():
    with pytest.raises(AttributeError, match=r"no hyperparameter 'lr' \(did you mean "
                       r"'learning_rate'\?\); its hyperparameters"):  # fmt: skip
        numopt.Adam().lr = 0.1


# -- method names -------------------------------------------------------------------------
def test_scipy_lower_cases_method_names_but_strips_nothing():
    """What the choices below follow: SciPy's ``method.lower()``, no ``strip()``."""
    scipy.optimize.minimize(rosen, X0, jac=rosen_der, method="cg", options={"maxiter": 2})
    with pytest.raises(ValueError, match="Unknown solver CG "):
        scipy.optimize.minimize(rosen, X0, jac=rosen_der, method="CG ")


@pytest.mark.parametrize(
    ("given", "meant"),
    [
        ("Adam ", "adam"),
        (" adam", "adam"),
        ("adam_w", "adamw"),
        ("rms-prop", "rmsprop"),
        ("L-BFGS-B\n", "l-bfgs-b"),
        ("bfgs", "l-bfgs-b"),  # SciPy's BFGS: numopt's quasi-Newton method is L-BFGS-B
        ("l-bfgs-c", "l-bfgs-b"),
        ("nadm", "nadam"),
    ],
)
def test_an_unknown_method_names_the_one_meant(given, meant):
    pattern = rf"^unknown method {re.escape(repr(given))} \(did you mean '{meant}'\?\); valid"
    with pytest.raises(ValueError, match=pattern):
        adam(method=given)
    with pytest.raises(ValueError, match=pattern):
        many(method=given)


def test_method_names_are_case_insensitive_and_unknown_ones_suggest_nothing_far():
    assert adam(method="ADAM").nit == 5
    with pytest.raises(ValueError, match=r"^unknown method 'newton-cg'; valid methods"):
        adam(method="newton-cg")


# -- the one table ------------------------------------------------------------------------
def test_every_alias_targets_names_that_exist():
    names = {name for cls in RULES.values() for name in cls.option_names()}
    names |= set(numopt.front.options.BY_NAME) | set(numopt.LBFGS.option_names())
    for alias, targets in _spelling.ALIASES.items():
        assert set(targets) <= names, alias
    # an alias is a real name only where another rule has it (RMSprop's momentum, ASGD's
    # alpha): it is suggested only where it is unknown
    assert {alias for alias in _spelling.ALIASES if alias in names} == {"momentum", "alpha"}
