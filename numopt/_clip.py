"""Gradient clipping, fused into every rule's step: ``clip_value`` and ``clip_norm``.

Every optimizer takes two hyperparameters besides its rule's own (the base class
adds them to each rule's constructor, see :func:`add_constructor_arguments`):

``clip_value = v``
    Each entry of the gradient clamped to ``[-v, v]`` (``torch.nn.utils.
    clip_grad_value_``, optax ``clip``; a NaN stays NaN).
``clip_norm = c``
    The gradient scaled by ``min(1, c/‖g‖)``, ``‖g‖`` the Euclidean norm of the
    whole gradient (optax ``clip_by_global_norm``; for a list/dict ``x0`` in
    ``minimize`` the norm spans all its arrays, which share one flat buffer).
    ``‖g‖ = 0`` gives 1, ``inf`` gives 0, NaN gives NaN.

Both: the entries are clamped first, then scaled by the norm of the clamped
gradient (optax ``chain(clip(v), clip_by_global_norm(c))``).  ``maximize`` negates
afterwards (the norm does not care).

Neither modifies the caller's gradient, and neither adds a pass that writes
memory.  Every rule's element body reads the gradient as ``g[i] * c[-1]``, so

* ``clip_norm`` costs one read pass over ``g`` for ``‖g‖``
  (:func:`numopt.backends.reduce.sum_squares`: fixed-order, the same bits for any
  thread count), and nothing in the update: ``c[-1]``, the sign, becomes
  ``sign · min(1, c/‖g‖)`` (cast to ``g``'s dtype: the scaled entry is
  ``g_i · fl(scale)``, one rounding);
* ``clip_value`` costs nothing extra: the body is compiled in a variant that reads
  ``clamp(g[i], c[-2])`` wherever the rule reads ``g[i]``
  (:func:`clip_value_body` derives it from the rule's own source), with the bound
  inserted before the sign in ``c``.

The NumPy reference (``backend="numpy"``) clamps and scales a copy of ``g`` the same
way (:func:`reference_gradient`) and hands it to the rule's reference.
"""

from __future__ import annotations

import ast
import functools
import inspect
import linecache
import math
import textwrap
from collections.abc import Callable
from typing import Any

import numpy as np

from numopt import _checks

#: The clipping hyperparameters every optimizer takes.
NAMES = ("clip_norm", "clip_value")


def checked(name: str, value: Any) -> float | None:
    """``None`` (off) or a finite number > 0."""
    return _checks.optional_positive(name, value)


def active(hp: dict) -> bool:
    """Whether either clipping is on in the hyperparameters ``hp``."""
    return hp.get("clip_norm") is not None or hp.get("clip_value") is not None


def scale(clip_norm: float, norm: float) -> float:
    """``min(1, clip_norm / norm)``: 1 for a zero norm, 0 for an infinite one, NaN for NaN.

    Examples
    --------
    >>> scale(1.0, 4.0), scale(1.0, 0.5), scale(1.0, 0.0), scale(1.0, math.inf)
    (0.25, 1.0, 1.0, 0.0)
    """
    if math.isnan(norm):
        return math.nan
    if norm <= clip_norm:
        return 1.0
    return clip_norm / norm


def gradient_norm(g: Any, backend: str, bound: float = math.inf) -> float:
    """``‖clip(g, -bound, bound)‖`` of a flat gradient, in the fixed order, by ``backend``."""
    if backend == "cuda":
        from numopt.backends import cuda_reduce

        return math.sqrt(cuda_reduce.sum_squares(g, bound))
    from numopt.backends import reduce

    if backend == "numpy":
        dt = g.dtype.type
        clipped = g if bound == math.inf else np.clip(g, dt(-bound), dt(bound))
        return math.sqrt(reduce.sum_squares_numpy(clipped)[0])
    return math.sqrt(reduce.sum_squares(g, bound=bound, parallel=backend == "parallel"))


def kernel_factors(factors: tuple, hp: dict, g: Any, backend: str) -> tuple:
    """The body's factors with clipping: ``(*rule, [clip_value,] sign · scale)``.

    ``factors`` ends with the sign (``Optimizer._kernel_factors``); the gradient
    ``g`` is read once for its norm when ``clip_norm`` is set.
    """
    *rule, sign = factors
    bound = hp.get("clip_value")
    clip_norm = hp.get("clip_norm")
    if clip_norm is not None:
        norm = gradient_norm(g, backend, math.inf if bound is None else bound)
        sign = sign * scale(clip_norm, norm)
    if bound is not None:
        return (*rule, bound, sign)
    return (*rule, sign)


def reference_gradient(g: np.ndarray, hp: dict) -> np.ndarray:
    """The clipped gradient (a copy; ``g`` itself if no clipping) for the NumPy reference.

    Bit for bit what the kernels use: ``clamp`` in ``g``'s dtype, then ``g · fl(scale)``.

    Examples
    --------
    >>> g = np.array([3.0, -4.0, 100.0])
    >>> reference_gradient(g, {"clip_value": 4.0, "clip_norm": 1.0}) * np.sqrt(41.0)
    array([ 3., -4.,  4.])
    """
    dt = g.dtype.type
    bound = hp.get("clip_value")
    if bound is not None:
        g = np.clip(g, dt(-bound), dt(bound))
    clip_norm = hp.get("clip_norm")
    if clip_norm is not None:
        g = g * dt(scale(clip_norm, gradient_norm(g, "numpy")))
    return g


def kernel_body(body: Callable, hp: dict) -> Callable:
    """``body``, or its ``clip_value`` variant when ``clip_value`` is set."""
    return body if hp.get("clip_value") is None else clip_value_body(body)


# -- the clip_value variant of an element body ---------------------------------------------
_BOUND = "_numopt_bound"


class _GradientReads(ast.NodeTransformer):
    """Replace each read ``g[k]`` of one statement by a temporary ``_numopt_g<n>``.

    Collects ``(temporary, subscript)`` pairs in order (the same subscript once).
    Every other use of ``g`` (a write, passing ``g`` on) is refused: the variant could
    not guarantee that the rule sees only clamped entries.  So are reads of ``c``
    counted from the end other than ``c[-1]``: ``c[-2]`` becomes the bound.
    """

    def __init__(self, g: str, c: str, first: int) -> None:
        self.g, self.c = g, c
        self.reads: dict[str, tuple[str, ast.Subscript]] = {}
        self.first = first

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        if isinstance(node.value, ast.Name) and node.value.id == self.g:
            if not isinstance(node.ctx, ast.Load):
                raise TypeError(f"the body writes {self.g}[...]")
            key = ast.dump(node.slice)
            if key not in self.reads:
                self.reads[key] = (f"_numopt_g{self.first + len(self.reads)}", node)
            return ast.Name(self.reads[key][0], ast.Load())
        index = node.slice
        if (
            isinstance(node.value, ast.Name)
            and node.value.id == self.c
            and isinstance(index, ast.UnaryOp)
            and isinstance(index.op, ast.USub)
            and not (isinstance(index.operand, ast.Constant) and index.operand.value == 1)
        ):
            raise TypeError(
                f"the body reads {ast.unparse(node)} (only c[-1] may count from the end)"
            )
        return self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id == self.g:
            raise TypeError(f"the body uses {self.g} other than as {self.g}[...]")
        return node


def _clamped_reads(statements: list[ast.stmt], g: str, c: str, counter: list[int]) -> list:
    """``statements`` with every ``g[k]`` read first into a clamped temporary.

    Before each statement that reads ``g``: ``t = g[k]`` and
    ``t = b if t > b else (-b if t < -b else t)`` (``b`` the bound; a NaN stays NaN),
    then the statement reads ``t``.  One load per entry, in a local: the loop
    vectorises (an inline conditional expression reading ``g[k]`` three times did
    not: 13× slower).
    """
    out: list[ast.stmt] = []
    for stmt in statements:
        header: list[ast.AST] = []
        if isinstance(stmt, (ast.If, ast.For)):  # recurse; hoist the header's reads
            for field in ("body", "orelse"):
                setattr(stmt, field, _clamped_reads(getattr(stmt, field), g, c, counter))
            header = [stmt.test] if isinstance(stmt, ast.If) else [stmt.iter]
        elif isinstance(stmt, (ast.While, ast.With, ast.Try, ast.FunctionDef, ast.ClassDef)):
            if any(isinstance(n, ast.Name) and n.id == g for n in ast.walk(stmt)):
                raise TypeError(f"the body reads {g} inside a {type(stmt).__name__.lower()}")
            out.append(stmt)
            continue
        reads = _GradientReads(g, c, counter[0])
        if header:
            new = [reads.visit(node) for node in header]
            if isinstance(stmt, ast.If):
                stmt.test = new[0]
            else:
                stmt.iter = new[0]
        else:
            stmt = reads.visit(stmt)
        counter[0] += len(reads.reads)
        bound = ast.Name(_BOUND, ast.Load())
        for name, read in reads.reads.values():
            t = ast.Name(name, ast.Load())
            out.append(ast.Assign([ast.Name(name, ast.Store())], read))
            clamp = ast.IfExp(
                ast.Compare(t, [ast.Gt()], [bound]),
                bound,
                ast.IfExp(
                    ast.Compare(t, [ast.Lt()], [ast.UnaryOp(ast.USub(), bound)]),
                    ast.UnaryOp(ast.USub(), bound),
                    t,
                ),
            )
            out.append(ast.Assign([ast.Name(name, ast.Store())], clamp))
        out.append(stmt)
    return out


@functools.cache
def clip_value_body(body: Callable) -> Callable:
    """The variant of the element body ``body`` that reads the gradient clamped.

    ``body(i, theta, g, state, c)`` reads ``g[i]``; the variant reads
    ``clamp(g[i], c[-2])`` instead (``c[-2] = clip_value``, inserted before the
    sign), and is otherwise the same source, compiled in the body's module
    namespace.  Its source is registered with :mod:`linecache` so that the loops'
    cache tags (:func:`numopt.backends._specialise.source_digest`) follow edits of
    the rule.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.rules.gd import body
    >>> theta, g = np.zeros(2), np.array([5.0, -0.5])
    >>> c = (1.0, 0.0, 2.0, 1.0)  # η, λ, clip_value, sign
    >>> clip_value_body(body)(0, theta, g, None, c); clip_value_body(body)(1, theta, g, None, c)
    >>> theta
    array([-2. ,  0.5])
    """
    source = textwrap.dedent(inspect.getsource(body))
    tree = ast.parse(source)
    fn = tree.body[0]
    if not isinstance(fn, ast.FunctionDef) or len(fn.args.args) < 5:
        raise TypeError(f"{body.__qualname__} is not an element body(i, theta, g, state, c)")
    names = [a.arg for a in fn.args.args]
    g, c = names[2], names[4]
    statements = fn.body
    doc = statements[:1] if statements and isinstance(statements[0], ast.Expr) else []
    try:
        rest = _clamped_reads(statements[len(doc) :], g, c, [0])
    except TypeError as exc:
        raise TypeError(f"clip_value cannot be fused into {body.__qualname__}: {exc}") from None
    bound = ast.parse(f"{_BOUND} = {c}[-2]").body
    fn.body = [*doc, *bound, *rest]
    fn.name = f"{body.__name__}_clip_value"
    fn.decorator_list = []
    ast.fix_missing_locations(tree)
    text = ast.unparse(tree) + "\n"
    filename = f"<numopt clip_value variant of {body.__module__}.{body.__qualname__}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    namespace: dict[str, Any] = {}
    exec(compile(text, filename, "exec"), body.__globals__, namespace)
    variant = namespace[fn.name]
    variant.__module__ = body.__module__
    variant.__qualname__ = fn.name
    return variant


# -- every rule's constructor takes them ----------------------------------------------------
def add_constructor_arguments(cls: type) -> None:
    """Give ``cls.__init__`` the keyword arguments ``clip_norm`` and ``clip_value``.

    Called for every subclass of :class:`numopt.Optimizer` (``__init_subclass__``):
    the rule's own ``__init__`` runs, then the two are checked and stored among its
    hyperparameters.  Its signature shows them (``minimize`` reads it to know a
    rule's options), before ``backend``.  A class whose ``__init__`` names them
    itself is left alone.
    """
    init = cls.__dict__.get("__init__")
    if init is None or getattr(init, "_takes_clipping", False):
        return
    signature = inspect.signature(init)
    if any(name in signature.parameters for name in NAMES):
        return

    @functools.wraps(init)
    def __init__(self, *args: Any, clip_norm: Any = None, clip_value: Any = None, **kwargs: Any):
        init(self, *args, **kwargs)
        hp = self._hyperparameters
        hp["clip_norm"] = checked("clip_norm", clip_norm)
        hp["clip_value"] = checked("clip_value", clip_value)

    params = list(signature.parameters.values())
    extra = [
        inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation="float | None"
        )
        for name in NAMES
    ]
    at = next(
        (
            k
            for k, p in enumerate(params)
            if p.name == "backend" or p.kind == inspect.Parameter.VAR_KEYWORD
        ),
        len(params),
    )
    __init__.__signature__ = signature.replace(parameters=[*params[:at], *extra, *params[at:]])
    __init__._takes_clipping = True
    cls.__init__ = __init__
