"""The README's headline figures are the ones the results files hold."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks import headline, results_files  # noqa: E402


def test_readme_holds_the_generated_table():
    readme = (ROOT / "README.md").read_text()
    assert headline.block() in readme, "run: python benchmarks/headline.py --write"


def test_each_row_reads_its_file_and_says_when_and_where():
    table = headline.table().splitlines()
    assert len(table) == 2 + len(headline.ROWS)
    for line, row in zip(table[2:], headline.ROWS, strict=True):
        assert f"(benchmarks/results/{row.file})" in line
        assert (headline.RESULTS / row.file).exists()
        assert "2026-" in line and "×" in line


def test_markdown_rows_reads_a_table(tmp_path):
    path = tmp_path / "r.txt"
    path.write_text(
        "# x, 2026-01-02, x86_64 AMD EPYC, 2 CPUs\n\n### A: b\n\n"
        "| name | µs |\n|---|---|\n| one | 1.5 |\n| two | 3 |\n\nafter\n"
    )
    rows = results_files.by_first_cell(results_files.read_rows(path, "A"))
    assert rows == {"one": {"name": "one", "µs": "1.5"}, "two": {"name": "two", "µs": "3"}}
    assert results_files.measured(path) == "2026-01-02, 2-core AMD EPYC"
