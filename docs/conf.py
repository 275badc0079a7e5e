"""Sphinx configuration of the batterylab documentation site.

Build: ``sphinx-build -W -j 1 -b html docs docs/_build/html`` (``tests/test_docs.py`` runs it with
warnings as errors). Nothing is fetched at build time: no intersphinx, no remote images.

The API pages (``docs/api/*.rst``) are written here at build time from the packages' public
names (``__all__``, which for the lazily imported packages is their export list), so a name added
to a package appears in the reference without editing the docs.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("PYBAMM_DISABLE_TELEMETRY", "true")

import batterylab  # noqa: E402

project = "batterylab"
author = "batterylab developers"
copyright = "batterylab developers, BSD-3-Clause"  # noqa: A001
release = batterylab.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx_gallery.gen_gallery",
]

root_doc = "index"
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
# docs/README.md is the folder's index for readers of the repository; the site's index is index.md.
exclude_patterns = ["_build", "README.md", "examples", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.md5", "auto_examples/*.json"]
templates_path = ["_templates"]

# MyST: the markdown pages as they are, with heading anchors for links like page.md#section.
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3

# autodoc / autosummary / napoleon (numpydoc-style docstrings).
autosummary_generate = True
autosummary_imported_members = True
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the docstrings carry types and units: "time_s : array [s]"
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_ivar = True  # dataclass fields are documented by autodoc already: no duplicate objects
napoleon_use_rtype = False
napoleon_preprocess_types = False

# The math in docstrings is rendered by MathJax in the reader's browser; the build fetches nothing.
html_theme = "alabaster"
html_title = f"batterylab {release}"
html_static_path: list[str] = []
html_show_sourcelink = False

# sphinx-gallery: the scripts in docs/examples/ run at build time; their figures go on the page.
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "show_memory": False,
    "min_reported_time": 10**6,  # no timing table noise
    "capture_repr": (),
    "backreferences_dir": None,
    "reset_modules": ("matplotlib",),
}

# ---------------------------------------------------------------------------------------------
# API reference pages, one per package, from the public names.

API = {
    # package: (title, names or None for its __all__)
    "batterylab": ("Errors and top-level names", ["BatterylabError", "InputError", "OptionError",
                                                   "ParameterError", "RunError"]),
    "batterylab.cell": ("Cell models", None),
    "batterylab.cell.engine": ("PyBaMM engine (models, experiments, solver, errors)",
                               ["pybamm_model", "mesh_points", "experiment", "solver", "simulation", "solve",
                                "CellSimulationError"]),
    "batterylab.aging": ("Ageing", None),
    "batterylab.aging.calibrate": ("Ageing model calibration", ["calibrate", "run_design", "held_out"]),
    "batterylab.lifetime": ("Closed-loop lifetime", ["simulate_lifetime", "LifetimeResult",
                                                     "read_duty_csv", "read_ambient_csv"]),
    "batterylab.swap": ("Swap stations", None),
    "batterylab.grid": ("Grid services: regulation signal, PJM score, revenue", None),
    "batterylab.solid_state": ("Solid-state fast response", None),
    "batterylab.grading": ("Second-life grading", [
        "batch.grade_directory", "batch.grade_records", "batch.GradeConfig", "results.GradeBatch",
        "grade.GradeRecord", "grade.GradingBands", "grade.load_bands", "grade.decide_grade",
        "grade.residual_value", "readers.read_cell_file", "readers.CellRecord", "readers.CellFileError",
        "readers.write_cell_record", "measurements.discharge_capacity", "measurements.dcir_from_pulses",
        "measurements.soh_from_capacity", "ocv_fit.fit_ocv", "ocv_fit.fit_ocv_batch",
        "ocv_fit.degradation_modes", "ocv_fit.synthetic_c20_curve", "ocv_fit.available_chemistries",
        "pulse.predict_soh", "trajectory.select_forecast", "trajectory.population_forecast",
        "forecast.home_storage_trajectory", "matching.match_modules", "protocol.run_protocol",
        "synthetic.electrode_state", "synthetic.make_cell", "synthetic.make_batch"]),
    "batterylab.pcm": ("Phase-change thermal storage", None),
    "batterylab.scenarios": ("Grid scenarios", [
        "v2g.simulate_v2g", "v2g.V2GResult", "smart_charging.simulate_smart_charging",
        "smart_charging.SmartChargingResult", "wireless.simulate_wireless", "wireless.WirelessResult",
        "mw_backup.simulate_mw_backup", "mw_backup.megawatt_charge", "mw_backup.backup_hours",
        "mw_backup.BackupResult", "fleet_sharing.simulate_fleet_sharing",
        "fleet_sharing.FleetSharingResult"]),
    "batterylab.io": ("Files", None),
    "batterylab.distributed": ("Dask", None),
}

SKIP = {"__version__"}


def public_names(package: str, names):
    if names is not None:
        return list(names)
    module = importlib.import_module(package)
    out = []
    for name in module.__all__:
        if name in SKIP:
            continue
        value = getattr(module, name)
        if getattr(value, "__name__", "").startswith(package + ".") and type(value).__name__ == "module":
            continue  # a submodule (batterylab.pcm.stefan): its functions are listed where used
        if not callable(value):
            continue  # constants (option lists) are documented in the text
        out.append(name)
    return out


def write_api_pages(app=None):
    api = HERE / "api"
    api.mkdir(exist_ok=True)
    lines = ["# API reference", "",
             "Generated from the packages' public names; each entry's docstring gives parameters and",
             "returns with units in square brackets.", "", "```{toctree}", ":maxdepth: 1", ""]
    for package, (title, names) in API.items():
        slug = package.replace(".", "_")
        lines.append(slug)
        body = [f"{package}: {title}", "=" * (len(package) + len(title) + 2), "",
                f".. automodule:: {package}", "", f".. currentmodule:: {package}",
                "", ".. autosummary::", "   :toctree: generated/", "   :nosignatures:", ""]
        body += [f"   {name}" for name in public_names(package, names)]
        text = "\n".join(body) + "\n"
        page = api / f"{slug}.rst"
        if not page.exists() or page.read_text() != text:
            page.write_text(text)
    lines += ["```", ""]
    index = api / "index.md"
    text = "\n".join(lines)
    if not index.exists() or index.read_text() != text:
        index.write_text(text)


write_api_pages()
