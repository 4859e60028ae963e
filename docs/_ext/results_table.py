"""The ``results`` directive: a table read from a benchmark results file at build time.

A guide quotes a measurement by naming the file the benchmark script wrote, never by
copying its numbers::

    ```{results} lbfgs-2026-12-05.txt
    :section: 100-D extended Rosenbrock
    :rows: numopt compiled, scipy
    :columns: contender, nit, µs = wall µs (median), × = µs/iter @scipy / µs/iter
    ```

* the file is ``benchmarks/results/<name>``: a CSV file, or a text file whose tables
  are Markdown or aligned columns (``:section:`` picks the first table under the
  heading that starts with it, or the ``:occurrence:``-th such heading); with
  ``:sections:``, a text file of ``## `` sections
  of ``name   value unit`` lines, one row per section (its heading in the column
  ``section``);
* ``:where:`` keeps the rows whose columns equal the values (``n=10000000,
  dtype=float32``); ``:rows:`` those whose first cell is listed, in that order
  (``:rows:`` and ``:columns:`` are separated by ``;`` where a name has a comma);
* ``:columns:`` lists what to show (every column when left out), each ``label =
  expression`` or a column's name;
  an expression is a column, or ``a / b`` (spaces around the slash; each a column
  of the row, or ``column @row``: that column in the row whose first cell is
  ``row``), formatted to ``:digits:`` significant digits (3);
* the table's caption names the file (linked to its page) with the date and
  machine of its first line.
"""

from __future__ import annotations

import math
import re

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.addnodes import pending_xref
from sphinx.util.docutils import SphinxDirective

from benchmarks.results_files import RESULTS, by_first_cell, measured, read_rows, read_sections


def _number(text: str) -> float:
    """The number a cell starts with (``"0.408 ms"``, ``"1.14×"``)."""
    match = re.match(r"\s*(-?[\d.]+(?:e[-+]?\d+)?|nan|-?inf)", text.replace(",", ""), re.I)
    if match is None:
        raise ValueError(f"not a number: {text!r}")
    return float(match.group(1))


def _format(value: float, digits: int) -> str:
    if not math.isfinite(value):
        return "—"
    if value == 0:
        return "0"
    exponent = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - exponent)
    return f"{value:.{decimals}f}" if exponent < 6 else f"{value:.{digits - 1}e}"


def _items(text: str) -> list[str]:
    """A list option's items: separated by ``;`` when there is one (names with commas,
    ``numopt many, 1 thread``), else by ``,``."""
    return [s.strip() for s in text.split(";" if ";" in text else ",") if s.strip()]


def _shortened(cell: str, digits: int) -> str:
    """A cell as written, or, when it is a decimal number written with more
    significant digits than ``digits`` (a CSV's raw float), rounded to them."""
    if not re.fullmatch(r"-?\d*\.\d+(e[-+]?\d+)?|nan", cell.strip(), flags=re.I):
        return cell
    mantissa = cell.strip().lstrip("-").split("e")[0].replace(".", "").lstrip("0")
    return _format(float(cell), digits) if len(mantissa) > digits or "nan" in cell else cell


class Results(SphinxDirective):
    """Render selected rows and columns of a results file as a table."""

    required_arguments = 1
    option_spec = {  # noqa: RUF012 - docutils reads it from the class
        "section": directives.unchanged,
        "where": directives.unchanged,
        "rows": directives.unchanged,
        "columns": directives.unchanged_required,
        "digits": directives.nonnegative_int,
        "sections": directives.flag,
        "occurrence": directives.positive_int,
    }

    def run(self) -> list[nodes.Node]:
        path = RESULTS / self.arguments[0]
        if not path.exists():
            raise self.error(f"no results file benchmarks/results/{self.arguments[0]}")
        self.env.note_dependency(str(path))
        try:
            if "sections" in self.options:
                rows = read_sections(path)
            else:
                rows = read_rows(
                    path, self.options.get("section"), self.options.get("occurrence", 1)
                )
            every = rows
            rows = self._selected(rows)
            header, body = self._columns(rows, every)
        except (KeyError, ValueError, ZeroDivisionError) as error:
            raise self.error(f"{path.name}: {error}") from None
        return [self._table(header, body, path)]

    def _selected(self, rows: list[dict[str, str]]) -> list[dict[str, str]]:
        for pair in filter(None, (p.strip() for p in self.options.get("where", "").split(","))):
            key, value = (s.strip() for s in pair.split("=", 1))
            rows = [r for r in rows if r.get(key) == value]
        if "rows" in self.options:
            first = by_first_cell(rows)
            wanted = _items(self.options["rows"])
            missing = [w for w in wanted if w not in first]
            if missing:
                raise ValueError(f"no rows {missing} (rows: {list(first)})")
            rows = [first[w] for w in wanted]
        if not rows:
            raise ValueError("no row matches")
        return rows

    def _columns(self, rows, every):
        by_first = by_first_cell(every)
        digits = self.options.get("digits", 3)
        if "columns" not in self.options:  # every column, as the file names them
            header = list(rows[0])
            return header, [[_shortened(row[c], digits) for c in header] for row in rows]
        specs = _items(self.options["columns"])
        header, body = [], [[] for _ in rows]
        for spec in specs:
            label, _, expression = (s.strip() for s in spec.partition("="))
            expression = expression or label
            header.append(label)
            for out, row in zip(body, rows, strict=True):
                out.append(self._value(expression, row, by_first, digits))
        return header, body

    @staticmethod
    def _value(expression: str, row: dict, by_first: dict, digits: int) -> str:
        if " / " not in expression:
            if expression not in row:
                raise KeyError(f"no column {expression!r} (columns: {list(row)})")
            return _shortened(row[expression], digits)

        def operand(text: str) -> float:
            column, _, other = text.strip().partition(" @")  # "column @row": another row's
            source = by_first[other] if other else row
            return _number(source[column.strip()])

        top, bottom = expression.split(" / ", 1)
        return _format(operand(top) / operand(bottom), digits)

    def _table(self, header, body, path) -> nodes.table:
        table = nodes.table(classes=["results-table"])
        group = nodes.tgroup(cols=len(header))
        table += group
        for _ in header:
            group += nodes.colspec(colwidth=1)
        head = nodes.thead()
        group += head
        head += self._row(header)
        rows = nodes.tbody()
        group += rows
        for cells in body:
            rows += self._row(cells)
        page = f"/generated/results/{path.stem}"
        caption = nodes.title()
        caption += nodes.Text("From ")
        link = pending_xref(
            "",
            refdomain="std",
            reftype="doc",
            reftarget=page,
            refexplicit=True,
            refdoc=self.env.docname,
        )
        link += nodes.literal(text=f"benchmarks/results/{path.name}")
        caption += link
        caption += nodes.Text(f" ({measured(path)})")
        table.insert(0, caption)
        return table

    @staticmethod
    def _row(cells) -> nodes.row:
        row = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            entry += nodes.paragraph(text=cell)
            row += entry
        return row


def setup(app):
    app.add_directive("results", Results)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
