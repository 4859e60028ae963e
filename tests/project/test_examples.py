"""Every script in examples/ runs (in its quick ``--smoke`` mode) and writes what it promises.

Each script runs in a fresh interpreter, as a user would run it, with ``--out`` in a
temporary folder, and once more as sphinx-gallery runs it for the docs' gallery.
Scripts that need an optional package (matplotlib: the ``plot`` extra; scikit-learn;
sphinx-gallery and docutils: the ``docs`` extra) are skipped, with the reason, where
it is missing.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

#: script -> (files written under --out in smoke mode, optional modules it needs)
SCRIPTS = {
    "rosenbrock.py": (["paths.png", "history.png"], ["matplotlib"]),
    "logistic_regression.py": (["training.png"], ["matplotlib", "sklearn"]),
    "adam_l2_vs_adamw.py": (["decay.png"], ["matplotlib"]),
    "schedules.py": (["schedules.png"], ["matplotlib"]),
    "custom_loop.py": (["training.png", "checkpoint.npz"], ["matplotlib"]),
    "curve_fit_port.py": (["convergence.png"], ["matplotlib"]),
    "pixel_fit.py": (["maps.png"], ["matplotlib"]),
}
INSTALL = {
    "matplotlib": "pip install 'numopt[plot]'",
    "sklearn": "pip install scikit-learn",
    "sphinx_gallery": "pip install -e '.[docs]'",
    "docutils": "pip install -e '.[docs]'",
}
ALL = sorted([*SCRIPTS, "quickstart.py"])


def _run(args: list[str], tmp_path: Path, code: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    cmd = [sys.executable, "-c", code, *args] if code else [sys.executable, *args]
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)


def _skip_without(modules: list[str]) -> None:
    for module in modules:
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"needs {module}: {INSTALL[module]}")


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_example_runs_in_smoke_mode(script, tmp_path):
    files, needs = SCRIPTS[script]
    _skip_without(needs)
    out = tmp_path / "out"
    proc = _run([str(EXAMPLES / script), "--smoke", "--out", str(out)], tmp_path)
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout}\n{proc.stderr}"
    for name in files:
        path = out / name
        assert path.is_file() and path.stat().st_size > 1000, f"{script} did not write {name}"
    if any(name.endswith(".png") for name in files):
        assert "wrote" in proc.stdout
    assert not list(out.glob("*.tmp"))


def test_quickstart_runs(tmp_path):
    proc = _run([str(EXAMPLES / "quickstart.py")], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    heads = [line.split(":")[0].strip() for line in lines if line[:1] not in (" ", "")]
    assert heads[:3] == ["L-BFGS-B", "Adam", "mini-batch"], proc.stdout
    assert "terminated successfully" in lines[0], proc.stdout


def test_logistic_regression_without_sklearn_skips_cleanly(tmp_path):
    """Where scikit-learn is missing, a smoke run says what to install and exits 0."""
    hide = (
        "import runpy, sys; sys.modules['sklearn'] = None; "
        "sys.argv = sys.argv[1:]; sys.path.insert(0, sys.argv[0].rpartition('/')[0]); "
        "runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    script = str(EXAMPLES / "logistic_regression.py")
    proc = _run([script, "--smoke", "--out", str(tmp_path)], tmp_path, code=hide)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "scikit-learn" in proc.stderr and "pip install" in proc.stderr
    full = _run([script, "--out", str(tmp_path)], tmp_path, code=hide)
    assert full.returncode == 1


@pytest.mark.parametrize("script", ALL)
def test_example_says_what_it_shows_and_how_to_run_it(script):
    doc = ast.get_docstring(ast.parse((EXAMPLES / script).read_text()))
    assert doc and f"python examples/{script}" in doc
    if script != "quickstart.py":
        assert "--smoke" in doc and "--out" in doc


def _docstring(script: str) -> str:
    """The module docstring as written (``None`` unless it is the first statement)."""
    return ast.get_docstring(ast.parse((EXAMPLES / script).read_text()), clean=False)


@pytest.mark.parametrize("script", ALL)
def test_example_docstring_starts_with_a_rest_title(script):
    """sphinx-gallery makes the docstring the example's page: it must open with a reST
    title (one line, ``=`` of its length below it, a blank line) and hold no other line
    that reST could take for a section's underline."""
    doc = _docstring(script)
    assert doc, f"{script}: the docstring must be the first statement"
    lines = doc.split("\n")
    title, rule, blank = lines[:3]
    assert title and title == title.strip() and len(title) <= 70, title
    assert rule == "=" * len(title), f"{script}: the line under the title: {rule!r}"
    assert blank == ""
    for line in lines[3:]:
        assert not re.fullmatch(r"([=\-~^\"'`#*+:.])\1{3,}", line.strip()), line


@pytest.mark.parametrize("script", ALL)
def test_example_page_is_valid_rest(script):
    """As sphinx-gallery splits the script: the title it finds is the docstring's,
    and the docstring and every ``# %%`` text block parse as reST without a warning."""
    _skip_without(["sphinx_gallery", "docutils"])
    import docutils.core
    from sphinx_gallery.gen_rst import extract_intro_and_title
    from sphinx_gallery.py_source_parser import split_code_and_text_blocks

    _, blocks = split_code_and_text_blocks(str(EXAMPLES / script))
    _, title = extract_intro_and_title(str(EXAMPLES / script), blocks[0].content)
    assert title == _docstring(script).split("\n")[0].replace("``", "")
    for block in blocks:
        if block.type != "text":
            continue
        text = re.sub(r":[a-z]+(:[a-z]+)?:`", "`", block.content)  # Sphinx's roles
        try:
            docutils.core.publish_doctree(
                text,
                settings_overrides={"report_level": 2, "halt_level": 2, "warning_stream": False},
            )
        except docutils.utils.SystemMessage as exc:
            pytest.fail(f"{script}, text from line {block.lineno}: {exc}")


#: sphinx-gallery's way of running an example: its code blocks one after the other
#: in one namespace, ``__name__ == "__main__"``, ``__doc__ == ""`` and no
#: ``__file__``, in the example's folder (appended to ``sys.path``), with
#: ``sys.argv[1:]`` from the docs' ``reset_argv``.  A ``SystemExit`` would escape
#: sphinx-gallery and end the whole docs build.
GALLERY_RUN = """
import codeop, os, sys
from pathlib import Path
from sphinx_gallery.py_source_parser import split_code_and_text_blocks

src = sys.argv[1]
sys.argv = [src, *sys.argv[2:]]
os.chdir(Path(src).parent)
sys.path.append(os.getcwd())
namespace = {"__name__": "__main__", "__doc__": ""}
compiler = codeop.Compile()
try:
    for block in split_code_and_text_blocks(src)[1]:
        if block.type == "code":
            exec(compiler("\\n" * (block.lineno - 1) + block.content, src, "exec"), namespace)
except SystemExit as exc:
    print("SystemExit", exc.code)
else:
    print("ran every block")
"""


@pytest.mark.parametrize("script", ALL)
def test_example_runs_as_sphinx_gallery_runs_it(script, tmp_path):
    files, needs = SCRIPTS.get(script, ([], []))
    _skip_without([*needs, "sphinx_gallery"])
    out = tmp_path / "out"
    args = [str(EXAMPLES / script), "--smoke", "--out", str(out)]
    proc = _run(args, tmp_path, code=GALLERY_RUN)
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout}\n{proc.stderr}"
    assert proc.stdout.rstrip().endswith("ran every block"), proc.stdout + proc.stderr
    for name in files:
        assert (out / name).is_file(), f"{script} did not write {name}"


def test_every_example_is_tested():
    scripts = {p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")}
    assert scripts == {*SCRIPTS, "quickstart.py"}
