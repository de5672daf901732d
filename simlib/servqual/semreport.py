"""Text report of a fitted structural equation model, laid out as lavaan's summary.

lavaan's ``summary(fit, fit.measures = TRUE, standardized = TRUE)`` is the
output readers of SEM papers know: the test of the user and baseline models,
CFI/TLI, log-likelihoods and information criteria, RMSEA with its interval,
SRMR, then the parameter estimates grouped into latent variables,
regressions, covariances, intercepts and variances (residual terms marked
with a leading dot) and defined parameters. :func:`format_summary` prints the
same sections and numbers for a :class:`simlib.servqual.sem.SEMResult`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["format_summary"]


def _kv(label: str, value: Any, width: int = 54) -> str:
    if isinstance(value, float):
        txt = f"{value:.3f}"
    else:
        txt = str(value)
    return f"  {label}{' ' * max(1, width - 2 - len(label) - len(txt))}{txt}"


def _num(v: float, blank_zero_se: bool = False) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return " " * 9
    return f"{v:9.3f}"


def _section(title: str, df: pd.DataFrame, standardized: bool, name_of, group_by: bool,
             dot_of) -> list[str]:
    if df.empty:
        return []
    head = "                   Estimate  Std.Err  z-value  P(>|z|)"
    if standardized:
        head += "   Std.lv  Std.all"
    lines = ["", f"{title}:", head]
    last = None
    for _, r in df.iterrows():
        if group_by and r["lhs"] != last:
            lead = dot_of(r["lhs"]) if r["op"] == "~~" else ""
            lines.append(f"  {lead}{r['lhs']} {r['op']}")
            last = r["lhs"]
        label = name_of(r)
        cells = f"{r['est']:9.3f}"
        if r["se"] > 0:
            cells += f"{r['se']:9.3f}{r['z']:9.3f}{r['pvalue']:9.3f}"
        else:
            cells += " " * 27
        if standardized:
            cells += f"{_num(r['std_lv'])}{_num(r['std_all'])}"
        indent = "    " if group_by else "   "
        lines.append(f"{indent}{label:<{18 - len(indent)}}{cells}")
    return lines


def format_summary(res, fit_measures: bool = True, standardized: bool = True) -> str:
    """The lavaan-style summary text of a fitted :class:`~simlib.servqual.sem.SEMResult`."""
    fm = res.fit_measures()
    status = "ended normally" if res.converged else "did NOT converge"
    out = [f"simlib sem (lavaan conventions) {status} after {res.n_iter} iterations", "",
           _kv("Estimator", res.estimator),
           _kv("Optimization method", res.raw.method.upper()),
           _kv("Number of model parameters", fm["npar"]), ""]
    if res.n_groups > 1:
        out.append(_kv("Number of observations per group:", ""))
        for lab, m in zip(res.group_labels, res.moments, strict=True):
            out.append(_kv(f"  {lab}", m.n))
    else:
        out.append(_kv("Number of observations", fm["ntotal"]))
    out += ["", "Model Test User Model:", "",
            _kv("Test statistic", fm["chisq"]), _kv("Degrees of freedom", fm["df"]),
            _kv("P-value (Chi-square)", fm["pvalue"])]
    if res.categorical is not None:
        return _wlsmv_summary(res, fm, out, fit_measures, standardized)
    robust = "chisq_scaled" in fm
    if robust:
        test = ("Yuan-Bentler (Mplus) scaled test (MLR)" if res.estimator == "MLR"
                else "Satorra-Bentler scaled test (MLM)")
        out += ["", f"  {test}:",
                _kv("Scaled test statistic", fm["chisq_scaled"]),
                _kv("Scaling correction factor", fm["chisq_scaling_factor"]),
                _kv("P-value (scaled)", fm["pvalue_scaled"])]
    if fit_measures:
        out += ["", "Model Test Baseline Model:", "",
                _kv("Test statistic", fm["baseline_chisq"]),
                _kv("Degrees of freedom", fm["baseline_df"]),
                _kv("P-value", fm["baseline_pvalue"]),
                "", "User Model versus Baseline Model:", "",
                _kv("Comparative Fit Index (CFI)", fm["cfi"]),
                _kv("Tucker-Lewis Index (TLI)", fm["tli"]),
                *([_kv("Scaled CFI / TLI", f"{fm['cfi_scaled']:.3f} / {fm['tli_scaled']:.3f}"),
                   _kv("Robust CFI / TLI", f"{fm['cfi_robust']:.3f} / {fm['tli_robust']:.3f}")]
                  if robust else []),
                "", "Loglikelihood and Information Criteria:", "",
                _kv("Loglikelihood user model (H0)", fm["logl"]),
                _kv("Loglikelihood unrestricted model (H1)", fm["unrestricted_logl"]), "",
                _kv("Akaike (AIC)", fm["aic"]), _kv("Bayesian (BIC)", fm["bic"]),
                _kv("Sample-size adjusted Bayesian (SABIC)", fm["bic2"]),
                "", "Root Mean Square Error of Approximation:", "",
                _kv("RMSEA", fm["rmsea"]),
                _kv("90 Percent confidence interval - lower", fm["rmsea_ci_lower"]),
                _kv("90 Percent confidence interval - upper", fm["rmsea_ci_upper"]),
                _kv("P-value H_0: RMSEA <= 0.050", fm["rmsea_pvalue"]),
                *([_kv("Scaled RMSEA", fm["rmsea_scaled"]),
                   _kv("Robust RMSEA", fm["rmsea_robust"])] if robust else []),
                "", "Standardized Root Mean Square Residual:", "",
                _kv("SRMR", fm["srmr"])]
    if res.improper:
        out += ["", "Improper solution:"] + [f"  {p}" for p in res.improper]
    out += ["", "Parameter Estimates:", "",
            _kv("Standard errors", "Bootstrap" if res.boot is not None
                else "Robust.sem" if robust else "Standard"),
            *([_kv("Number of requested bootstrap draws", len(res.boot) + res.boot_failed),
               _kv("Number of successful bootstrap draws", len(res.boot))]
              if res.boot is not None else []), _kv("Information", "Expected"),
            _kv("Information saturated (h1) model", "Structured")]
    est = res.estimates(standardized=standardized)
    lv = set(res.roles.lv)
    endo_lv = {r.lhs for r in res.rows if r.op == "~"} | {
        r.rhs for r in res.rows if r.op == "=~"}
    exo = set(res.roles.ov_x) | (lv - endo_lv)

    def dot(v: str) -> str:
        return "" if v in exo else "."

    def plain(r) -> str:
        lab = f" ({r['label']})" if r["label"] else ""
        return f"{r['rhs']}{lab}"

    def dotted(r) -> str:
        lab = f" ({r['label']})" if r["label"] else ""
        return f"{dot(r['rhs'])}{r['rhs']}{lab}"

    def own(r) -> str:
        lab = f" ({r['label']})" if r["label"] else ""
        return f"{dot(r['lhs'])}{r['lhs']}{lab}"

    groups = range(res.n_groups)
    for g in groups:
        e = est[est["group"] == g + 1] if res.n_groups > 1 else est
        if res.n_groups > 1:
            out += ["", f"Group {g + 1} [{res.group_labels[g]}]:"]
        out += _section("Latent Variables", e[e["op"] == "=~"], standardized, plain, True, dot)
        out += _section("Regressions", e[e["op"] == "~"], standardized, plain, True, dot)
        cov = e[(e["op"] == "~~") & (e["lhs"] != e["rhs"])]
        out += _section("Covariances", cov, standardized, dotted, True, dot)
        out += _section("Intercepts", e[e["op"] == "~1"], standardized, own, False, dot)
        var = e[(e["op"] == "~~") & (e["lhs"] == e["rhs"])]
        out += _section("Variances", var, standardized, own, False, dot)
    dfn = est[est["op"] == ":="]
    if not dfn.empty:
        out += _section("Defined Parameters", dfn, standardized,
                        lambda r: f"{r['lhs']}", False, dot)
    return "\n".join(out) + "\n"


def _wlsmv_summary(res, fm: dict, out: list[str], fit_measures: bool,
                   standardized: bool) -> str:
    """The WLSMV variant: scaled-shifted tests, no likelihood, intercepts of continuous items
    and a thresholds section."""
    out += ["", "  Scaled-shifted test (WLSMV):",
            _kv("Scaled test statistic", fm["chisq_scaled"]),
            _kv("Degrees of freedom", fm["df_scaled"]),
            _kv("P-value (scaled)", fm["pvalue_scaled"]),
            _kv("Scaling correction factor", fm["chisq_scaling_factor"]),
            _kv("Shift parameter", fm["chisq_shift"])]
    if fit_measures:
        out += ["", "Model Test Baseline Model:", "",
                _kv("Test statistic", fm["baseline_chisq"]),
                _kv("Degrees of freedom", fm["baseline_df"]),
                _kv("P-value", fm["baseline_pvalue"]),
                _kv("Scaled test statistic", fm["baseline_chisq_scaled"]),
                "", "User Model versus Baseline Model:", "",
                _kv("Comparative Fit Index (CFI)", fm["cfi"]),
                _kv("Tucker-Lewis Index (TLI)", fm["tli"]),
                _kv("Scaled CFI / TLI", f"{fm['cfi_scaled']:.3f} / {fm['tli_scaled']:.3f}"),
                _kv("Robust CFI / TLI", f"{fm['cfi_robust']:.3f} / {fm['tli_robust']:.3f}"),
                "", "Root Mean Square Error of Approximation:", "",
                _kv("RMSEA", fm["rmsea"]),
                _kv("90 Percent confidence interval - lower", fm["rmsea_ci_lower"]),
                _kv("90 Percent confidence interval - upper", fm["rmsea_ci_upper"]),
                _kv("P-value H_0: RMSEA <= 0.050", fm["rmsea_pvalue"]),
                _kv("Scaled RMSEA", fm["rmsea_scaled"]),
                _kv("Robust RMSEA", fm["rmsea_robust"]),
                "", "Standardized Root Mean Square Residual:", "",
                _kv("SRMR", fm["srmr"])]
    if res.improper:
        out += ["", "Improper solution:"] + [f"  {p}" for p in res.improper]
    out += ["", "Parameter Estimates:", "", _kv("Parameterization", "Delta"),
            _kv("Standard errors", "Robust.sem"), _kv("Information", "Expected"),
            _kv("Information saturated (h1) model", "Unstructured")]
    e = res.estimates(standardized=standardized)

    def plain(r) -> str:
        lab = f" ({r['label']})" if r["label"] else ""
        return f"{r['rhs']}{lab}"

    def own(r) -> str:
        lab = f" ({r['label']})" if r["label"] else ""
        return f"{r['lhs']}{lab}"

    def none(v: str) -> str:
        return ""

    out += _section("Latent Variables", e[e["op"] == "=~"], standardized, plain, True, none)
    out += _section("Regressions", e[e["op"] == "~"], standardized, plain, True, none)
    out += _section("Covariances", e[(e["op"] == "~~") & (e["lhs"] != e["rhs"])],
                    standardized, plain, True, none)
    # continuous items beside ordinal ones have free intercepts (their means)
    out += _section("Intercepts", e[e["op"] == "~1"], standardized, own, False, none)
    out += _section("Thresholds", e[e["op"] == "|"], standardized,
                    lambda r: f"{r['lhs']}|{r['rhs']}", False, none)
    out += _section("Variances", e[(e["op"] == "~~") & (e["lhs"] == e["rhs"])],
                    standardized, own, False, none)
    dfn = e[e["op"] == ":="]
    if not dfn.empty:
        out += _section("Defined Parameters", dfn, standardized,
                        lambda r: f"{r['lhs']}", False, none)
    return "\n".join(out) + "\n"
