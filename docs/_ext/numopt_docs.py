"""What numopt's documentation build adds to Sphinx and sphinx-gallery.

* :func:`write_generated` (at ``builder-inited``) writes the pages generated from
  the project's own sources: ``docs/options.md`` from the one declaration of the
  options (:func:`numopt.front.options.page`), and one page per benchmark results
  file (``benchmarks/results/*.txt``, the files the benchmark scripts write, with
  their date and machine) under ``docs/generated/results/``.
* :func:`example_argv` and :func:`written_figures` run the gallery's examples as
  scripts: each gets ``--out`` (a folder of the build) and, with
  ``NUMOPT_DOCS_SMOKE=1``, ``--smoke``; the figures an example writes there are
  shown on its page.
* :func:`check_public_names` (at ``build-finished``) warns for every public name of
  numopt that the API reference does not document, so a new function, rule,
  schedule or transform cannot be left out (the build runs with ``-W``).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
from pathlib import Path
from typing import Any

from sphinx.util import logging

from benchmarks.results_files import RESULTS, measured

DOCS = Path(__file__).resolve().parents[1]
ROOT = DOCS.parent
GENERATED = DOCS / "generated"
FIGURES = DOCS / "_build" / "example-figures"

logger = logging.getLogger(__name__)


# --- pages generated from the sources ----------------------------------------------


def _write_if_changed(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _as_markdown(body: str) -> str:
    """A results file's body as MyST Markdown: its headings renumbered from level 2
    with no level skipped, its Markdown tables kept, and every other run of lines
    (aligned columns, ``# ...`` comments, notes) shown as written, in a literal block;
    fenced blocks are kept as they are."""
    lines = body.splitlines()
    fenced = False
    levels = set()
    for line in lines:
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"##+ ", line):
            levels.add(len(line.split(" ", 1)[0]))
    new_level = {old: 2 + k for k, old in enumerate(sorted(levels))}
    out: list[str] = []
    kind = None  # what the last line was: "fence", "table", "text" or None (blank/heading)

    def close() -> None:
        if kind == "text":
            out.append("```")
        if kind in ("text", "table"):
            out.append("")

    for line in lines:
        if kind == "fence":
            out.append(line)
            if line.startswith("```"):
                kind = None
            continue
        if line.startswith("```"):
            close()
            out.append(line)
            kind = "fence"
        elif re.match(r"##+ ", line):
            close()
            marks, text = line.split(" ", 1)
            out += ["#" * new_level[len(marks)] + " " + text, ""]
            kind = None
        elif line.startswith("|"):
            if kind != "table":
                close()
            out.append(line)
            kind = "table"
        elif not line.strip():
            close()
            kind = None
        else:
            if kind != "text":
                close()
                out.append("```text")
            out.append(line)
            kind = "text"
    close()
    return "\n".join(out)


def results_page(path: Path) -> str:
    """A results file as a page: its name as the title, the lines that say when,
    where and how it was measured (``# ...``) as a literal block, then the rest
    (:func:`_as_markdown`)."""
    lines = path.read_text().splitlines()
    header = []
    while lines and (lines[0].startswith("# ") or not lines[0].strip()):
        line = lines.pop(0)
        if line.strip():
            header.append(line[2:])
    source = path.relative_to(ROOT).as_posix()
    parts = [
        f"# {path.stem}",
        "",
        f"The file `{source}`, as its benchmark script wrote it. Measured:",
        "",
        "```text",
        *header,
        "```",
        "",
        _as_markdown("\n".join(lines)),
        "",
    ]
    return "\n".join(parts)


def results_index(paths: list[Path]) -> str:
    """A table of the results files, newest first: date, the script and its
    arguments, the machine."""
    rows = []
    for path in paths:
        text = path.read_text()
        command = re.search(r"command: (python [^;\n]*)", text) or re.search(
            r"(python benchmarks/\w+\.py[^;,()\n]*)", text
        )
        script = re.search(r"benchmarks/\w+\.py", text)
        what = command.group(1).strip() if command else script.group(0) if script else "—"
        date, _, machine = measured(path).partition(", ")
        page = f"generated/results/{path.stem}.md"  # from docs/benchmarks.md, which includes it
        rows.append((date, f"| {date} | [{path.stem}]({page}) | `{what}` | {machine} |"))
    lines = ["| date | file | script | machine |", "|---|---|---|---|"]
    lines += [row for _, row in sorted(rows, key=lambda r: r[0], reverse=True)]
    return "\n".join(lines) + "\n"


def write_generated(app: Any) -> None:
    """Write the options reference, the benchmark results pages with their index, and
    the README's headline table for the benchmarks page."""
    from benchmarks import headline
    from numopt.front import options

    _write_if_changed(DOCS / "options.md", options.page())
    out = GENERATED / "results"
    paths = sorted(RESULTS.glob("*.txt"))
    keep = set()
    for path in paths:
        keep.add(f"{path.stem}.md")
        _write_if_changed(out / f"{path.stem}.md", results_page(path))
    for stale in out.glob("*.md"):
        if stale.name not in keep:
            stale.unlink()
    _write_if_changed(GENERATED / "results-index.md", results_index(paths))
    headline_table = headline.table(link=lambda name: f"generated/results/{Path(name).stem}.md")
    _write_if_changed(GENERATED / "headline.md", headline_table + "\n")


# --- the gallery's examples, run as scripts --------------------------------------


def _figure_dir(src_file: str | os.PathLike) -> Path:
    return FIGURES / Path(src_file).stem


def example_argv(gallery_conf: dict, script_vars: dict) -> list[str]:
    """The command line an example runs with: its own ``--out`` folder, emptied
    first, and ``--smoke`` when ``NUMOPT_DOCS_SMOKE`` is set."""
    out = _figure_dir(script_vars["src_file"])
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    argv = ["--out", str(out)]
    if os.environ.get("NUMOPT_DOCS_SMOKE"):
        argv.insert(0, "--smoke")
    return argv


def written_figures(block: Any, block_vars: dict, gallery_conf: dict) -> str:
    """sphinx-gallery image scraper: the PNG files the example wrote to its ``--out``
    folder since the last code block, moved to the gallery's image paths."""
    from sphinx_gallery.scrapers import figure_rst

    out = _figure_dir(block_vars["src_file"])
    images = []
    for png in sorted(out.glob("**/*.png")):
        target = Path(next(block_vars["image_path_iterator"]))
        shutil.move(png, target)
        images.append(target)
    return figure_rst(images, gallery_conf["src_dir"])


# --- every public name documented ---------------------------------------------------


@functools.cache
def public_names() -> dict[int, list[str]]:
    """numopt's public objects (the ``__all__`` of the package and of its public
    modules), each with every fully qualified name it has (``numopt.EMA`` is
    ``numopt.transforms.EMA``); computed once per build."""
    import importlib

    names: dict[int, list[str]] = {}
    for module_name in (
        "numopt",
        "numopt.schedules",
        "numopt.transforms",
        "numopt.methods",
        "numopt.plotting",
    ):
        module = importlib.import_module(module_name)
        for name in module.__all__:
            value = getattr(module, name)
            if type(value).__name__ != "module":
                names.setdefault(id(value), []).append(f"{module_name}.{name}")
    return names


def check_public_names(app: Any, exception: Exception | None) -> None:
    """Warn for each public object the API reference documents under none of its names."""
    if exception is not None or app.builder.name != "html":
        return
    documented = set(app.env.get_domain("py").objects)
    for aliases in public_names().values():
        if not documented.intersection(aliases):
            logger.warning("numopt: the public name %s is not in the API reference", aliases[0])


def resolve_aliases(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """Resolve a reference to a public object under another of its names
    (``numopt.EMA`` is documented as ``numopt.transforms.EMA``), and a rule's
    ``:meth:`step``` to the method it inherits from :class:`numopt.Optimizer`."""
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"]
    domain = env.get_domain("py")
    candidates: list[str] = []
    for aliases in public_names().values():
        if target in aliases:
            candidates = aliases
            break
    if not candidates and node["reftype"] in ("meth", "attr"):
        name = target.rsplit(".", 1)[-1]
        candidates = [f"numopt.Optimizer.{name}", f"numopt.transforms.Wrapper.{name}"]
    for name in candidates:
        if name in domain.objects:
            return domain.resolve_xref(
                env, node["refdoc"], app.builder, node["reftype"], name, node, contnode
            )
    return None


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", write_generated)
    app.connect("missing-reference", resolve_aliases)
    app.connect("build-finished", check_public_names)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
