"""The command line speaks one grammar: every subcommand is walked and its options checked.

``--progress/--no-progress`` (default: a bar on a terminal), ``--figure PATH``, ``--out PATH``
(required where a file is the product), ``--jobs N`` for local processes, ``--scheduler ADDR`` /
``--dask-workers N`` for Dask, ``--ambient-K``; exit status 2 for bad input, 1 for a failed run.
Old spellings stay as hidden, deprecated aliases for one release.
"""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from batterylab.cli import COMMANDS, cli, main
from cli_commands import walk

#: spellings replaced by the grammar; allowed only as hidden aliases
RETIRED = {"--quiet", "--workers", "--threads", "--figures", "--no-figures", "--no-figure", "--ambient-k"}
#: commands whose product is printed, so --out is optional (a file only when asked)
OPTIONAL_OUT = {"age", "swap", "report"}  # report: a folder, default ./report
#: commands without any file product
NO_OUT = {"materials", "clean"}  # clean: removes files, makes none
#: long-running commands: they must offer the progress switch
WITH_PROGRESS = {"age", "calibrate", "lifetime", "swap", "grade", "report"}


ALL = list(walk())


def test_every_registered_command_is_walked():
    top = {n.split()[0] for n, _ in ALL}
    assert top == set(COMMANDS)
    assert {"pcm preheat", "pcm fast-charge", "scenario v2g", "scenario fleet-sharing"} <= {n for n, _ in ALL}


def _options(cmd):
    return [p for p in cmd.params if isinstance(p, click.Option)]


def _visible(cmd):
    return [p for p in _options(cmd) if not p.hidden]


@pytest.mark.parametrize("name,cmd", ALL, ids=[n for n, _ in ALL])
def test_grammar(name, cmd):
    top = name.split()[0]
    spelled = {o: p for p in _visible(cmd) for o in (*p.opts, *p.secondary_opts)}
    assert not (RETIRED & set(spelled)), f"{name}: retired spellings {sorted(RETIRED & set(spelled))} are visible"
    for opt, p in spelled.items():
        if "ambient" in opt and (opt.endswith("-k") or opt.endswith("-K")):
            assert opt.endswith("ambient-K"), f"{name}: {opt} (temperatures are spelled --...-K)"
    # progress
    if top in WITH_PROGRESS:
        assert "--progress" in spelled, f"{name}: no --progress/--no-progress"
    if "--progress" in spelled:
        p = spelled["--progress"]
        assert p.is_flag and p.secondary_opts == ["--no-progress"], name
        assert p.default is None, f"{name}: --progress must default to None (a bar when on a terminal)"
    # figure: a path, never an on/off flag
    if "--figure" in spelled:
        p = spelled["--figure"]
        assert not p.is_flag and not p.secondary_opts, f"{name}: --figure takes a PATH"
    # out
    if top not in NO_OUT:
        assert "--out" in spelled, f"{name}: no --out"
        if top not in OPTIONAL_OUT:
            assert spelled["--out"].required, f"{name}: --out must be required (a file is the product)"
    # parallelism
    if "--jobs" in spelled:
        assert isinstance(spelled["--jobs"].type, (click.types.IntParamType, click.IntRange)), name
    assert ("--scheduler" in spelled) == ("--dask-workers" in spelled), f"{name}: --scheduler and --dask-workers go together"


@pytest.mark.parametrize("name,cmd", ALL, ids=[n for n, _ in ALL])
def test_unknown_option_exits_2(name, cmd, capsys):
    with pytest.raises(SystemExit) as exc:
        main([*name.split(), "--no-such-option"])
    assert exc.value.code == 2


@pytest.fixture
def bad_inputs(tmp_path):
    missing = str(tmp_path / "missing.csv")
    out = str(tmp_path / "x.h5")
    folder = tmp_path / "cells"
    folder.mkdir()
    return {
        "simulate": ["simulate", "--cell", "NoSuchCell", "--experiment", "Discharge at 1C until 2.5 V", "--out", out],
        "age": ["age", "naumann2020", missing],
        "calibrate": ["calibrate", "NoSuchCell", "--out", str(tmp_path / "x.json")],
        "lifetime": ["lifetime", "--duty", missing, "--out", out],
        "swap": ["swap", "no_such_station", "--days", "1"],
        "fast-response": ["fast-response", "--cell", "sulphide", "--out", out],
        "grade": ["grade", str(folder), "--out", str(tmp_path / "g"), "--chemistry", "unobtainium"],
        "pcm preheat": ["pcm", "preheat", "--material", "no_such_pcm", "--out", out],
        "pcm fast-charge": ["pcm", "fast-charge", "--material", "no_such_pcm", "--out", out],
        "scenario v2g": ["scenario", "v2g", "--itinerary", missing, "--out", out],
        "scenario v2g-regulation": ["scenario", "v2g-regulation", "--capability-price", "20", "--performance-price", "5",
                                    "--mileage-ratio", "-3", "--out", out],
        "scenario smart-charging": ["scenario", "smart-charging", "--itinerary", missing, "--out", out],
        "scenario wireless": ["scenario", "wireless", "--itinerary", missing, "--out", out],
        "scenario mw-backup": ["scenario", "mw-backup", "--household-load", missing, "--out", out],
        "scenario fleet-sharing": ["scenario", "fleet-sharing", "--fleet", missing, "--out", out],
        "report": ["report", "--case", "no_such_case", "--out", str(tmp_path / "r")],
        "clean": ["clean", missing],
    }


@pytest.mark.parametrize("name", [n for n, _ in ALL if n != "materials"])
def test_bad_input_exits_2_with_a_message(name, bad_inputs, capsys):
    with pytest.raises(SystemExit) as exc:
        main(bad_inputs[name])
    err = capsys.readouterr().err
    assert exc.value.code == 2, err
    assert "error" in err.lower() and "Traceback" not in err


def test_a_failed_run_exits_1(monkeypatch, tmp_path, capsys):
    import batterylab.cell.model as cell_model
    from batterylab.cell.model import CellSimulationError

    def fail(**kw):
        raise CellSimulationError("the solver gave up (test)")

    monkeypatch.setattr(cell_model, "simulate", fail)
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "--experiment", "Discharge at 1C until 2.5 V", "--out", str(tmp_path / "x.h5")])
    assert exc.value.code == 1
    assert "the run failed" in capsys.readouterr().err


def test_retired_spellings_still_work_with_a_note(tmp_path):
    from batterylab.aging.cli import age

    res = CliRunner().invoke(age, ["--list", "--quiet", "--workers", "2"])
    assert res.exit_code == 0, res.output
    assert "--quiet is deprecated" in res.output and "use --no-progress" in res.output
    assert "--workers is deprecated" in res.output
    assert "--quiet" not in CliRunner().invoke(age, ["--help"]).output


def test_help_of_every_command():
    for name, _ in ALL:
        res = CliRunner().invoke(cli, [*name.split(), "--help"])
        assert res.exit_code == 0, (name, res.output)


@pytest.mark.filterwarnings("ignore::batterylab.aging.OutOfRangeWarning")
def test_figure_path_writes_a_png(tmp_path):
    runs = {
        "swap.png": ["swap", "nio_gen2_like", "--days", "2", "--no-aging", "--no-progress"],
        "smart.png": ["scenario", "smart-charging", "--aging-model", "blast_nca_panasonic18650b", "--years", "1",
                      "--out", str(tmp_path / "s.h5")],
    }
    for png, args in runs.items():
        res = CliRunner().invoke(cli, [*args, "--figure", str(tmp_path / png)])
        assert res.exit_code == 0, res.output
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
