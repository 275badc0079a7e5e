"""batterylab's exception classes.

Every error raised for bad user input is a :class:`BatterylabError`, a :class:`ValueError`
subclass, whose message names the argument, the value received and what was expected. A run that
was given good input but failed (a solver that did not converge, a distributed task that raised)
raises a :class:`RunError`, also a :class:`BatterylabError`; the command line exits with status 2
for the first kind and 1 for the second.
"""

from __future__ import annotations


class BatterylabError(ValueError):
    """Base class of every batterylab input error."""


class InputError(BatterylabError):
    """An argument (array, number, file) is out of its physical or formal range."""


class ParameterError(BatterylabError):
    """A parameter set or parameter file is malformed, incomplete or out of range."""


class OptionError(BatterylabError):
    """An option name or value is not one of the valid ones (the message lists them)."""


class RunError(BatterylabError):
    """A run with valid input failed (solver, task); not the user's input."""


def _plural(noun: str) -> str:
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "o", "u"):
        return noun[:-1] + "ies"
    if noun.endswith(("s", "x", "sh", "ch")):
        return noun + "es"
    return noun + "s"


def unknown_option(kind: str, value, valid) -> OptionError:
    """Build the error for an option that is not among ``valid``, listing the valid ones."""
    valid = sorted(str(v) for v in valid)
    return OptionError(f"unknown {kind} {value!r}; valid {_plural(kind)} are: {', '.join(valid)}")
