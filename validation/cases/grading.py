"""Second-life grading: degradation modes, pulse screening and capacity forecasts against data.

Reference data: ``validation/data/grading/`` (see ``validation/data/README.md`` for provenance).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import Case, CaseResult, Metric

DATA = Path(__file__).resolve().parent.parent / "data" / "grading"


#: Markers, in turn, for a series that needs more distinct styles than colours.
MARKERS = ("o", "s", "^", "D")


def _tab20(i):
    from matplotlib import colormaps

    return colormaps["tab20"](i)


def _fig(w=6.5, h=4.0, ncols=1):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h))
    axes = [fig.add_subplot(1, ncols, i + 1) for i in range(ncols)]
    return fig, axes


# --------------------------------------------------------------------------------------------


def run_ocv_synthetic(quick: bool) -> CaseResult:
    from ...io import Variable
    from ...grading.ocv_fit import degradation_modes, fit_ocv_batch, synthetic_c20_curve
    from ...grading.synthetic import electrode_state

    n = 40 if quick else 400
    rng = np.random.default_rng(11)
    truth, qs, vs = [], [], []
    for _ in range(n):
        modes = rng.uniform([0.0, 0.0, 0.0], [0.3, 0.2, 0.2])
        cp, cn, y0, x0 = electrode_state(2.5, *modes)
        q, v = synthetic_c20_curve(cp, cn, y0, x0, n_points=200, noise_V=0.002, rng=rng)
        truth.append(modes)
        qs.append(q)
        vs.append(v)
    truth = np.array(truth)
    fits = fit_ocv_batch(qs, vs)
    est = np.array([[d.LLI, d.LAM_PE, d.LAM_NE] for d in (degradation_modes(f, nominal_capacity_Ah=2.5) for f in fits)])
    err = np.abs(est - truth) * 100
    names = ("LLI", "LAM_PE", "LAM_NE")
    metrics = [Metric(f"max |{nm} fitted - true| over {n} cells", float(err[:, k].max()), 1.0, "percentage points", "<=",
                      "the recovery target of 1 percentage point; 2 mV Gaussian voltage noise on 200-point C/20 curves")
               for k, nm in enumerate(names)]
    metrics.append(Metric("max fit RMSE", float(max(f.rmse_V for f in fits) * 1e3), 3.0, "mV", "<=",
                          "1.5 x the 2 mV noise level: the fit reaches the noise floor"))
    fig, axes = _fig(9, 3.2, 3)
    for k, (ax, nm) in enumerate(zip(axes, names)):
        ax.plot(truth[:, k] * 100, est[:, k] * 100, ".", ms=3, label=f"synthetic cell ({n})")
        ax.plot([0, 30], [0, 30], "k-", lw=0.6, label="fitted = true")
        ax.set_xlabel(f"true {nm} [%]")
        ax.set_ylabel(f"fitted {nm} [%]")
        ax.set_title(f"{nm}: max error {err[:, k].max():.2f} pp", fontsize=9)
        ax.legend(fontsize=7, loc="upper left")
    fig.suptitle("Synthetic C/20 curves: fitted vs true degradation modes", fontsize=10)
    fig.tight_layout()
    variables = {"true_modes": Variable(truth, "1", "True LLI, LAM_PE, LAM_NE (fractions lost)", ("cell", "mode")),
                 "fitted_modes": Variable(est, "1", "Fitted LLI, LAM_PE, LAM_NE (fractions lost)", ("cell", "mode"))}
    return CaseResult(metrics, [fig], variables,
                      notes="Synthetic C/20 curves from the same half-cell OCP model (U. Michigan NMC111/graphite "
                            "OCPs) at random LLI 0-30 %, LAM_PE 0-20 %, LAM_NE 0-20 %; fitted by the vectorised "
                            "bounded Levenberg-Marquardt fit used in batch grading.")


# --------------------------------------------------------------------------------------------


def run_ocv_pybamm(quick: bool) -> CaseResult:
    from ...io import Variable
    from ...grading.ocv_fit import degradation_modes, fit_ocv_batch
    from ...grading.synthetic import pybamm_c20_curve

    if quick:
        cases = [(0.0, 0.0, 0.0), (0.1, 0.05, 0.05), (0.05, 0.15, 0.1)]
    else:
        rng = np.random.default_rng(5)
        cases = [(0.0, 0.0, 0.0)] + [tuple(rng.uniform([0.0, 0.0, 0.0], [0.25, 0.15, 0.15])) for _ in range(10)]
    curves = [pybamm_c20_curve(*c) for c in cases]
    fits = fit_ocv_batch([c[0] for c in curves], [c[1] for c in curves], "nmc532-graphite-mohtat2020")
    fresh = fits[0]
    truth = np.array(cases)
    own = np.array([[d.LLI, d.LAM_PE, d.LAM_NE] for d in (degradation_modes(f, fresh) for f in fits)])
    t0 = curves[0][2]
    absolute = np.array([[d.LLI, d.LAM_PE, d.LAM_NE] for d in
                         (degradation_modes(f, {"Cp_Ah": t0["Cp0_Ah"], "Cn_Ah": t0["Cn0_Ah"], "n_li_Ah": t0["n_li0_Ah"]})
                          for f in fits)])
    err = np.abs(own - truth)[1:] * 100
    err_abs = np.abs(absolute - truth) * 100
    names = ("LLI", "LAM_PE", "LAM_NE")
    metrics = [Metric(f"max |{nm} fitted - true|, reference = the fresh cell's own C/20 fit ({len(cases) - 1} aged cells)",
                      float(err[:, k].max()), 1.5, "percentage points", "<=",
                      "target 1 pp; the SPM's C/20 overpotentials (fit RMSE about 2 mV) bias C_n, measured up to 1.0 pp "
                      "in the quick set")
               for k, nm in enumerate(names)]
    metrics += [Metric(f"max |{nm} fitted - true|, reference = the true fresh electrode capacities", float(err_abs[:, k].max()),
                       None, "percentage points", "info", "the overpotential bias of the fresh curve does not cancel")
                for k, nm in enumerate(names)]
    metrics.append(Metric("max fit RMSE against the PyBaMM curves", float(max(f.rmse_V for f in fits) * 1e3), 5.0, "mV", "<=",
                          "C/20 charge of the SPM is a few mV above equilibrium"))
    fig, axes = _fig(9, 3.6, 2)
    from ...grading.ocv_fit import load_ocp_set

    ocp = load_ocp_set("nmc532-graphite-mohtat2020")
    for i, ((q, v, _), f) in enumerate(zip(curves[:4], fits[:4])):
        model = ocp.full_cell_voltage(q, f.Cp_Ah, f.Cn_Ah, f.y0, f.x0)
        axes[0].plot(q, v, ".", ms=2, color=f"C{i}")
        axes[0].plot(q, model, "-", lw=0.7, color=f"C{i}")
        axes[1].plot(q, (model - v) * 1e3, lw=0.8, color=f"C{i}", label="LLI %.2f, LAM_PE %.2f, LAM_NE %.2f" % cases[i])
    axes[0].plot([], [], "k.", ms=3, label="PyBaMM SPM C/20 charge")
    axes[0].plot([], [], "k-", lw=0.7, label="OCV fit (colour: cell, as right)")
    axes[0].set_xlabel("C/20 charge capacity [Ah]")
    axes[0].set_ylabel("voltage [V]")
    axes[0].set_title("C/20 charges and their fits", fontsize=9)
    axes[0].legend(fontsize=7, loc="lower right")
    axes[1].set_xlabel("C/20 charge capacity [Ah]")
    axes[1].set_ylabel("fit - PyBaMM [mV]")
    axes[1].set_title("Fit residual per cell (true modes, fractions lost)", fontsize=9)
    axes[1].legend(fontsize=6)
    fig.suptitle("Degradation modes from PyBaMM SPM (Mohtat2020) C/20 curves", fontsize=10)
    fig.tight_layout()
    table = [tuple(f"{x:.3f}" for x in (*truth[i], *own[i], *absolute[i])) for i in range(len(cases))]
    header = ["true LLI", "true LAM_PE", "true LAM_NE", "fit LLI (own ref.)", "fit LAM_PE", "fit LAM_NE",
              "fit LLI (true ref.)", "fit LAM_PE", "fit LAM_NE"]
    return CaseResult(metrics, [fig], {"true_modes": Variable(truth, "1", "True modes (fractions lost)", ("cell", "mode")),
                                       "fitted_modes": Variable(own, "1", "Fitted modes, own fresh reference", ("cell", "mode"))},
                      tables=[("PyBaMM SPM (Mohtat2020) C/20 charges", header, table)],
                      notes="Curves from PyBaMM's SPM with the Mohtat2020 parameter set, active-material fractions and "
                            "lithium inventory changed by the known modes; fitted with the set's own half-cell OCPs.")


# --------------------------------------------------------------------------------------------


def _umich():
    import pandas as pd

    from ...grading.ocv_fit import FARADAY

    tab = pd.read_csv(DATA / "umich_weng2021_esoh_summary.csv")
    rows = []
    for f in sorted((DATA / "umich_c20").glob("cell_*_cyc_*.csv"), key=lambda p: tuple(int(x) for x in p.stem.split("_")[1::2])):
        _, cell, _, cyc = f.stem.split("_")
        pub = tab[(tab.cellid == int(cell)) & (tab.cycle_number == int(cyc))].iloc[0]
        ref = tab[(tab.cellid == int(cell)) & (tab.cycle_number == 3)].iloc[0]
        c = pd.read_csv(f)
        rows.append({"cell": int(cell), "cycle": int(cyc), "pub": pub,
                     "ref": {"Cp_Ah": ref.Cp, "Cn_Ah": ref.Cn, "n_li_Ah": ref.n_li * FARADAY / 3600},
                     "q": c.charge_capacity_Ah.to_numpy(), "v": c.voltage_V.to_numpy()})
    return rows


def run_ocv_umich(quick: bool) -> CaseResult:
    from ...io import Variable
    from ...grading.ocv_fit import degradation_modes, fit_ocv_batch, load_ocp_set

    rows = _umich()
    fits = fit_ocv_batch([r["q"] for r in rows], [r["v"] for r in rows], "nmc111-graphite")
    table, errs = [], {"LLI": [], "LAM_PE": [], "LAM_NE": []}
    for r, fit in zip(rows, fits):
        d = degradation_modes(fit, r["ref"])
        pub = r["pub"]
        ours = {"LLI": 1 - d.LLI, "LAM_PE": d.LAM_PE, "LAM_NE": d.LAM_NE}  # table LLI = fraction remaining
        used = pub.RMSE_mV < 20
        if used:
            for k in errs:
                errs[k].append(abs(ours[k] - pub[k]) * 100)
        table.append((r["cell"], r["cycle"], f"{pub.RMSE_mV:.1f}", f"{fit.rmse_V * 1e3:.1f}",
                      f"{pub.LLI:.3f} / {ours['LLI']:.3f}", f"{pub.LAM_PE:.3f} / {ours['LAM_PE']:.3f}",
                      f"{pub.LAM_NE:.3f} / {ours['LAM_NE']:.3f}", "yes" if used else "no (published RMSE >= 20 mV)"))
    tol = {"LLI": (0.5, "measured 0.2 pp; LLI is set by the ends of the curve and well identified"),
           "LAM_PE": (1.5, "measured 0.5 pp"),
           "LAM_NE": (1.5, "measured 1.2 pp; C_n is the least identifiable parameter of a full-cell C/20 curve")}
    metrics = [Metric(f"max |{k} batterylab - Weng 2021| (rows with published RMSE < 20 mV, n={len(v)})",
                      float(max(v)), tol[k][0], "percentage points", "<=", tol[k][1]) for k, v in errs.items()]
    metrics.append(Metric("max fit RMSE over all 12 curves", float(max(f.rmse_V for f in fits) * 1e3), 15.0, "mV", "<=",
                          "below the 20 mV row filter of the comparison; the published fits reach 5-85 mV"))
    ocp = load_ocp_set("nmc111-graphite")
    fig, axes = _fig(9, 3.6, 2)
    k = 0
    for r, fit in zip(rows, fits):
        if r["cell"] == 9:
            model = ocp.full_cell_voltage(r["q"], fit.Cp_Ah, fit.Cn_Ah, fit.y0, fit.x0)
            axes[0].plot(r["q"], r["v"], ".", ms=2, color=f"C{k}", label=f"cycle {r['cycle']}, measured")
            axes[0].plot(r["q"], model, "k-", lw=0.7, label="OCV fit" if k == 0 else None)
            axes[1].plot(r["q"], (model - r["v"]) * 1e3, lw=0.8, color=f"C{k}", label=f"cycle {r['cycle']}")
            k += 1
    axes[0].set_xlabel("C/20 charge capacity [Ah]")
    axes[0].set_ylabel("voltage [V]")
    axes[0].set_title("U. Michigan cell 9: C/20 charges and fits", fontsize=9)
    axes[0].legend(fontsize=7, loc="lower right")
    axes[1].set_xlabel("C/20 charge capacity [Ah]")
    axes[1].set_ylabel("fit residual [mV]")
    axes[1].set_title("Fit residual (fit - measured)", fontsize=9)
    axes[1].legend(fontsize=7)
    fig.suptitle("Degradation modes from measured C/20 curves (Weng et al. 2021)", fontsize=10)
    fig.tight_layout()
    variables = {"fit_rmse_mV": Variable(np.array([f.rmse_V * 1e3 for f in fits]), "mV", "OCV fit RMSE [mV]", ("curve",))}
    header = ["cell", "cycle", "published RMSE [mV]", "batterylab RMSE [mV]", "LLI remaining (Weng / batterylab)",
              "LAM_PE lost", "LAM_NE lost", "in comparison"]
    return CaseResult(metrics, [fig], variables, tables=[("U. Michigan C/20 curves: published vs batterylab", header, table)],
                      notes="Degradation modes relative to the published cycle-3 fit of the same cell (its C_p, C_n "
                            "and n_Li); the table's LLI column is the fraction of lithium REMAINING, LAM columns the "
                            "fraction LOST.")


# --------------------------------------------------------------------------------------------


def run_pulse(quick: bool) -> CaseResult:
    from ...io import Variable
    from ...grading import pulse
    from ...grading.readers import read_pulse_table_csv

    model = pulse.load_pulse_model()
    x, y, groups, _ = pulse.training_table(read_pulse_table_csv(DATA / "thu_pulse_voltage_Cylind21.csv"))
    if quick:
        pred = pulse._loco(x, y, groups, model["ridge_lambda"])
        scheme = f"leave-one-cell-out, shipped ridge penalty {model['ridge_lambda']:g}"
    else:
        pred = pulse.nested_cross_validation(x, y, groups)
        scheme = "nested leave-one-cell-out (penalty chosen inside each fold)"
    err = pred - y
    mae = float(np.mean(np.abs(err)) * 100)
    rmse = float(np.sqrt(np.mean(err**2)) * 100)
    sig = model["cv"]["rmse_soh"]
    cover = float(np.mean(np.abs(err) <= 1.96 * sig))
    metrics = [
        Metric(f"cross-validated MAE of SOH ({scheme})", mae, 3.0, "% SOH", "<=", "the screening target of 3 % SOH"),
        Metric("cross-validated RMSE of SOH", rmse, None, "% SOH", "info", ""),
        Metric("max cross-validated error", float(np.max(np.abs(err)) * 100), None, "% SOH", "info", ""),
        Metric("share of held-out tests inside the stated 95 % interval", cover, 0.9, "1", ">=",
               "the per-estimate uncertainty must cover the cross-validated errors"),
    ]
    fig, (ax,) = _fig(6.5, 5.0)
    for i, g in enumerate(np.unique(groups)):
        m = groups == g
        # a distinct (colour, marker) pair per cell: tab20 has 20 colours, the default cycle only 10
        ax.plot(y[m] * 100, pred[m] * 100, MARKERS[i // 20 % len(MARKERS)], color=_tab20(i % 20), ms=4, label=g)
    ax.plot([60, 95], [60, 95], "k-", lw=0.6, label="estimate = measured")
    ax.set_xlabel("measured SOH [%]")
    ax.set_ylabel("pulse-screening SOH, held-out cell [%]")
    ax.set_title(f"Pulse screening, each cell held out: MAE {mae:.2f} % SOH", fontsize=9)
    ax.legend(fontsize=6, ncol=2, title="held-out cell", title_fontsize=6, loc="upper left")
    fig.tight_layout()
    variables = {"soh_measured": Variable(y, "1", "Measured SOH", ("test",)),
                 "soh_cv_prediction": Variable(pred, "1", "Cross-validated pulse-screening SOH", ("test",))}
    return CaseResult(metrics, [fig], variables,
                      notes=f"{y.size} pulse tests of {len(np.unique(groups))} retired cylindrical 2.1 Ah cells; each "
                            f"physical cell held out as a whole.")


# --------------------------------------------------------------------------------------------


def lfp_pulse_table():
    """(X format-independent features, SOH, test ids, nominal Ah) of the retired LFP pulse set."""
    import pandas as pd

    from ...grading.pulse import features_relative_to_ocv

    d = pd.read_csv(DATA / "tao_lfp_retired_pulse_W100ms.csv")
    ucols = [f"U{i}" for i in range(1, 42)]
    x, y, g, qn = [], [], [], []
    for tid, t in d.groupby("test_id", sort=True):
        t = t.sort_values("SOC_pct")
        x.append(features_relative_to_ocv(t[ucols].to_numpy(float)))
        y.append(float(t.SOH.iloc[0]))
        g.append(tid)
        qn.append(float(t.Qn_Ah.iloc[0]))
    return np.array(x), np.array(y), np.array(g), np.array(qn)


def run_pulse_domain(quick: bool) -> CaseResult:
    from ...io import Variable
    from ...grading import pulse
    from ...grading.readers import read_pulse_table_csv

    metrics, table = [], []
    # 1) within one format: the shipped cylindrical model's scheme, domain refitted per fold
    model = pulse.load_pulse_model()
    x, y, groups, _ = pulse.training_table(read_pulse_table_csv(DATA / "thu_pulse_voltage_Cylind21.csv"))
    r = pulse.cross_validate_with_domain(x, y, groups, lam=model["ridge_lambda"] if quick else None)
    within = [("cylindrical 2.1 Ah (Tao 2025), leave-one-cell-out", y, r)]
    # 2) retired LFP prismatic cells, two formats, format-independent features
    xl, yl, gl, qn = lfp_pulse_table()
    lofo_err, lofo_flag, lofo_pred = [], [], []
    for fmt in (20.0, 68.0):
        te, tr = qn == fmt, qn != fmt
        trained = pulse.train_pulse_model(xl[tr], yl[tr], gl[tr], n_ensemble=5 if quick else 25, seed=0, nested=False)
        est = [pulse.screen(trained, f) for f in xl[te]]
        pred = np.array([e.soh for e in est])
        flag = np.array([not e.in_domain for e in est])
        err = pred - yl[te]
        lofo_err.append(err)
        lofo_flag.append(flag)
        lofo_pred.append(pred)
        const = float(np.mean(np.abs(yl[tr].mean() - yl[te])))
        n_in = int((~flag).sum())
        table.append((f"train LFP {int(qn[tr][0])} Ah -> test LFP {int(fmt)} Ah",
                      int(te.sum()), f"{np.mean(np.abs(err)) * 100:.1f}", f"{const * 100:.1f}", f"{flag.mean():.2f}",
                      f"{np.mean(np.abs(err[~flag])) * 100:.1f}" if n_in else "no cell in domain"))
        rr = pulse.cross_validate_with_domain(xl[te], yl[te], gl[te], lam=trained["ridge_lambda"], n_folds=10)
        within.append((f"LFP {int(fmt)} Ah (Tao, Xia, Zou), 10 folds of tests", yl[te], rr))
    for name, yy, rr in within:
        ind = rr["in_domain"]
        mae_in = float(np.mean(np.abs(rr["pred"] - yy)[ind]) * 100) if ind.any() else float("nan")
        metrics.append(Metric(f"{name}: share of held-out tests inside the domain", float(ind.mean()), 0.8, "1", ">=",
                              "the domain must not flag what it can judge; the limits are 95 % quantiles of held-out "
                              "folds of the training set, each domain statistic flags about 5 %"))
        metrics.append(Metric(f"{name}: MAE of SOH on held-out tests inside the domain", mae_in, 3.0, "% SOH", "<=",
                              "the screening target of 3 % SOH"))
        table.append((f"within: {name}", yy.size, f"{np.mean(np.abs(rr['pred'] - yy)) * 100:.1f}", "",
                      f"{1 - ind.mean():.2f}", f"{mae_in:.1f}"))
    err = np.concatenate(lofo_err)
    flag = np.concatenate(lofo_flag)
    pred = np.concatenate(lofo_pred)
    big = np.abs(err) > 0.03
    metrics += [
        Metric("leave-one-format-out: share of tests with |error| > 3 % SOH that are flagged",
               float(flag[big].mean()) if big.any() else 1.0, 1.0, "1", ">=",
               "every estimate the model gets wrong on a format it has not seen must be flagged"),
        Metric("leave-one-format-out: MAE of SOH on unflagged tests", float(np.mean(np.abs(err[~flag])) * 100)
               if (~flag).any() else 0.0, 3.0, "% SOH", "<=", "0 when every test is flagged (none is judged)"),
        Metric("leave-one-format-out: share of tests flagged", float(flag.mean()), None, "1", "info",
               "the other format's overpotentials sit outside the training range: the model says it cannot judge"),
        Metric("leave-one-format-out: MAE of SOH, flagged included", float(np.mean(np.abs(err)) * 100), None, "% SOH",
               "info", "what an unflagged model would have reported"),
        Metric("leave-one-format-out: SOH estimates inside [0, 1.2]", float(np.mean((pred >= 0) & (pred <= 1.2))), 1.0,
               "1", ">=", "never an impossible SOH"),
    ]
    fig, axes = _fig(9, 3.6, 2)
    axes[0].plot(y * 100, within[0][2]["pred"] * 100, "o", ms=3, label="cylindrical, in domain")
    out = ~within[0][2]["in_domain"]
    axes[0].plot(y[out] * 100, within[0][2]["pred"][out] * 100, "rx", ms=5, label="flagged")
    axes[0].plot([60, 95], [60, 95], "k-", lw=0.6)
    axes[0].set_xlabel("measured SOH [%]")
    axes[0].set_ylabel("held-out estimate [%]")
    axes[0].set_title("Within a format: cylindrical 2.1 Ah, each cell held out", fontsize=9)
    axes[0].legend(fontsize=7)
    yt = np.concatenate([yl[qn == 20.0], yl[qn == 68.0]])
    axes[1].plot(yt[~flag] * 100, pred[~flag] * 100, "o", ms=3, label="other format, in domain")
    axes[1].plot(yt[flag] * 100, pred[flag] * 100, "rx", ms=4, label="other format, flagged")
    axes[1].plot([60, 95], [60, 95], "k-", lw=0.6)
    axes[1].set_xlabel("measured SOH [%]")
    axes[1].set_ylabel("leave-one-format-out estimate [%]")
    axes[1].set_title("Across formats: LFP 20 Ah <-> 68 Ah, the other held out", fontsize=9)
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    header = ["split", "tests", "MAE all [% SOH]", "constant (training mean) MAE [% SOH]", "share flagged",
              "MAE in domain [% SOH]"]
    return CaseResult(metrics, [fig], {"lofo_soh_estimate": Variable(pred, "1", "Leave-one-format-out SOH estimate", ("test",)),
                                       "lofo_flagged": Variable(flag.astype(float), "1", "Outside the applicability domain", ("test",))},
                      tables=[("Pulse screening: held-out error and applicability domain", header, table)],
                      notes="Domain: Hotelling T^2 in the principal components keeping 99 % of the standardised "
                            "training variance, residual Q, and the share of features outside the training range; "
                            "limits are 95 % quantiles over held-out folds of the training cells. LFP features are "
                            "overpotentials relative to each test's own rest voltage (format-independent at equal "
                            "C-rate). The LFP source has no physical cell id: a test (one measured capacity) is the "
                            "group, so within-format folds may share a physical cell.")


# --------------------------------------------------------------------------------------------


#: Capacity histories the forecast protocol runs on: (data set, file, cycle column, capacity
#: column, end-of-life capacity [Ah] or None for 80 % of the initial, reference capacity [Ah] or
#: None, cell type).
FORECAST_SETS = (
    ("NASA PCoE", "nasa_pcoe_capacity.csv", "discharge_index", "capacity_Ah", None, None, ""),
    ("CALCE CS2", "calce_cs2_capacity.csv", "cycle", "discharge_capacity_Ah", None, None, ""),
    ("Baumhoefer 2014", "baumhofer2014_capacity.csv", "cycle", "capacity_Ah", None, None, ""),
    ("HUST LFP", "hust_lfp_capacity.csv", "cycle", "capacity_Ah", None, None, "A123 APR18650M1A"),
    ("Tongji", "tongji_capacity.csv", "cycle", "capacity_Ah", None, None, ""),
    # the data set's own end of life: 0.88 Ah, 80 % of the A123 cells' 1.1 Ah nominal
    ("MIT-Severson", "mit_severson_capacity.csv", "cycle", "capacity_Ah", 0.88, 1.1, "A123 APR18650M1A"),
)


def _drop_outliers(q, frac=0.05):
    """Points more than ``frac`` of the initial capacity off the running median of 9 (cycler glitches)."""
    k = 9
    if q.size < k:
        return np.ones(q.size, bool)
    pad = k // 2
    qp = np.concatenate([np.full(pad, q[0]), q, np.full(pad, q[-1])])
    med = np.median(np.lib.stride_tricks.sliding_window_view(qp, k), axis=1)
    return np.abs(q - med) <= frac * float(np.median(q[:3]))


def forecast_histories(quick: bool = False):
    """Every shipped capacity history as :class:`batterylab.grading.protocol.History`.

    Cycler glitches (points more than 5 % of the initial capacity off the running median of 9
    points, e.g. CALCE's outlier cycles) are dropped first. ``quick``: at most 8 cells per set.
    """
    import pandas as pd

    from ...grading.protocol import History

    out = []
    for name, file, ccol, qcol, eol, ref, kind in FORECAST_SETS:
        d = pd.read_csv(DATA / file)
        cells = list(dict.fromkeys(d.cell))
        if quick:
            cells = cells[:8]
        for c in cells:
            g = d[d.cell == c].sort_values(ccol)
            n, q = g[ccol].to_numpy(float), g[qcol].to_numpy(float)
            ok = np.isfinite(q) & (q > 0)
            n, q = n[ok], q[ok]
            keep = _drop_outliers(q)
            out.append(History(name, str(c), n[keep], q[keep], eol, ref, kind))
    return out


#: Targets of the forecast protocol at a 40 % fit window (issue #18): (comparison, target). Each
#: is checked against the target where it is met; where the measured value misses it, against a
#: regression floor just beyond the measured value, and the justification says the target is
#: NOT MET (it stays open). Measured with the shipped data (population forecast, no tuning on
#: the held-out parts): see PROTOCOL_FLOORS.
PROTOCOL_TARGETS = {
    "crossing_error_median": ("<=", 0.15, "median crossing-cycle error <= 15 %"),
    "share_within_3pp": (">=", 0.75, "capacity at the crossing within 3 points for >= 75 % of cells"),
    "share_better_than_naive": (">=", 0.75, "better than the straight line on >= 75 % of cells"),
    "coverage_pooled": (">=", 0.85, "the 95 % band covers >= 85 % of the held-out points (pooled)"),
    "half_width_ratio": ("<=", 2.0, "median half-width at the crossing <= 2 x the median absolute error"),
}
#: scheme -> metric -> (measured at 40 %, regression floor) where the target is not met.
PROTOCOL_FLOORS = {
    "leave-cells-out": {"share_within_3pp": (0.692, 0.65), "share_better_than_naive": (0.744, 0.70),
                        "coverage_pooled": (0.784, 0.74), "half_width_ratio": (2.14, 2.5)},
    # a prior from other chemistries does not describe a cell: worse than the straight line
    "leave-one-dataset-out": {"crossing_error_median": (0.424, 0.50), "share_within_3pp": (0.09, 0.05),
                              "share_better_than_naive": (0.165, 0.12), "coverage_pooled": (0.547, 0.50)},
}


def run_forecast_protocol(quick: bool) -> CaseResult:
    from ...io import Variable
    from ...grading.protocol import run_protocol, summarise

    hist = forecast_histories(False)  # every history, also in quick mode: fewer references change the result
    metrics, table, variables = [], [], {}
    schemes = ("leave-cells-out",) if quick else ("leave-cells-out", "leave-one-dataset-out")
    fractions = (0.4,) if quick else (0.2, 0.4, 0.6)
    fig, axes = _fig(5 * len(schemes), 3.8, len(schemes))
    for scheme in schemes:
        for frac in fractions:
            rows = run_protocol(hist, scheme=scheme, fit_fraction=frac, method="population")
            s = summarise(rows)
            s["half_width_ratio"] = s["half_width_median_pp"] / s["abs_error_median_pp"] if s["abs_error_median_pp"] > 0 else float("inf")
            tag = f"{scheme}, fit {frac:.0%}"
            for key, (cmp, target, why) in PROTOCOL_TARGETS.items():
                if frac == 0.4:
                    floor = PROTOCOL_FLOORS[scheme].get(key)
                    if floor is None:
                        tol, text = target, f"target: {why}"
                    else:
                        tol, text = floor[1], (f"target: {why}; NOT MET (measured {floor[0]:g}): checked at a regression "
                                               f"floor {floor[1]:g} so that a change for the worse fails")
                    if scheme == "leave-one-dataset-out":
                        text += "; references of other data sets (other chemistries) only"
                    metrics.append(Metric(f"{tag}: {key}", float(s[key]), tol, "1", cmp, text))
                    if key == "coverage_pooled":
                        metrics.append(Metric(f"{tag}: coverage_median", float(s["coverage_median"]), None, "1", "info",
                                              "median over cells of each cell's covered share"))
                else:
                    metrics.append(Metric(f"{tag}: {key}", float(s[key]), None, "1", "info",
                                          "reported beside the 40 % targets"))
            metrics.append(Metric(f"{tag}: forecasts that could not be made", float(s["n_failed"]), 0.0, "cells", "<=",
                                  "every shipped history must get a forecast"))
            metrics.append(Metric(f"{tag}: naive share within 3 points", float(s["naive_share_within_3pp"]), None, "1",
                                  "info", "the straight line through the last 20 % of the fit window"))
            metrics.append(Metric(f"{tag}: naive median crossing-cycle error", float(s["naive_crossing_error_median"]),
                                  None, "1", "info", ""))
            table.append((scheme, f"{frac:.0%}", s["n_crossing"], f"{s['crossing_error_median']:.3f}",
                          f"{s['naive_crossing_error_median']:.3f}", f"{s['share_within_3pp']:.2f}",
                          f"{s['naive_share_within_3pp']:.2f}", f"{s['share_better_than_naive']:.2f}",
                          f"{s['coverage_median']:.2f} / {s['coverage_pooled']:.2f}",
                          f"{s['naive_coverage_median']:.2f}", f"{s['half_width_median_pp']:.2f} / {s['abs_error_median_pp']:.2f}"))
            for ds in dict.fromkeys(r["dataset"] for r in rows):
                d = summarise([r for r in rows if r["dataset"] == ds])
                table.append((f"  {ds}", "", d["n_crossing"], f"{d['crossing_error_median']:.3f}",
                              f"{d['naive_crossing_error_median']:.3f}", f"{d['share_within_3pp']:.2f}",
                              f"{d['naive_share_within_3pp']:.2f}", f"{d['share_better_than_naive']:.2f}",
                              f"{d['coverage_median']:.2f} / {d['coverage_pooled']:.2f}", f"{d['naive_coverage_median']:.2f}",
                              f"{d['half_width_median_pp']:.2f} / {d['abs_error_median_pp']:.2f}"))
            if frac == 0.4:
                cr = [r for r in rows if r.get("counts")]
                err = np.array([r["capacity_error_pp"] for r in cr])
                nerr = np.array([r["naive_capacity_error_pp"] for r in cr])
                k = schemes.index(scheme)
                axes[k].plot(np.abs(nerr), np.abs(err), ".", ms=4, label=f"held-out cell ({err.size})")
                top = float(max(np.abs(nerr).max(), np.abs(err).max(), 3.0))
                axes[k].plot([0, top], [0, top], "k-", lw=0.6, label="as good as the straight line")
                axes[k].axhline(3.0, color="C3", lw=0.6, label="3-point target")
                axes[k].set_xlabel("|capacity error at the 80 % crossing|,\nstraight line [percentage points]")
                axes[k].set_ylabel("population forecast [percentage points]")
                axes[k].set_title(f"{scheme}, fit on the first 40 %", fontsize=9)
                axes[k].legend(fontsize=7, loc="upper left")
                key = scheme.replace("-", "_")
                variables[f"{key}/capacity_error_pp"] = Variable(err, "1", "Capacity error at the measured crossing [percentage points]", ("cell",))
                variables[f"{key}/naive_capacity_error_pp"] = Variable(nerr, "1", "Straight line: capacity error at the crossing [percentage points]", ("cell",))
    fig.tight_layout()
    header = ["scheme", "fit", "cells crossing", "crossing error (median)", "naive", "within 3 pp", "naive",
              "better than naive", "band coverage median / pooled", "naive coverage", "half-width / |error| at crossing [pp]"]
    return CaseResult(metrics, [fig], variables, tables=[("Forecast protocol: held-out cells and data sets", header, table)],
                      notes="Population forecast (batterylab.grading.trajectory): the held-out cell's early history "
                            "aligned to the full histories of the other cells (leave-cells-out: its own data set; "
                            "leave-one-dataset-out: the other data sets), weighted mixture of their futures with its "
                            "95 % band, calibrated on the references' own forecasts at the same stage of life. Naive: straight line through the last 20 % of the fit window. End of life: "
                            "80 % of the initial capacity (median of the first three points); MIT-Severson 0.88 Ah. "
                            "Quick mode: leave-cells-out at 40 % only. The per-cell back-test selection (forecast_model "
                            "'auto' without a batch population) is compared in benchmarks/bench_forecast_protocol.py. Coverage: 'median' is the median over cells of "
                            "each cell's share of covered points, 'pooled' the share of all held-out points.")


#: Check-ups of the Weng 2021 cells the mechanism forecast is fitted on (the first four, the same for every cell).
MECHANISM_FIT_CHECKUPS = 4


def run_mechanism_forecast(quick: bool) -> CaseResult:
    import pandas as pd

    from ...io import Variable
    from ...grading.mechanisms import mechanism_forecast
    from ...grading.ocv_fit import FARADAY
    from ...grading.protocol import History

    tab = pd.read_csv(DATA / "umich_weng2021_esoh_summary.csv")
    k = MECHANISM_FIT_CHECKUPS
    rows, table, fit_err, cross = [], [], [], []
    fig, axes = _fig(10, 3.8, 2)
    cells = list(dict.fromkeys(tab.cellid))
    for c in cells[:10] if quick else cells:
        g = tab[tab.cellid == c].sort_values("cycle_number")
        n, q20 = g.cycle_number.to_numpy(float), g.C20_loss.to_numpy(float)  # C/20 capacity, fraction remaining
        ref = g.iloc[0]
        bol = {"Cp_Ah": ref.Cp, "Cn_Ah": ref.Cn, "n_li_Ah": ref.n_li * FARADAY / 3600}
        fc = mechanism_forecast(n[:k], 1 - g.LLI.to_numpy()[:k], g.LAM_PE.to_numpy()[:k], g.LAM_NE.to_numpy()[:k],
                                bol_reference=bol, chemistry="nmc111-graphite")
        grid = np.linspace(n[0], 1.6 * n[-1], 160)
        st, stn = fc.state(grid), fc.state(n)
        c0 = stn["capacity_Ah"][0]
        mech, mech_grid = stn["capacity_Ah"] / c0, st["capacity_Ah"] / c0
        fit_err.append(float(np.max(np.abs(mech[:k] - q20[:k])) * 100))
        slope = (q20[k - 1] - q20[k - 2]) / (n[k - 1] - n[k - 2])  # the straight line through the last two fitted
        line = q20[k - 1] + slope * (n - n[k - 1])
        for j in range(k, n.size):
            rows.append((c, n[j], q20[j], mech[j], line[j]))
        # the 80 % crossings, as the forecast protocol defines them (relative capacities: threshold 0.8)
        meas_x = History("Weng 2021", str(c), n, q20, 0.8).crossing()
        mech_x = History("Weng 2021", str(c), grid, mech_grid, 0.8).crossing()
        line_x = n[k - 1] + (0.8 - q20[k - 1]) / slope if slope < 0 else float("inf")
        if np.isfinite(meas_x) and meas_x > n[k - 1]:
            cross.append((meas_x, mech_x, line_x, fc.limiting_change_cycle))
        table.append((int(c), f"{fc.params['LLI'][1]:.2f}", f"{fc.params['LAM_PE'][1]:.2f}", f"{fc.params['LAM_NE'][1]:.2f}",
                      f"{meas_x:.0f}", f"{mech_x:.0f}", f"{fc.limiting_change_cycle:.0f}"))
        if c in cells[:3]:
            axes[0].plot(n, q20, "o", color=f"C{cells.index(c)}", ms=4, label=f"cell {c}, measured C/20")
            axes[0].plot(grid, mech_grid, "-", color=f"C{cells.index(c)}", lw=1, label="mechanism forecast" if c == cells[0] else None)
            axes[0].axvline(n[k - 1], color="0.6", lw=0.6)
    r = np.array([x[2:] for x in rows])
    e_mech, e_line = np.abs(r[:, 1] - r[:, 0]), np.abs(r[:, 2] - r[:, 0])
    better = float(np.mean(e_mech < e_line))
    cr = np.array(cross)
    err_mech = np.abs(cr[:, 1] - cr[:, 0]) / cr[:, 0]
    err_line = np.abs(cr[:, 2] - cr[:, 0]) / cr[:, 0]
    lead = cr[:, 3] / cr[:, 0]
    axes[0].set_xlabel("cycle")
    axes[0].set_ylabel("C/20 capacity / beginning of life")
    axes[0].legend(fontsize=7)
    axes[0].set_title(f"fitted on the first {k} check-ups (grey line)", fontsize=9)
    axes[1].plot(e_line * 100, e_mech * 100, ".", ms=5)
    top = float(max(e_line.max(), e_mech.max()) * 100)
    axes[1].plot([0, top], [0, top], "k-", lw=0.6)
    axes[1].set_xlabel("|error|, straight line [percentage points]")
    axes[1].set_ylabel("|error|, mechanism forecast [pp]")
    fig.tight_layout()
    metrics = [
        Metric("later check-ups where the mechanism forecast is closer than the straight line", better, 0.75, "1", ">=",
               f"the better-than-naive target of the forecast protocol; {len(rows)} (cell, check-up) pairs after the fit window"),
        Metric("MAE of the C/20 capacity at later check-ups, mechanism forecast", float(e_mech.mean() * 100), None,
               "percentage points", "info", "the knee's collapse (to ~0.4 of the initial capacity by cycle 468) is not foreseen"),
        Metric("MAE of the C/20 capacity at later check-ups, straight line", float(e_line.mean() * 100), None,
               "percentage points", "info", ""),
        Metric("max |model - measured C/20 capacity| at the fitted check-ups", float(max(fit_err)), 3.0,
               "percentage points", "<=", "the OCP model rebuilt from the published modes, against the measured "
               "capacity: measured 2.7 pp at most over the 40 cells (the published fits reach 90 mV RMSE at cycle 3), "
               "so a forecast error below ~3 pp is within what the modes themselves carry"),
        Metric("median 80 % crossing-cycle error, mechanism forecast", float(np.median(err_mech)), None, "1", "info",
               f"{cr.shape[0]} cells crossing after the fit window"),
        Metric("median 80 % crossing-cycle error, straight line", float(np.median(err_line)), None, "1", "info", ""),
        Metric("median (projected change of limiting mechanism) / (measured 80 % crossing)", float(np.median(lead[np.isfinite(lead)])),
               None, "1", "info", "above 1: the projected lithium margin reaches zero after the measured knee (the "
               "accelerating LAM_NE is foreseen, its pace is not)"),
    ]
    header = ["cell", "b (LLI)", "b (LAM_PE)", "b (LAM_NE)", "measured 80 % crossing", "forecast 80 % crossing",
              "margin reaches 0"]
    return CaseResult(metrics, [fig], {"capacity_error_pp": Variable(np.column_stack([e_mech, e_line]) * 100, "1",
                                                                      "|C/20 capacity error| (mechanism, line) [pp]",
                                                                      ("pair", "method"))},
                      tables=[("Mechanism forecast per cell", header, table)],
                      notes=f"Weng et al. 2021 cells: published LLI, LAM_PE, LAM_NE of the first {k} check-ups (cycles 3-262) "
                            "fitted per mode as a (n - n_0)^b; the electrode state rebuilt from the cell's own beginning-of-"
                            "life Cp, Cn, n_Li with the U. Michigan half-cell OCPs; C/20 capacity between 3.0 and 4.2 V "
                            "against the measured C/20 capacity of the later check-ups. Straight line: through the last two "
                            "fitted check-ups. Quick mode: 10 cells.")


def run_forecast(quick: bool) -> CaseResult:
    import pandas as pd

    from ...io import Variable
    from ...grading.forecast import holdout_error

    sets = [("NASA PCoE", "nasa_pcoe_capacity.csv", "discharge_index", "capacity_Ah"),
            ("CALCE CS2", "calce_cs2_capacity.csv", "cycle", "discharge_capacity_Ah"),
            ("Baumhoefer 2014", "baumhofer2014_capacity.csv", "cycle", "capacity_Ah")]
    metrics, table = [], []
    fig, axes = _fig(11, 4.4, 3)
    variables = {}
    for ax, (name, file, ccol, qcol) in zip(axes, sets):
        d = pd.read_csv(DATA / file)
        cells = list(dict.fromkeys(d.cell))
        if quick and len(cells) > 3:
            cells = cells[:3]
        reuse, second, allp, cover = [], [], [], []
        for i, c in enumerate(cells):
            g = d[d.cell == c]
            n, q = g[ccol].to_numpy(float), g[qcol].to_numpy(float)
            r = holdout_error(n, q, fit_fraction=0.4)
            q0 = float(np.median(q[:3]))
            rel = (r["prediction"] - r["capacity_test"]) / q0
            for thr, bucket in ((0.8, reuse), (0.6, second), (0.0, allp)):
                m = r["capacity_test"] >= thr * q0
                if m.any():
                    bucket.append(float(np.sqrt(np.mean(rel[m] ** 2))))
            m6 = r["capacity_test"] >= 0.6 * q0
            if m6.any():
                cover.append(float(np.mean(np.abs(r["prediction"] - r["capacity_test"])[m6] <= 1.96 * r["sigma"][m6])))
            if i < 3:
                ax.plot(n, q, ".", ms=2, color=f"C{i}", label=f"cell {c}: measured")
                ax.plot(r["cycle_test"], r["prediction"], "-", color=f"C{i}", lw=1)
                # a capacity cannot be negative: the band is drawn clipped at 0 Ah
                ax.fill_between(r["cycle_test"], np.clip(r["prediction"] - 1.96 * r["sigma"], 0.0, None),
                                r["prediction"] + 1.96 * r["sigma"], color=f"C{i}", alpha=0.15)
        ax.plot([], [], "k-", lw=1, label="forecast from the first 40 %")
        ax.fill_between([], [], [], color="k", alpha=0.15, label="95 % band")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("cycle [-]")
        ax.set_ylabel("capacity [Ah]")
        ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.2))  # below: the band fills the axes
        med = lambda v: float(np.median(v)) if v else float("nan")  # noqa: E731
        metrics.append(Metric(f"{name}: median RMSE of the forecast while capacity >= 80 % (fit on first 40 %)",
                              med(reuse) * 100, 5.0, "% of initial capacity", "<=",
                              "within the reuse band the fade is smooth enough for a power law to extrapolate"))
        metrics.append(Metric(f"{name}: median RMSE while capacity >= 60 % (end of second life)", med(second) * 100, None,
                              "% of initial capacity", "info", "knees after the fitted window are not predictable "
                                                                "from capacity alone (see the knee-risk flag)"))
        metrics.append(Metric(f"{name}: median RMSE over all held-out cycles", med(allp) * 100, None,
                              "% of initial capacity", "info", ""))
        metrics.append(Metric(f"{name}: share of held-out points (>= 60 %) inside the 95 % band", med(cover), None, "1",
                              "info", "the band includes a back-test model-form term; it misses knees"))
        table.append((name, len(cells), f"{med(reuse) * 100:.1f}", f"{med(second) * 100:.1f}", f"{med(allp) * 100:.1f}",
                      f"{med(cover):.2f}"))
        variables[f"{name.split()[0].lower()}/rmse_reuse_band"] = Variable(np.array(reuse), "1", "Forecast RMSE / initial capacity, capacity >= 80 %", ("cell",))
    fig.suptitle("Capacity-history forecast: fit on the first 40 % of cycles, predict the rest (at most 3 cells per set)", fontsize=10)
    fig.tight_layout()
    header = ["data set", "cells", "RMSE >= 80 % [%]", "RMSE >= 60 % [%]", "RMSE all [%]", "95 % band coverage (>= 60 %)"]
    return CaseResult(metrics, [fig], variables, tables=[("Capacity-history forecast: fit first 40 % of cycles, predict the rest", header, table)],
                      notes="Power-law fade Q0 (1 - a n^b) fitted with a soft-L1 loss; uncertainty from the parameter "
                            "covariance, the residual scatter and a back-test model-form term.")


CASES = [
    Case(
        name="grading_ocv_synthetic",
        title="Degradation modes from C/20 curves: synthetic cells with known LLI, LAM_PE, LAM_NE",
        capability="second-life grading",
        reference="known LLI / LAM of synthetic curves from the half-cell OCP model (Weng et al. 2021 OCPs, "
                  "doi:10.1016/j.joule.2021.09.015)",
        validity="NMC111/graphite OCPs, 3.0-4.2 V, LLI 0-30 %, LAM 0-20 %, 2 mV noise",
        run=run_ocv_synthetic,
    ),
    Case(
        name="grading_ocv_pybamm",
        title="Degradation modes from C/20 curves: PyBaMM SPM cells with known LLI, LAM_PE, LAM_NE",
        capability="second-life grading",
        reference="PyBaMM SPM with the Mohtat2020 parameter set (Mohtat et al. 2020, doi:10.1149/1945-7111/aba5d1; "
                  "Sulzer et al. 2021, doi:10.5334/jors.309)",
        validity="NMC532/graphite, C/20 charge 3.0-4.2 V at 298 K, LLI 0-25 %, LAM 0-15 %",
        run=run_ocv_pybamm,
    ),
    Case(
        name="grading_ocv_umich",
        title="Degradation modes from C/20 curves: U. Michigan cells against the published eSOH table",
        capability="second-life grading",
        reference="Weng et al. 2021, Joule 5:2971, doi:10.1016/j.joule.2021.09.015 (fast-formation data, eSOH table)",
        validity="NMC111/graphite pouch cells 9, 11, 29 at cycles 3-262; rows with published fit RMSE < 20 mV",
        run=run_ocv_umich,
    ),
    Case(
        name="grading_pulse_screening",
        title="Rapid pulse screening: cross-validated SOH error on real retired cells",
        capability="second-life grading",
        reference="Tao et al. (2025), retired cylindrical 2.1 Ah cells, pulse tests at SOC 5-50 % with measured capacity",
        validity="the training cell type (12 cells, SOH 0.61-0.92); other cell types need retraining",
        run=run_pulse,
    ),
    Case(
        name="grading_pulse_domain",
        title="Pulse screening knows its domain: within-format and leave-one-format-out, with flags",
        capability="second-life grading",
        reference="Tao et al. (2025) retired cylindrical 2.1 Ah cells; Tao, Xia, Zou, retired LFP prismatic 20 Ah and "
                  "68 Ah cells (doi:10.5281/zenodo.21008092)",
        validity="pulse tests at SOC 10-50 %; a format not in the training set is flagged, not judged",
        run=run_pulse_domain,
    ),
    Case(
        name="grading_forecast_protocol",
        title="Capacity forecasts on held-out cells and data sets: population prior against the straight line",
        capability="second-life grading",
        reference="measured histories: NASA PCoE, CALCE CS2 (He et al. 2011), Baumhoefer et al. 2014, HUST (Ma et al. "
                  "2022), Tongji (Zhu et al. 2022), MIT-Severson (Severson et al. 2019)",
        validity="cells cycled at constant conditions to or past 80 % of their initial capacity",
        run=run_forecast_protocol,
    ),
    Case(
        name="grading_mechanism_forecast",
        title="Mechanism forecast: degradation modes of four check-ups projected to later C/20 capacities",
        capability="second-life grading",
        reference="Weng et al. 2021, Joule 5:2971 (U. Michigan NMC111/graphite pouch cells, published electrode-"
                  "specific SOH and measured C/20 capacities at diagnostic cycles)",
        validity="cells with C/20 check-ups; the knee's pace is not foreseen (see the crossing rows)",
        run=run_mechanism_forecast,
    ),
    Case(
        name="grading_history_forecast",
        title="Capacity-history forecast: fit the early cycles, predict the rest (NASA, CALCE, Baumhoefer)",
        capability="second-life grading",
        reference="Saha & Goebel 2007 (NASA PCoE); He et al. 2011, doi:10.1016/j.jpowsour.2011.08.040 (CALCE CS2); "
                  "Baumhoefer et al. 2014, doi:10.1016/j.jpowsour.2013.08.108",
        validity="power-law fade (forecast_model='power', not the default); reliable inside the reuse band "
                 "(capacity >= 80 %), not across knees: the default forecast is judged in grading_forecast_protocol",
        run=run_forecast,
    ),
]
