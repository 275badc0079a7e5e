"""Every code block of the README and of the documentation runs as written, as a file.

Each fenced ``python`` block is written to a file and run with ``python FILE`` in a fresh
temporary folder, each ``bash`` block with ``bash -e FILE``: a block is a script, exactly what a
reader copies, so a script that needs an ``if __name__ == "__main__":`` guard (Dask, process
pools) fails without one. The gallery scripts in ``docs/examples/`` run the same way (the docs
build runs them too, but inside Sphinx).

Blocks that are not run say so and why, on the line before the fence:

- ``<!-- main-command -->`` / ``<!-- test-command -->``: the README's two set-up commands (CI runs
  the test command itself; the main command is the full report);
- ``<!-- not-run: REASON -->``: an illustration that cannot run here (a cluster, a long job).

MyST directives (```` ```{toctree} ````) are not code; data blocks (``json``, ``text``, ``csv``)
are not run. A block in any other language fails the test until it is one of these.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
GENERATED = {"_build", "auto_examples", "api"}
RUN = {"python": "python", "py": "python", "bash": "bash", "sh": "bash", "shell": "bash"}
DATA = {"json", "text", "csv", "toml", "none"}
SETUP_MARKERS = ("<!-- main-command -->", "<!-- test-command -->")
NOT_RUN = re.compile(r"<!--\s*not-run:\s*(?P<reason>.*?)\s*-->")
FENCE = re.compile(r"^(?P<indent> *)```(?P<info>[^`\n]*)\n(?P<body>.*?)^(?P=indent)```\s*$", re.S | re.M)
TIMEOUT_S = 600


def pages() -> list[Path]:
    docs = sorted(p for p in DOCS.rglob("*.md") if not GENERATED & set(p.relative_to(DOCS).parts))
    return [README, *docs]


def blocks(page: Path):
    """``(line, language, body, skip_reason)`` of every fenced block of ``page``."""
    text = page.read_text()
    out = []
    for m in FENCE.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        before = text[:m.start()].rstrip("\n").rsplit("\n", 1)[-1].strip()
        info = m.group("info").strip()
        lang = info.split()[0].lower() if info else ""
        body = textwrap.dedent(m.group("body"))
        skip = None
        if before in SETUP_MARKERS:
            skip = "set-up command"
        elif (n := NOT_RUN.fullmatch(before)) is not None:
            skip = n.group("reason")
        out.append((line, lang, body, skip))
    return out


def cases():
    out = []
    for page in pages():
        for line, lang, body, skip in blocks(page):
            if lang.startswith("{") or lang in DATA:
                continue
            out.append(pytest.param(page, line, lang, body, skip, id=f"{page.relative_to(ROOT)}:{line}"))
    for script in sorted((DOCS / "examples").glob("*.py")):
        out.append(pytest.param(script, 1, "python", script.read_text(), None, id=str(script.relative_to(ROOT))))
    return out


def run_block(lang: str, body: str, folder: Path, name: str = "block") -> subprocess.CompletedProcess:
    """Run ``body`` as a file in ``folder`` (a fresh process; the folder is its working directory)."""
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    if RUN[lang] == "python":
        path = folder / f"{name}.py"
        cmd = [sys.executable, str(path)]
    else:
        path = folder / f"{name}.sh"
        cmd = ["bash", "-e", "-o", "pipefail", str(path)]
    path.write_text(body)
    return subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)


@pytest.mark.parametrize(("page", "line", "lang", "body", "skip"), cases())
def test_code_block_runs_as_a_file(page, line, lang, body, skip, tmp_path):
    where = f"{page.relative_to(ROOT)} line {line}"
    if skip is not None:
        assert skip.strip(), f"{where}: a not-run block must give its reason"
        pytest.skip(f"{where}: not run ({skip})")
    assert lang in RUN, (f"{where}: a ```{lang or '(no language)'} block is neither run nor marked; give it "
                         f"python or bash, a data language ({', '.join(sorted(DATA))}), or <!-- not-run: REASON -->")
    proc = run_block(lang, body, tmp_path)
    assert proc.returncode == 0, f"{where} failed when run as a file (exit {proc.returncode}):\n{proc.stderr[-6000:]}"


def test_a_missing_main_guard_fails_when_run_as_a_file(tmp_path):
    """The reason blocks run as files: spawned workers import the script, so an unguarded start fails."""
    body = ("import multiprocessing as mp\n"
            "from concurrent.futures import ProcessPoolExecutor\n"
            "with ProcessPoolExecutor(1, mp_context=mp.get_context('spawn')) as pool:\n"
            "    print(list(pool.map(abs, [-1])))\n")
    imports, run = body.split("with ")
    assert run_block("python", body, tmp_path, "unguarded").returncode != 0
    guarded = imports + "if __name__ == '__main__':\n" + textwrap.indent("with " + run, "    ")
    assert run_block("python", guarded, tmp_path, "guarded").returncode == 0


def test_every_page_has_blocks_that_run():
    assert any(lang == "python" and skip is None for _, lang, _, skip in blocks(README))
    for page in (DOCS / "guide").glob("*.md"):
        if page.name != "index.md":
            assert any(lang == "python" and skip is None for _, lang, _, skip in blocks(page)), page.name


def test_readme_starts_with_the_two_commands():
    text = README.read_text()
    quick = text.index("## Quick start")
    assert text.index("<!-- main-command -->") > quick
    assert text.index("<!-- test-command -->") > quick
    assert "batterylab report" in text.split("<!-- test-command -->")[0]


def test_readme_is_short_and_the_docs_index_links_every_page():
    assert len(README.read_text().splitlines()) <= 150  # the README is the entry point, docs/ the manual
    index = (DOCS / "README.md").read_text()
    for page in pages()[1:]:
        rel = page.relative_to(DOCS).as_posix()
        if rel not in ("README.md", "index.md"):  # index.md is the site's root page
            assert f"({rel})" in index, rel
