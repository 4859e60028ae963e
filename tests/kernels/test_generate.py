"""The kernel generator: every compiled copy is named after everything bound into it."""

from __future__ import annotations

from numopt.kernels.generate import element, specialise


def _template(x):  # pragma: no cover - a template
    return inner(x)  # noqa: F821


def _one(x):
    return x + 1


def _two(x):
    return x + 2


def test_a_copy_is_named_after_what_it_binds_even_when_nested():
    """Two copies that differ only in what a bound copy binds get different names (one
    cache entry each): the digest goes through nested specialisations."""
    a = specialise(_template, "k", inner=_one)
    b = specialise(_template, "k", inner=_two)
    assert a.__qualname__ != b.__qualname__
    outer_a = specialise(_template, "outer", inner=a)
    outer_b = specialise(_template, "outer", inner=b)
    assert outer_a.__qualname__ != outer_b.__qualname__
    assert outer_a(1) == 2 and outer_b(1) == 3


def test_the_same_binding_gives_the_same_name():
    assert (
        specialise(_template, "k", inner=_one).__qualname__
        == specialise(_template, "k", inner=_one).__qualname__
    )


def test_the_clip_variant_rebinds_only_the_gradient_reader():
    from numopt.kernels import element as readers
    from numopt.rules.gd import body

    clipped = element(body, clip_value=True)
    assert clipped.__code__ is body.__code__
    assert clipped.__globals__["grad"] is readers.clipped_grad
    assert element(body) is body
