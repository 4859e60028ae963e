"""Sphinx configuration of numopt's documentation site.

Build it (after ``pip install -e ".[docs]"``) with::

    .venv/bin/python -m sphinx -W --keep-going -b html docs docs/_build/html

``NUMOPT_DOCS_SMOKE=1`` runs the gallery's examples in their quick ``--smoke`` mode
(as the test suite does); without it they run in full, as their pages show them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(ROOT / "examples"))  # the examples import their shared _cli module
sys.path.insert(0, str(ROOT))

import numopt  # noqa: E402

project = "numopt"
author = "the numopt developers"
copyright = "2026, the numopt developers"
release = numopt.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "numopt_docs",
    "results_table",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "generated/headline.md",  # included by benchmarks.md
    "generated/results-index.md",
]
# A guide's link to a file of the repository (a results table, a module) becomes a
# download of that file; a link to another guide a cross-reference.
myst_heading_anchors = 3
myst_enable_extensions = ["dollarmath", "colon_fence"]
suppress_warnings = ["myst.xref_missing"] if os.environ.get("NUMOPT_DOCS_LAX") else []
# Every cross-reference must resolve (numopt_docs resolves a public object's other
# names, numopt.EMA for numopt.transforms.EMA); numopt's internal modules are named in
# docstrings for readers of the source, and are not part of the reference.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"numopt\.(front|loop|problem|kernels|quasi_newton|rules|many|_checks)(\..*)?"),
    (
        r"py:.*",
        r"numopt\.transforms\.(_\w+|averaging|accumulate|groups|lookahead|sam|options)(\..*)?",
    ),
    # the schedules' own modules, named from their package's docstring
    (r"py:mod", r"base|program|plateau|piecewise|decay|cyclic|composite"),
    # private members, and other libraries (no inventories are fetched: the build is offline)
    (r"py:.*", r"(.*\.)?_\w*"),
    (r"py:.*", r"(math|matplotlib|scipy|numpy|numba|torch|optax|jax)(\..*)?"),
]
# Keep "--small" and quotes as typed (commands are copied from the pages).
smartquotes = False

# The API reference: numpydoc renders the NumPy-style docstrings; autosummary writes
# one page per public name (docs/reference/generated, not committed).
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"  # the docstrings' Parameters sections say the types
autodoc_default_options = {"member-order": "bysource"}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# GL08: a public object without a docstring fails the build.
numpydoc_validation_checks = {"GL08"}
# Each rule's ``declarations`` (its hyperparameters, set when the class is made) is
# described once, on :class:`numopt.Optimizer`.
numpydoc_validation_exclude = {r"\.declarations$"}

# The gallery: every script of examples/ (not the shared _cli.py), run at build time;
# the figures each writes into its --out folder are collected for its page.
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/[a-z][a-z0-9_]*\.py$",
    "ignore_pattern": r"(__init__|_cli)\.py$",
    "reset_argv": "numopt_docs.example_argv",
    "image_scrapers": ("matplotlib", "numopt_docs.written_figures"),
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "min_reported_time": 1,
    "within_subsection_order": "FileNameSortKey",
    "copyfile_regex": "",
    "show_memory": False,
    "plot_gallery": "True",
}

html_theme = "pydata_sphinx_theme"
html_title = f"numopt {release}"
html_static_path = ["_static"]
html_css_files = ["numopt.css"]
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
if os.environ.get("NUMOPT_DOCS_SMOKE"):
    html_theme_options["announcement"] = (
        "Built with NUMOPT_DOCS_SMOKE=1: the examples ran in their quick --smoke mode, "
        "so their figures and figures of merit are not those of a full run."
    )
html_sidebars = {"index": [], "getting-started/*": []}
html_show_sourcelink = False
