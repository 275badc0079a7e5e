"""Validation cases: every model against something batterylab did not write.

Each module in :mod:`batterylab.validation.cases` defines ``CASES``, a list of :class:`Case`.
A case's ``run(quick)`` returns a :class:`CaseResult`: metrics with tolerances (each with its
justification), figures, and the curves and numbers to store in ``results.h5``. Reference data
live in ``validation/data/`` with a provenance README. ``batterylab report`` finds them
(:func:`batterylab.report.discover`) and runs them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Metric:
    """One number compared with its tolerance.

    ``comparison`` is ``"<="`` (value must not exceed tolerance, e.g. an error), ``">="`` (value
    must reach it, e.g. a score) or ``"info"`` (reported, not judged).
    """

    name: str
    value: float
    tolerance: float | None
    unit: str = ""
    comparison: str = "<="
    justification: str = ""

    @property
    def passed(self) -> bool:
        if self.comparison == "info" or self.tolerance is None:
            return True
        if self.value != self.value:  # NaN never passes
            return False
        if self.comparison == "<=":
            return self.value <= self.tolerance
        if self.comparison == ">=":
            return self.value >= self.tolerance
        raise ValueError(f"unknown comparison {self.comparison!r}")


@dataclass
class CaseResult:
    """What a case produced: metrics, figures (matplotlib) and stored variables."""

    metrics: list[Metric]
    figures: list = field(default_factory=list)
    variables: dict = field(default_factory=dict)  # name -> batterylab.io.Variable
    tables: list = field(default_factory=list)  # (title, header list, rows list)
    notes: str = ""

    @property
    def passed(self) -> bool:
        return all(m.passed for m in self.metrics)


@dataclass
class Case:
    """A validation case: the run, its reference and where it is valid."""

    name: str
    title: str
    capability: str
    reference: str  # citation of the reference data or solution
    validity: str  # range over which the comparison holds
    run: Callable[[bool], CaseResult]
    description: str = ""
