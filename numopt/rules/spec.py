"""The rule contract: what one file declares to add an update rule to numopt.

A rule is one :class:`RuleSpec`, given to its stateful class
(``class Adam(Optimizer, spec=SPEC)``), which builds the constructor, the
docstring's Parameters section, validation, state, ``state_dict`` and every backend
from it (:class:`numopt.Optimizer`).  The spec holds:

* ``hyperparameters`` — one :class:`Hyper` each: name, default, check, documentation
  (``maximize``, ``clip_norm`` and ``clip_value`` are every rule's and are added by
  the framework, :data:`FRAMEWORK_HYPERPARAMETERS`);
* ``state`` — the names of the state arrays, from the hyperparameters;
* ``factors`` — the per-step scalar factors by name (a :func:`factor_layout`), the
  plain function ``factor_fn(t, lr, h)`` that computes them in float64 (written so
  that Numba compiles it too: the compiled loop calls the very same function), and
  ``factor_args(hp)``, the tuple of floats ``h`` it reads;
* ``body`` — the element body for the hyperparameters: ``body(i, theta, g, state,
  c)`` updates element ``i`` in place, reads the gradient as ``grad(i, g, c)``
  (:mod:`numopt.kernels.element`) and the factors as ``c[F.name]``.  It reads every
  array element and factor it needs *before* its first conditional expression, then
  selects between values (``a = state[0, i]; mu = c[F.mu]; v = th if mu == 1.0 else
  a + (th - a) * mu``), with no early return: a read after a branch kept Numba's
  reference counting in the loop, element by element (ASGD, Adan, ADOPT and
  Schedule-Free AdamW ran 3-17x slower at N = 10³ that way);
* ``reference`` — the NumPy reference of one step, readable line by line against
  the rule's formulas (the kernels equal it bit for bit on the CPU);
* optionally ``initial_state`` (state arrays that do not start at zero),
  ``full_batch_only``, and ``passes`` for a rule that is not one element-wise pass
  (LAMB's trust ratio: :class:`numopt.rules.layerwise.TrustRatio`).

Authors never see positions: ``c[F.beta1]`` with ``F = factor_layout("lr", "beta1",
...)``, a constant tuple that Numba folds into the index, so named factors cost
nothing.  The framework appends two slots, ``clip_value`` and ``sign``, read only by
``grad``.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

#: The factors every rule's ``c`` ends with, filled by the framework: the clip_value
#: bound (``inf`` when off) and the gradient's sign (scaled by clip_norm).
FRAMEWORK_FACTORS = ("clip_value", "sign")


def factor_layout(*names: str) -> Any:
    """The named positions of a rule's factors ``c``, framework slots appended.

    Returns a named tuple whose fields are ``names`` and :data:`FRAMEWORK_FACTORS`
    and whose values are their positions: ``c[F.beta1]`` in a body reads the factor
    ``beta1``.  A module-level constant: Numba folds ``F.beta1`` to a literal index.

    Examples
    --------
    >>> F = factor_layout("lr", "weight_decay")
    >>> F.lr, F.weight_decay, F.sign, len(F)
    (0, 1, 3, 4)
    >>> F.rule
    ('lr', 'weight_decay')
    """
    fields = (*names, *FRAMEWORK_FACTORS)
    if len(set(fields)) != len(fields):
        raise ValueError(f"factor names must be distinct and not {FRAMEWORK_FACTORS}: {names}")
    cls = collections.namedtuple("Factors", fields)
    cls.rule = tuple(names)  # the rule's own factors, what factor_fn returns
    return cls(*range(len(fields)))


class Hyper(NamedTuple):
    """One hyperparameter of a rule: declared once, checked and documented from here.

    Attributes
    ----------
    name : str
        The keyword argument (and ``minimize`` option) name.
    default : Any
        Its default value.
    check : callable
        ``check(name, value) -> value`` raises a clear error or returns the value
        normalised (see :mod:`numopt._checks`).
    kind : str
        The type as the documentation writes it (``"float"``, ``"bool"``, ...).
    doc : str
        One paragraph for the rule's Parameters section.
    """

    name: str
    default: Any
    check: Callable[[str, Any], Any]
    kind: str
    doc: str

    def but(self, **changes: Any) -> Hyper:
        """This declaration with some fields changed (a rule's own default or wording)."""
        return self._replace(**changes)

    def documented(self) -> str:
        """The numpydoc entry: ``name : kind, default value`` and the indented paragraph."""
        default = self.default
        shown = "None" if default is None else repr(default)
        lines = [f"{self.name} : {self.kind}, default {shown}"]
        lines += [f"    {line}" if line else "" for line in self.doc.splitlines()]
        return "\n".join(lines)


def always(value: Any) -> Callable[[Mapping[str, Any]], Any]:
    """A choice that does not depend on the hyperparameters (``body=always(body)``)."""

    def choose(hp: Mapping[str, Any]) -> Any:
        return value

    choose.value = value  # the class reads its default state names from here
    return choose


@dataclasses.dataclass(frozen=True)
class RuleSpec:
    """Everything numopt needs to know about an update rule (see the module docstring).

    Attributes
    ----------
    name : str
        The ``method=`` name.
    hyperparameters : tuple of Hyper
        The rule's own, ``learning_rate`` first.
    factors : named tuple
        From :func:`factor_layout`: the names of ``factor_fn``'s values, in order.
    factor_fn : callable or None
        ``factor_fn(t, lr, h) -> tuple`` of float64 factors of step ``t`` (1-based)
        with learning rate ``lr``; Numba-compilable.  ``h`` is a float64 array
        (``np.asarray`` of the optimizer's ``_factor_args()``): entries after the
        hyperparameters may be a memo the function moves on in place (NAdam's
        ``Π_t``, in each caller's own copy) or state (Schedule-Free's weights, in
        the optimizer's own array).  None: the class computes them on the host in
        ``_factors(t, lr)``, and the compiled loop steps aside.
    factor_args : callable
        ``factor_args(hp) -> tuple`` of floats, the ``h`` of ``factor_fn``.
    body : callable
        ``body(hp) -> element body`` for the hyperparameters ``hp``.
    reference : callable
        ``reference(theta, g, *state, t, learning_rate, **hp)``: one step in NumPy.
    state : callable
        ``state(hp) -> tuple`` of the state arrays' names.
    initial_state : callable, optional
        ``initial_state(rows, hp)`` fills the new ``(k, n)`` state (zeros) in place.
    full_batch_only : bool
        True for rules that need the whole gradient (Rprop): ``minimize`` refuses
        ``batch_size`` for them.
    allows_bounds : bool
        False for rules whose state would leave a box that only θ is projected into
        (Schedule-Free's ``z``, which its average is made of): ``opt.bounds`` and
        ``minimize``'s ``bounds`` are refused for them.
    passes : object, optional
        A step that is not one element-wise pass: an object with ``run(opt, pair,
        state, factors, lr, backend, box)`` and ``reference_options(opt, layout)`` (a
        layer-wise rule, :class:`numopt.rules.layerwise.TrustRatio`); or, with
        ``runs_reference = True``, a rule whose NumPy reference is its CPU step
        (Muon's matrix products: :class:`numopt.rules.muon.Matrices`), which may
        also clip its own kind of gradient, ``clipped_gradient(g, hp)`` (SparseAdam's
        rows: :class:`numopt.rules.sparse_adam.Lazy`), and say its state arrays'
        length, ``state_length(opt, layout)``, where it is not x's size (Adafactor's
        factors: :class:`numopt.rules.adafactor.Factored`).
    attributes : tuple of Hyper
        Constructor arguments kept as checked attributes, not hyperparameters (not in
        ``state_dict``): LAMB's ``layers``.
    """

    name: str
    hyperparameters: tuple[Hyper, ...]
    factors: Any
    factor_fn: Callable | None
    factor_args: Callable[[Mapping[str, Any]], tuple]
    body: Callable[[Mapping[str, Any]], Callable]
    reference: Callable
    state: Callable[[Mapping[str, Any]], tuple[str, ...]] = dataclasses.field(
        default_factory=lambda: always(())
    )
    initial_state: Callable | None = None
    full_batch_only: bool = False
    allows_bounds: bool = True
    passes: Any = None
    attributes: tuple[Hyper, ...] = ()

    @property
    def attributes_by_name(self) -> dict[str, Hyper]:
        """:attr:`attributes` by name."""
        return {a.name: a for a in self.attributes}

    @property
    def compilable(self) -> bool:
        """Whether the compiled loop can run this rule (one pass, factors in nopython)."""
        return self.factor_fn is not None and self.passes is None
