"""The readers of benchmark results files, which the README's headline table and the
documentation's ``results`` tables use to quote measurements."""

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks import results_files  # noqa: E402

ALIGNED = """# 2026-01-02, x86_64 AMD EPYC, 2 CPUs
     rule   dtype      N  numopt ms  ×t-fused
---------------------------------------------
     adam float32  1e+07      4.485      1.05
       gd float64  1e+07      3.907         —

note
"""

SECTIONS = """# benchmarks/x.py, 2026-01-03, x86_64 AMD EPYC, 2 CPUs
## N = 100
                numopt       0.408 ms
             optax jit       0.465 ms
      optax jit / numopt      1.14

## N = 1000
                numopt       3.887 ms
"""


def test_aligned_columns_are_read_by_where_their_cells_end(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(ALIGNED)
    rows = results_files.read_rows(path)
    assert rows == [
        {
            "rule": "adam",
            "dtype": "float32",
            "N": "1e+07",
            "numopt ms": "4.485",
            "×t-fused": "1.05",
        },
        {"rule": "gd", "dtype": "float64", "N": "1e+07", "numopt ms": "3.907", "×t-fused": "—"},
    ]


def test_sections_of_name_value_lines_are_one_row_each(tmp_path):
    path = tmp_path / "s.txt"
    path.write_text(SECTIONS)
    rows = results_files.read_sections(path)
    assert rows[0] == {
        "section": "N = 100",
        "numopt": "0.408 ms",
        "optax jit": "0.465 ms",
        "optax jit / numopt": "1.14",
    }
    assert rows[1] == {"section": "N = 1000", "numopt": "3.887 ms"}
    assert results_files.measured(path) == "2026-01-03, 2-core AMD EPYC"


def test_csv_rows_and_the_date_of_the_text_file_beside_it(tmp_path):
    (tmp_path / "c.csv").write_text("rule,numopt_ms\nadam,4.5\n")
    (tmp_path / "c.txt").write_text("# 2026-01-04, x86_64 , numba\n")
    assert results_files.read_rows(tmp_path / "c.csv") == [{"rule": "adam", "numopt_ms": "4.5"}]
    assert results_files.measured(tmp_path / "c.csv") == "2026-01-04, x86_64, CPU not recorded"


def test_a_missing_section_is_an_error_naming_it(tmp_path):
    path = tmp_path / "m.txt"
    path.write_text("### A\n\n| a |\n|---|\n| 1 |\n")
    assert results_files.read_rows(path, "A") == [{"a": "1"}]
    with pytest.raises(ValueError, match=re.escape("no heading '... B...'")):
        results_files.read_rows(path, "B")
    path.write_text("## A\n| a |\n|---|\n| 1 |\n## A\n| a |\n|---|\n| 2 |\n")
    assert results_files.read_rows(path, "A", occurrence=2) == [{"a": "2"}]


def test_every_committed_results_file_says_when_and_where():
    """Each file's date and machine read (the tables the guides quote are read by the
    documentation build, with warnings as errors: test_docs_site.py)."""
    for path in sorted(results_files.RESULTS.glob("*.txt")):
        assert results_files.measured(path).startswith("2026-"), path.name


def test_the_directive_formats_numbers_as_a_reader_wants():
    pytest.importorskip("sphinx", reason="the docs extra is not installed")
    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
    import results_table

    assert results_table._format(26.0, 3) == "26.0"
    assert results_table._format(1.0497, 3) == "1.05"
    assert results_table._format(float("nan"), 3) == "—"
    assert results_table._shortened("4.485251999994944", 3) == "4.49"
    assert results_table._shortened("0.98", 3) == "0.98"  # as written
    assert results_table._shortened("1201", 3) == "1201"
    assert results_table._number("0.408 ms") == 0.408
    assert results_table._items("a, b") == ["a", "b"]
    assert results_table._items("numopt many, 1 thread; scipy") == [
        "numopt many, 1 thread",
        "scipy",
    ]
