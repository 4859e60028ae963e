"""Every option of minimize is declared once; its documentation is generated from there."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pytest

import numopt
from numopt.front import options

ROOT = Path(__file__).resolve().parents[2]


def test_the_docs_page_is_the_generated_one():
    assert (ROOT / "docs" / "options.md").read_text() == options.page(), (
        "docs/options.md is stale: python -m numopt.front.options > docs/options.md"
    )


def test_minimize_documents_every_option():
    doc = numopt.minimize.__doc__
    for option in options.OPTIONS:
        assert f"``{option.name}``" in doc, option.name
    assert "{options}" not in doc


def test_every_option_is_accepted_and_nothing_else():
    names = {o.name for o in options.OPTIONS}
    assert len(names) == len(options.OPTIONS)
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['no_such_option'\]"):
        numopt.minimize(
            lambda x: float(x @ x), np.ones(2), method="adam", options={"no_such_option": 1}
        )


def test_every_rule_documents_every_hyperparameter():
    for cls in set(numopt.RULES.values()):
        doc = inspect.getdoc(cls)
        params = inspect.signature(cls).parameters
        for name in params:
            assert f"\n{name} : " in "\n" + doc, (cls.__name__, name)
