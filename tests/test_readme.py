"""The Python snippets of the README and of the manual in docs/ run as written (in one namespace,
README first, then the docs pages in the order of the docs index, in a temporary folder)."""

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README] + [ROOT / "docs" / p for p in ("tour.md", "cli.md", "dask.md", "validation-report.md", "data.md")]


def python_blocks():
    return [(page.relative_to(ROOT), block) for page in PAGES
            for block in re.findall(r"```python\n(.*?)```", page.read_text(), re.S)]


def test_readme_python_snippets_run(tmp_path):
    blocks = python_blocks()
    namespace: dict = {}
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for i, (page, block) in enumerate(blocks):
            code = compile(block, f"{page} python block {i + 1}", "exec")
            exec(code, namespace)  # noqa: S102 - the README is ours
    finally:
        os.chdir(cwd)


def test_readme_starts_with_the_two_commands():
    text = README.read_text()
    quick = text.index("## Quick start")
    assert text.index("<!-- main-command -->") > quick
    assert text.index("<!-- test-command -->") > quick
    assert "batterylab report" in text.split("<!-- test-command -->")[0]


def test_docs_index_links_every_page():
    index = (ROOT / "docs" / "README.md").read_text()
    for page in PAGES[1:]:
        assert f"({page.name})" in index, page.name
    assert len(README.read_text().splitlines()) < 150  # the README is the entry point, docs/ the manual
