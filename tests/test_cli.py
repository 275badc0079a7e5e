import subprocess
import sys

from batterylab import __version__


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "batterylab", *args], capture_output=True, text=True)


def test_version():
    res = run_cli("--version")
    assert res.returncode == 0
    assert __version__ in res.stdout


def test_help_lists_commands():
    res = run_cli("--help")
    assert res.returncode == 0
    assert "Usage: batterylab" in res.stdout


def test_unknown_command_fails_with_one_line():
    res = run_cli("no-such-command")
    assert res.returncode != 0
    assert "No such command" in res.stderr
