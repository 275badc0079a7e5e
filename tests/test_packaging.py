"""The wheel ships kernels, parameter sets and validation under batterylab, and nothing else at top level."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAPPED = {"batterylab": "batterylab", "kernels": "batterylab/kernels",
          "parameter_sets": "batterylab/parameter_sets", "validation": "batterylab/validation"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)],
        check=True, capture_output=True, text=True,
    )
    (whl,) = out.glob("*.whl")
    with zipfile.ZipFile(whl) as z:
        return set(z.namelist())


def test_wheel_has_no_plain_kernels_top_level(wheel):
    tops = {name.split("/")[0] for name in wheel}
    assert "kernels" not in tops and "parameter_sets" not in tops and "validation" not in tops
    assert "batterylab" in tops


def test_every_source_file_is_in_the_wheel(wheel):
    """Every .py file and every data file of the mapped folders ships in the wheel."""
    missing = []
    for src, dest in MAPPED.items():
        for path in (ROOT / src).rglob("*"):
            if path.is_dir() or "__pycache__" in path.parts:
                continue
            if path.suffix not in {".py", ".json", ".csv", ".md", ".txt", ".j2", ".css"}:
                continue
            rel = path.relative_to(ROOT / src).as_posix()
            if f"{dest}/{rel}" not in wheel:
                missing.append(f"{src}/{rel}")
    assert not missing, f"missing from the wheel (add the package to pyproject.toml): {missing[:10]}"


def test_wheel_contains_kernels_and_parameter_sets(wheel):
    assert "batterylab/kernels/jit.py" in wheel
    assert any(n.startswith("batterylab/parameter_sets/cells/") and n.endswith(".json") for n in wheel)
    assert "batterylab/parameter_sets/__init__.py" in wheel
