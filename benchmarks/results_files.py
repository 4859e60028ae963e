"""Reading the results files the benchmark scripts write (``benchmarks/results/``).

Two readers serve everything that quotes a measurement — the README's headline table
(:mod:`benchmarks.headline`) and the documentation's ``results`` directive — so that
a figure is read from its file, never copied by hand.

* :func:`read_rows`: the rows of a CSV file, or of the first table under a heading
  of a text file;
* :func:`read_sections`: a row per ``## `` section of ``name   value unit`` lines;
* :func:`measured`: the date and the machine the file's first line records.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def read_rows(path: Path, section: str | None = None, occurrence: int = 1) -> list[dict[str, str]]:
    """The rows of a CSV file, or of the first table under the heading (``#``s, a
    space, then text starting with ``section``) of a text file — the file's first
    table without ``section`` —, as ``{column: cell}``.  A text table is Markdown
    (``| a | b |``; a row with fewer cells, a skipped contender's, has only those) or
    right-aligned columns under a header and a line of dashes (``compare.py``'s).
    ``occurrence`` picks the n-th heading that matches (a file of several runs)."""
    if path.suffix == ".csv":
        with path.open() as f:
            return list(csv.DictReader(f))
    lines = path.read_text().splitlines()
    if section is not None:
        pattern = re.compile(r"#+ " + re.escape(section))
        starts = [i for i, line in enumerate(lines) if pattern.match(line)]
        if len(starts) < occurrence:
            raise ValueError(f"{path.name} has no heading '... {section}...' (#{occurrence})")
        lines = lines[starts[occurrence - 1] + 1 :]
    for i, line in enumerate(lines):
        if line.startswith("|"):
            return _markdown(lines[i:])
        if i + 1 < len(lines) and re.fullmatch(r"-{10,}", lines[i + 1].strip()) and line.strip():
            return _aligned(line, lines[i + 2 :])
    raise ValueError(f"{path.name}: no table under {section!r}")


def _markdown(lines: list[str]) -> list[dict[str, str]]:
    table = []
    for line in lines:
        if not line.startswith("|"):
            break
        table.append(line)
    header = _cells(table[0])
    return [dict(zip(header, _cells(line), strict=False)) for line in table[2:]]


def _aligned(header: str, lines: list[str]) -> list[dict[str, str]]:
    """Right-aligned columns: each column ends where its cells end."""
    rows = []
    for line in lines:
        if not line.strip() or line.startswith(("#", "```")):
            break
        rows.append(line)
    ends = [m.end() for m in re.finditer(r"\S+", rows[0])]
    names, start = [], 0
    for end in ends:
        names.append(header[start:end].strip())
        start = end
    return [dict(zip(names, line.split(), strict=True)) for line in rows]


def read_sections(path: Path) -> list[dict[str, str]]:
    """One row per ``## `` section of a text file whose lines are ``name   value
    [unit]`` (the one-step benchmarks' format): ``{"section": heading, name: "value
    unit", ...}``."""
    rows: list[dict[str, str]] = []
    line_pattern = re.compile(r"\s*(.*?\S)\s{2,}(-?[\d.]+(?:e[-+]?\d+)?)(?:\s+([a-zµ]+)\b)?")
    for line in path.read_text().splitlines():
        if line.startswith("## "):
            rows.append({"section": line[3:].strip()})
        elif rows and (match := line_pattern.match(line)):
            name, value, unit = match.groups()
            rows[-1].setdefault(name, f"{value} {unit}" if unit else value)
    if not rows:
        raise ValueError(f"{path.name} has no '## ' sections")
    return rows


def by_first_cell(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    """``rows`` keyed by their first cell (a contender's or a rule's name)."""
    return {next(iter(row.values())): row for row in rows}


def measured(path: Path) -> str:
    """When and where: the date and the machine of the file's first line (a CSV
    file's from the text file of the same name, which the same run wrote; the date
    in the file's name where the line has none)."""
    text = path.with_suffix(".txt") if path.suffix == ".csv" else path
    first = text.read_text().splitlines()[0]
    date = re.search(r"\d{4}-\d{2}-\d{2}", first) or re.search(r"\d{4}-\d{2}-\d{2}", path.stem)
    cpu = re.search(r"x86_64 ([^,]+), (\d+) CPUs", first)
    machine = f"{cpu.group(2)}-core {cpu.group(1)}" if cpu else "x86_64, CPU not recorded"
    return f"{date.group(0) if date else 'undated'}, {machine}"
