"""The README's code runs, and its set-up commands are the ones CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_python_blocks_run_in_order():
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert len(blocks) >= 4
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["res"].x.shape == (5,)


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "<!-- test-command -->" in ci
    command = re.search(r"<!-- test-command -->\n```bash\n(.*?)\n```", README, flags=re.S)
    assert command and "pytest" in command.group(1)
    assert re.search(r"<!-- example-command -->\n```bash\n.*examples/quickstart.py", README)
