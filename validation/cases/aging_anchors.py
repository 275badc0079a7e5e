"""Published anchors of the non-BLAST ageing models: the compiled core against the papers' numbers.

- Schmalstieg et al. 2014 (doi:10.1016/j.jpowsour.2014.02.012), Sanyo UR18650E NMC: calendar
  capacity loss 1.960 % after 365 days at 3.6 V and 25 C, 7.901 % at 4.0 V and 35 C.
- Naumann et al. 2018 (doi:10.1016/j.est.2018.01.019), Sony/Murata LFP: 4.25 % after one year at
  25 C and 50 % SOC.
- Wang et al. 2011 (doi:10.1016/j.jpowsour.2010.11.134), A123 LFP: C/2 cycling at 25 C reaches
  20 % loss at 16,693 Ah of throughput (Wang's one-way Ah-throughput = EFC x 2.2 Ah).

Each run goes through the public API (profile -> kernel -> result), so it checks the JSON
coefficients, the compiler, the state update and the throughput convention together.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import Case, CaseResult, Metric

DAY = 86400.0


def _soc_at_voltage(model, volts):
    from ...aging import load

    m = load(model)
    return float(np.interp(volts, m.ocv, np.linspace(0.0, 1.0, m.ocv.size)))


def run(quick: bool) -> CaseResult:
    from matplotlib.figure import Figure

    from ... import aging
    from ...io import Variable

    notes = []
    metrics, rows, variables = [], [], {}
    fig = Figure(figsize=(10, 3.6))
    ax1 = fig.add_subplot(1, 2, 1)
    ax2 = fig.add_subplot(1, 2, 2)

    calendar = [
        ("schmalstieg2014", "3.6 V, 25 C", _soc_at_voltage("schmalstieg2014", 3.6), 298.15, 0.01960, "1.960 %", 5e-6),
        ("schmalstieg2014", "4.0 V, 35 C", _soc_at_voltage("schmalstieg2014", 4.0), 308.15, 0.07901, "7.901 %", 5e-6),
        ("naumann2020", "50 % SOC, 25 C", 0.5, 298.15, 0.0425, "4.25 %", 5e-5),
    ]
    for i, (model, label, soc, T, published, text, tol) in enumerate(calendar):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            r = aging.simulate(model, [0.0, DAY], [soc, soc], T, repeat=365)
        for w in caught:
            notes.append(f"{model} {label}: {w.message}")
        loss = 1.0 - r.capacity_fraction
        got = float(loss[-1])
        metrics.append(Metric(
            f"{model} calendar loss after 365 d at {label}: |model - published|", abs(got - published), tol, "1", "<=",
            "published value given to its last digit: agreement within half a unit of that digit",
        ))
        rows.append((model, f"calendar, 365 d, {label}", text, f"{100 * got:.5f} %",
                     f"{abs(got - published):.2e}"))
        ax1.plot(r.time_s / DAY, 100 * loss, f"C{i}-", label=f"{model}, {label}")
        ax1.plot([365], [100 * published], f"C{i}o", mfc="none", ms=9)
        variables[f"aging_anchors/{model}_{i}_time_s"] = Variable(r.time_s, "s", "Time [s]", (f"t{i}",))
        variables[f"aging_anchors/{model}_{i}_capacity_loss"] = Variable(loss, "1", f"Capacity loss, {model} {label} [-]", (f"t{i}",))
    ax1.set_xlabel("time [days]")
    ax1.set_ylabel("capacity loss [%]")
    ax1.set_title("calendar anchors (circles: published)")
    ax1.legend(fontsize=7)

    # Wang 2011: C/2 between 10 % and 90 % SOC at 25 C
    th = 0.8 / 0.5 * 3600.0
    reps = 12000
    r = aging.simulate("wang2011", [0.0, th, 2 * th], [0.9, 0.1, 0.9], 298.15, repeat=reps)
    q_nom = aging.load("wang2011").nominal_capacity_Ah
    ah = r.efc * q_nom
    loss = 1.0 - r.capacity_fraction
    ah20 = float(np.interp(0.20, loss, ah))
    metrics.append(Metric(
        "wang2011 Ah-throughput at 20 % loss (C/2, 25 C): relative error vs 16,693 Ah", abs(ah20 / 16693.0 - 1.0), 1e-3, "1",
        "<=", "the published number is the model's own closed form (R = 8.314): only the interpolation between "
        "per-cycle output samples (3.5 Ah apart) separates them; a wrong throughput convention would be off by 2x",
    ))
    rows.append(("wang2011", "C/2 cycling 10-90 % SOC, 25 C", "16,693 Ah at 20 % loss", f"{ah20:,.1f} Ah",
                 f"{abs(ah20 / 16693.0 - 1):.2e} (relative)"))
    ax2.plot(ah, 100 * loss, "C3-", label="wang2011, C/2, 25 C (batterylab)")
    ax2.plot([16693.0], [20.0], "ko", mfc="none", ms=9, label="published: 20 % at 16,693 Ah")
    ax2.set_xlabel("Ah-throughput (one-way, EFC x 2.2 Ah) [Ah]")
    ax2.set_ylabel("capacity loss [%]")
    ax2.set_title("Wang 2011 cycle anchor")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    variables["aging_anchors/wang2011_throughput_Ah"] = Variable(ah, "A h", "Ah-throughput [A.h]", ("wang_row",))
    variables["aging_anchors/wang2011_capacity_loss"] = Variable(loss, "1", "Capacity loss, Wang 2011 C/2 25 C [-]", ("wang_row",))

    return CaseResult(
        metrics=metrics,
        figures=[fig],
        variables=variables,
        tables=[("Published anchors", ["model", "condition", "published", "batterylab", "|difference|"], rows)],
        notes=" ".join(notes) or "No stressor left a model's fitted range.",
    )


CASES = [
    Case(
        name="aging_anchors",
        title="Ageing models against their published anchors",
        capability="compiled ageing core (non-BLAST models)",
        reference="Schmalstieg 2014 doi:10.1016/j.jpowsour.2014.02.012; Naumann 2018 doi:10.1016/j.est.2018.01.019; "
        "Wang 2011 doi:10.1016/j.jpowsour.2010.11.134",
        validity="calendar: 365 d at constant voltage/SOC and temperature; cycle: C/2, 80 % DOD, 25 C",
        run=run,
        description=__doc__,
    )
]
