"""The README's code runs, and its set-up commands are the ones CI runs."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_python_blocks_run_in_order(tmp_path):
    """The blocks, one after another, as one script a reader would paste (run in a fresh
    interpreter with its own Numba cache: the README's ``cache=True`` functions)."""
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert len(blocks) >= 4
    script = tmp_path / "readme.py"
    checks = "assert res.x.shape == (5,)\nassert many.compiled and many.success.all()\n"
    script.write_text("\n".join([*blocks, checks]))
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}
    run = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "<!-- test-command -->" in ci
    command = re.search(r"<!-- test-command -->\n```bash\n(.*?)\n```", README, flags=re.S)
    assert command and "pytest" in command.group(1)
    assert re.search(r"<!-- example-command -->\n```bash\n.*examples/quickstart.py", README)
