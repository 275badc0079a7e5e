"""The documentation site builds with Sphinx, warnings as errors, and runs its examples.

The build runs on a copy of ``docs/`` in a temporary folder (so the gallery's cache of earlier
runs in the work tree is not used: every example executes), with ``-W --keep-going`` so that the
log lists every warning, and ``-j 1`` (the machines have two cores). Nothing is downloaded: the
configuration has no intersphinx and no remote images.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
GENERATED = ("_build", "auto_examples", "api", "sg_execution_times.rst")

@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("docs")
    src = tmp / "docs"
    shutil.copytree(DOCS, src, ignore=shutil.ignore_patterns(*GENERATED, "__pycache__"))
    out = tmp / "html"
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONWARNINGS="")
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-j", "1", "-b", "html", "-q",
         str(src), str(out)],
        capture_output=True, text=True, env=env, cwd=tmp, timeout=600,
    )
    return proc, out


def test_docs_build_without_warnings(built):
    proc, out = built
    log = proc.stdout + proc.stderr
    warnings = [line for line in log.splitlines() if re.search(r"WARNING|ERROR|CRITICAL", line)]
    assert proc.returncode == 0 and not warnings, f"sphinx-build -W failed ({proc.returncode}):\n{log[-8000:]}"
    assert (out / "index.html").is_file()


def test_docs_have_a_guide_page_per_application_and_the_api(built):
    _, out = built
    for page in ("cell", "aging", "lifetime", "swap", "solid-state", "grading", "pcm", "scenarios"):
        assert (out / "guide" / f"{page}.html").is_file(), page
    api = (out / "api" / "generated")
    for name in ("batterylab.cell.simulate", "batterylab.aging.simulate", "batterylab.swap.simulate_station",
                 "batterylab.grading.batch.grade_records", "batterylab.lifetime.simulate_lifetime"):
        assert (api / f"{name}.html").is_file(), name


def test_every_example_ran_and_drew_its_figure(built):
    _, out = built
    examples = sorted(p.stem for p in (DOCS / "examples").glob("plot_*.py"))
    assert examples
    for name in examples:
        page = (out / "auto_examples" / f"{name}.html").read_text()
        assert f"sphx_glr_{name}_001.png" in page, f"{name}: no figure on its page"
        assert (out / "_images" / f"sphx_glr_{name}_001.png").is_file(), name
