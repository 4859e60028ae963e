"""The guides that walk through code run as they are: each page's ```python blocks, in
order, as one script (the README's blocks are run by ``test_readme.py``)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = ["index.md", "minimize.md", "checkpoints.md", "stateful.md"]


@pytest.mark.parametrize("page", PAGES)
def test_python_blocks_run_in_order(page, tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), flags=re.S)
    assert blocks, f"{page} has no python block"
    script = tmp_path / "page.py"
    script.write_text("\n".join(blocks))
    run = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-3000:]
