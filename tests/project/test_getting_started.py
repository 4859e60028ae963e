"""The getting-started pages (docs/getting-started/scipy.md, torch.md) hold: each page's
```python blocks run, in order, as one script, so the pages cannot drift from the code;
their headings and their links to other guides are what the Sphinx build accepts."""

import itertools
import re
from pathlib import Path

import pytest

PAGES = Path(__file__).resolve().parents[2] / "docs" / "getting-started"
NAMES = ["scipy.md", "torch.md"]

FENCE = re.compile(r"^```.*?^```", flags=re.S | re.M)


def python_blocks(text: str) -> list[str]:
    """The page's ```python blocks, in order (the README's pattern, test_readme.py)."""
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize("name", NAMES)
def test_python_blocks_run_in_order(name, tmp_path, monkeypatch):
    """The blocks, joined, exec'd in a fresh namespace with a temporary folder as the
    working directory (the pages write a checkpoint there)."""
    page = PAGES / name
    blocks = python_blocks(page.read_text())
    assert len(blocks) >= 5, f"{name} has {len(blocks)} python blocks"
    monkeypatch.chdir(tmp_path)
    exec(compile("\n".join(blocks), str(page), "exec"), {"__name__": "__main__"})


@pytest.mark.parametrize("name", NAMES)
def test_one_title_and_no_skipped_heading_levels(name):
    prose = FENCE.sub("", (PAGES / name).read_text())
    levels = [len(m.group(1)) for m in re.finditer(r"^(#+) \S", prose, flags=re.M)]
    assert levels[0] == 1 and levels.count(1) == 1, levels
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels)), levels


@pytest.mark.parametrize("name", NAMES)
def test_links_to_other_guides_exist(name):
    prose = FENCE.sub("", (PAGES / name).read_text())
    targets = re.findall(r"\]\(([^)#:]+\.md)(?:#[^)]*)?\)", prose)
    assert targets, f"{name} links to no other guide"
    missing = [t for t in targets if not (PAGES / t).resolve().is_file()]
    assert not missing, missing
