"""The README's Python snippets run as written (in one namespace, in a temporary folder)."""

import os
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_readme_python_snippets_run(tmp_path):
    blocks = python_blocks()
    namespace: dict = {}
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for i, block in enumerate(blocks):
            code = compile(block, f"README.md python block {i + 1}", "exec")
            exec(code, namespace)  # noqa: S102 - the README is ours
    finally:
        os.chdir(cwd)


def test_readme_starts_with_the_two_commands():
    text = README.read_text()
    quick = text.index("## Quick start")
    assert text.index("<!-- main-command -->") > quick
    assert text.index("<!-- test-command -->") > quick
    assert "batterylab report" in text.split("<!-- test-command -->")[0]
