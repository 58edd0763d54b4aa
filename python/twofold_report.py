#!/usr/bin/env python3
"""Writes OUTDIR/report.html: one self-contained page for a twofold output folder.

    python3 twofold_report.py OUTDIR

Reads the maps (.npy [H, W], float32 or complex64), summary.json and, when present,
calibration.json that `twofold demo` / `twofold sample` wrote, draws every figure with
matplotlib (Agg) and embeds it as a base64 PNG data URI: no external files, no
network, no JavaScript. The page is written to a temporary file in OUTDIR and renamed
into place, so a reader never sees half a report.

Exit codes (docs/design.md §5): 0 written; 2 bad input (missing folder, missing or corrupt
summary.json, corrupt calibration.json or map); 3 missing dependency (numpy,
matplotlib) or failure to write.
"""

import html
import json
import math
import os
import sys
import tempfile

from twofold_report_base import (BAD_INPUT, RUNTIME_FAILURE, BadInput, fail, figure_html, finite_max, format_value,
                                 np, plt, png_data_uri)
from twofold_report_eeg import eeg_section


# ---- reading -------------------------------------------------------------------------

def read_json(path, what):
    try:
        with open(path, "r", encoding="utf-8") as f:
            value = json.load(f)
    except OSError as e:
        raise BadInput("cannot read %s '%s': %s" % (what, path, e.strerror or e))
    except (ValueError, UnicodeDecodeError) as e:
        raise BadInput("%s '%s' is not valid JSON: %s" % (what, path, e))
    if not isinstance(value, dict):
        raise BadInput("%s '%s' is not a JSON object" % (what, path))
    return value


def read_map(folder, name):
    """The [H, W] array OUTDIR/name.npy, or None when the file does not exist."""
    path = os.path.join(folder, name + ".npy")
    if not os.path.exists(path):
        return None
    try:
        a = np.load(path, allow_pickle=False)
    except Exception as e:  # numpy raises ValueError/OSError/EOFError for truncated or foreign files
        raise BadInput("map '%s' is not a readable .npy file: %s" % (path, e))
    if a.ndim != 2 or a.size == 0:
        raise BadInput("map '%s' has shape %s; expected [H, W]" % (path, list(a.shape)))
    if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.complexfloating)):
        raise BadInput("map '%s' has dtype %s; expected float or complex" % (path, a.dtype))
    return a


def std_of(variance):
    return None if variance is None else np.sqrt(np.maximum(variance.astype(np.float64), 0.0))


# ---- figures -------------------------------------------------------------------------

def map_figure(values, title, cmap, unit, vmax=None):
    fig, ax = plt.subplots(figsize=(3.4, 3.0))
    vmax = finite_max(values) if vmax is None else vmax
    im = ax.imshow(values, cmap=cmap, vmin=0.0, vmax=vmax if vmax > 0 else 1.0, interpolation="nearest")
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    bar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    bar.set_label(unit, fontsize=8)
    bar.ax.tick_params(labelsize=7)
    return png_data_uri(fig)


def coverage_axes(fig, ax, ylabel, title):
    """The unit square of a coverage curve (nominal p against the fraction inside), as a data URI."""
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("nominal coverage p")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3)
    return png_data_uri(fig)


def coverage_figure(cov):
    nominal = np.asarray(cov.get("nominal", []), dtype=float)
    fig, ax = plt.subplots(figsize=(4.2, 3.6))
    ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", label="calibrated (diagonal)")
    for key, label, colour in (("quantile", "empirical quantile interval", "#b5367a"),
                               ("gaussian", "Gaussian mean ± zσ", "#2c7fb8")):
        if key in cov:
            emp = np.asarray(cov[key], dtype=float)
            if emp.shape != nominal.shape:
                raise BadInput("calibration.json: coverage.%s has %d values for %d nominal levels"
                               % (key, emp.size, nominal.size))
            ax.plot(nominal, emp, marker="o", markersize=3, color=colour, label=label)
    return coverage_axes(fig, ax, "fraction of true values inside", "Coverage of central p-intervals")


def predictive_coverage_figure(pc):
    """Posterior predictive coverage of held-out measurements: the empirical curve with
    ±2 standard errors against the diagonal, what a calibrated model gives."""
    nominal = np.asarray(pc.get("nominal", []), dtype=float)
    arrays = {}
    for key in ("quantile", "standard_error"):
        arrays[key] = np.asarray(pc.get(key, []), dtype=float)
        if arrays[key].shape != nominal.shape:
            raise BadInput("calibration.json: predictive_coverage.%s has %d values for %d nominal levels"
                           % (key, arrays[key].size, nominal.size))
    emp, se = arrays["quantile"], arrays["standard_error"]
    fig, ax = plt.subplots(figsize=(4.2, 3.6))
    ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", label="calibrated (diagonal)")
    ax.fill_between(nominal, emp - 2 * se, emp + 2 * se, color="#1b9e77", alpha=0.25, linewidth=0)
    ax.plot(nominal, emp, marker="o", markersize=3, color="#1b9e77",
            label="held-out measurements (± 2 SE over %s)" % pc.get("groups", "?"))
    return coverage_axes(fig, ax, "fraction of held-out values inside", "Predictive coverage in measurement space")


def residual_figure(residuals):
    r = np.asarray(residuals, dtype=float)
    r = r[np.isfinite(r)]
    fig, ax = plt.subplots(figsize=(4.2, 3.6))
    ax.hist(r, bins=max(5, min(50, int(math.sqrt(max(r.size, 1))))), color="#5b4a9b", alpha=0.85)
    ax.axvline(1.0, color="#e3582b", linewidth=2, label="expected value 1")
    ax.set_xlabel("‖A x_k − y‖² / (m σ_y²)")
    ax.set_ylabel("draws")
    ax.set_title("Normalised residual of %d draws" % r.size, fontsize=10)
    ax.legend(fontsize=7)
    return png_data_uri(fig)


def binomial_interval(n, p, level=0.99):
    """Central `level` interval of Binomial(n, p), exactly (log-space pmf summed)."""
    if n <= 0:
        return 0.0, 0.0
    k = np.arange(n + 1)
    lg = np.array([math.lgamma(i + 1) for i in range(n + 1)])
    logpmf = lg[n] - lg - lg[::-1] + k * math.log(max(p, 1e-300)) + (n - k) * math.log(max(1 - p, 1e-300))
    cdf = np.cumsum(np.exp(logpmf - logpmf.max()))
    cdf /= cdf[-1]
    tail = (1 - level) / 2
    return float(np.searchsorted(cdf, tail)), float(np.searchsorted(cdf, 1 - tail))


def sbc_figure(test, L, K, band):
    ranks = np.asarray(test.get("ranks", []), dtype=int)
    if ranks.size and (ranks.min() < 0 or ranks.max() > K):
        raise BadInput("calibration.json: sbc test '%s' has ranks outside 0..%d" % (test.get("name"), K))
    n = ranks.size if ranks.size else L
    target = int(min(K + 1, max(5, n // 20), 32))  # a few dozen draws per bin keep the band informative
    # Prefer equal bins (a divisor of K + 1); otherwise each bin's expectation follows its width.
    bins = max((b for b in range(1, target + 1) if (K + 1) % b == 0), default=1)
    if bins < min(target, 5):
        bins = target
    edges = np.linspace(0, K + 1, bins + 1).round().astype(int)
    counts = np.histogram(ranks, bins=edges)[0]
    widths = np.diff(edges)
    diff = test.get("ecdf_difference")
    with_ecdf = isinstance(band, dict) and isinstance(diff, list) and len(diff) == len(band.get("z", [])) > 0
    if with_ecdf:
        fig, (ax, ex) = plt.subplots(1, 2, figsize=(6.8, 2.9))
    else:
        fig, ax = plt.subplots(figsize=(3.6, 2.9))
    pointwise = np.array([binomial_interval(n, w / (K + 1)) for w in widths])
    ax.bar(edges[:-1], pointwise[:, 1] - pointwise[:, 0], bottom=pointwise[:, 0], width=widths, align="edge",
           color="0.85", linewidth=0, label="99% band")
    ax.hlines(n * widths / (K + 1), edges[:-1], edges[1:], color="0.35", linestyle="--", linewidth=1)
    ax.bar(edges[:-1], counts, width=widths * 0.8, align="edge", color="#3b528b", alpha=0.85)
    title = str(test.get("name", "test"))
    if isinstance(test.get("chi2_p"), (int, float)):
        title += "  (χ² p = %.3g)" % test["chi2_p"]
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("rank of the truth among %d draws" % K, fontsize=8)
    ax.set_ylabel("count", fontsize=8)
    ax.tick_params(labelsize=7)
    if with_ecdf:
        z = np.concatenate([[0.0], np.asarray(band["z"], float), [1.0]])
        lower = np.concatenate([[0.0], np.asarray(band["lower"], float), [0.0]])
        upper = np.concatenate([[0.0], np.asarray(band["upper"], float), [0.0]])
        ex.fill_between(z, lower, upper, step="post", color="0.85", linewidth=0)
        ex.step(z, np.concatenate([[0.0], np.asarray(diff, float), [0.0]]), where="post", color="#3b528b", linewidth=1.2)
        ex.axhline(0, color="0.35", linestyle="--", linewidth=1)
        title = "ECDF − uniform"
        if isinstance(test.get("ecdf_p"), (int, float)):
            title += "  (band p = %.3g)" % test["ecdf_p"]
        ex.set_title(title, fontsize=9)
        ex.set_xlabel("fractional rank", fontsize=8)
        ex.tick_params(labelsize=7)
        fig.tight_layout()
    return png_data_uri(fig)


# ---- the summary table ---------------------------------------------------------------

EXPLANATIONS = {
    "command": "the twofold subcommand that wrote this folder",
    "against_exact_reference.mean_error_rms_in_posterior_std":
        "RMS over pixels of |sampler mean − exact mean| in units of the exact posterior std; Monte Carlo "
        "alone gives about 1/√(chains), so values well below 1 mean the posterior mean is right",
    "against_exact_reference.total_variance_ratio":
        "summed sampler total variance / summed exact posterior variance: 1 = exact, < 1 over-confident, "
        "> 1 under-confident",
    "against_exact_reference.ambiguity_ratio":
        "summed ambiguity / exact ambiguity. Ambiguity is what the measurements can never see: the spread "
        "of the null-space part given the range part, the same for any noise level or method",
    "against_exact_reference.estimation_ratio":
        "summed estimation variance / exact. Estimation is what noise and inference leave open: how much the "
        "best guess moves between runs that each draw a different range component",
    "report.device": "where the chains ran",
    "report.seconds": "wall time of the sampling (stage 1 and 2, all runs), without writing outputs",
    "report.chains": "chains run in total, both stages of the cascade included",
    "report.steps_per_chain": "sampler steps each chain took",
    "report.chain_steps_per_second": "throughput: chains × steps / seconds",
    "report.waves": "batches the chains were split into to fit in memory",
    "sampler.kind": "the posterior sampler used in stage 1",
    "sampler.schedule": "the noise schedule of the diffusion sampler",
    "sampler.levels": "noise levels of the schedule",
    "sampler.inner_steps": "Langevin steps per noise level",
    "sampler.step": "Langevin step size ε",
    "design.kind": "cascade: each run fixes one range draw and its chains fill in the null space; "
                   "replicate: runs differ only by seed",
    "design.runs": "runs R (draws of the range component)",
    "design.chains_per_run": "chains K per run (null-space completions of one range draw)",
    "design.seed": "random seed: the same seed gives the same maps",
    "problem.shape": "image height × width",
    "problem.acceleration": "k-space undersampling factor of the line mask",
    "problem.sampled_lines": "phase-encode lines measured",
    "problem.sigma_y": "measurement noise std σ_y",
    "problem.prior": "the prior the posterior is computed under",
    "inputs.sigma_y": "measurement noise std σ_y",
    "inputs.operator": "the forward operator A",
    "inputs.prior": "the prior the posterior is computed under",
    "calibration.psnr_forward": "PSNR (dB) of A x̂ against y: how well the posterior mean explains the data",
    "calibration.ssim_forward": "SSIM of |A x̂| against |y| (1: the posterior mean reproduces the data)",
    "calibration.entanglement": "correlation across pixels between the ambiguity and estimation maps "
                                "(near 0: the two kinds of uncertainty sit in different places)",
    "calibration.conformal": "quantile intervals calibrated on held-out cases (conformal risk control)",
    "sbc.replicates": "L: simulated cases x* from the prior with y = A x* + n",
    "sbc.draws": "K: posterior draws per case; the truth's rank among them lies in 0..K",
    "sbc.tests": "test functions ranked (pixels, range and null projections, residual, prior quadratic form)",
    "sbc.smallest_chi2_p": "smallest χ² uniformity p-value of the rank histograms over all test functions "
                           "(judge at a stated level, e.g. 10⁻³, across all of them)",
    "sbc.smallest_ecdf_p": "smallest p-value of the simultaneous ECDF band (Säilynoja et al. 2022) over all test "
                           "functions: how often uniform ranks stray at least this far",
    "sbc.batches": "batches of whole cases the L·K chains ran in (memory alone decides; results do not change)",
    "sbc.seconds": "wall time of the calibration: simulation, sampling and ranking",
    "sbc.device": "where the chains ran",
}


def flatten(prefix, value, rows):
    if isinstance(value, dict) and prefix.count(".") < 2:
        for k, v in value.items():
            if k != "explanation":
                flatten(prefix + "." + k if prefix else k, v, rows)
    else:
        rows.append((prefix, format_value(value), EXPLANATIONS.get(prefix, EXPLANATIONS.get(prefix.rsplit(".", 1)[0], ""))))


def summary_rows(summary, calibration):
    rows = []
    first = ["against_exact_reference", "report", "sampler", "design", "problem", "inputs"]
    for key in first + [k for k in summary if k not in first]:
        if key in summary:
            flatten(key, summary[key], rows)
    for key in ("psnr_forward", "ssim_forward", "entanglement", "conformal"):
        if key in calibration:
            flatten("calibration." + key, calibration[key], rows)
    return rows


# ---- the page ------------------------------------------------------------------------

CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1150px; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 1.6em; }
.grid { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 0; } figcaption { font-size: 0.8em; color: #555; max-width: 340px; }
table { border-collapse: collapse; font-size: 0.88em; width: 100%; }
td, th { border-bottom: 1px solid #e3e3e3; padding: 4px 10px; text-align: left; vertical-align: top; }
td.v { font-family: ui-monospace, monospace; white-space: nowrap; } td.e { color: #555; width: 55%; }
p.note { color: #444; max-width: 60em; }
"""


def map_section(folder):
    truth, zero_filled, mean = read_map(folder, "truth"), read_map(folder, "zero_filled"), read_map(folder, "mean")
    amb, est = std_of(read_map(folder, "ambiguity")), std_of(read_map(folder, "estimation_clipped"))
    total = std_of(read_map(folder, "total_variance"))
    ref_amb, ref_est = std_of(read_map(folder, "reference_ambiguity")), std_of(read_map(folder, "reference_estimation"))
    q_lo, q_hi, mask = read_map(folder, "quantile_lo"), read_map(folder, "quantile_hi"), read_map(folder, "mask")

    images = [np.abs(a) for a in (truth, zero_filled, mean) if a is not None]
    level = max((finite_max(a) for a in images), default=1.0)
    stds = [a for a in (amb, est, total, ref_amb, ref_est) if a is not None]
    std_level = max((finite_max(a) for a in stds), default=None)

    figs = []
    def add(values, title, cmap, unit, caption, vmax=None):
        if values is not None:
            figs.append(figure_html(map_figure(values, title, cmap, unit, vmax), title, caption))

    add(None if truth is None else np.abs(truth), "truth |x*|", "gray", "intensity", "the ground truth", level)
    add(None if zero_filled is None else np.abs(zero_filled), "zero-filled |Aᴴy|", "gray", "intensity",
        "the adjoint applied to the data: what a naive reconstruction sees", level)
    add(None if mean is None else np.abs(mean), "posterior mean |x̂|", "gray", "intensity",
        "the average of all chains", level)
    if mean is not None and truth is not None:
        if mean.shape != truth.shape:
            raise BadInput("mean.npy %s and truth.npy %s differ in shape" % (list(mean.shape), list(truth.shape)))
        add(np.abs(mean.astype(np.complex128) - truth), "error |x̂ − x*|", "magma", "intensity",
            "where the posterior mean is wrong; compare with the total std", std_level)
    add(amb, "ambiguity std", "magma", "std (intensity)",
        "√ambiguity: what the measurements can never see; independent of noise and method", std_level)
    add(est, "estimation std", "magma", "std (intensity)",
        "√estimation (clipped at 0): what noise and inference leave open", std_level)
    add(total, "total posterior std", "magma", "std (intensity)", "√(ambiguity + estimation)", std_level)
    add(ref_amb, "exact ambiguity std", "magma", "std (intensity)", "closed form, for comparison", std_level)
    add(ref_est, "exact estimation std", "magma", "std (intensity)", "closed form, for comparison", std_level)
    if q_lo is not None and q_hi is not None:
        add(np.abs(q_hi.astype(np.float64) - q_lo), "quantile interval width", "viridis", "intensity",
            "per-pixel empirical quantile interval across chains (hi − lo)")
    add(mask, "sampling mask", "gray", "1 = sampled", "the k-space (or pixel) mask: 1 = measured", 1.0)
    return figs


def calibration_section(cal):
    figs = []
    if isinstance(cal.get("coverage"), dict) and "nominal" in cal["coverage"]:
        figs.append(figure_html(coverage_figure(cal["coverage"]), "coverage curve",
                                "on the diagonal = calibrated; below = intervals too narrow (over-confident), "
                                "above = too wide"))
    if isinstance(cal.get("predictive_coverage"), dict) and "nominal" in cal["predictive_coverage"]:
        figs.append(figure_html(predictive_coverage_figure(cal["predictive_coverage"]), "predictive coverage curve",
                                "held-out measurements (whitened units for EEG) inside the central p-interval of "
                                "replicated measurements A x + n of the draws: on the diagonal when the model, "
                                "noise level included, is right; below it the noise or the fit is understated. "
                                "It sees a wrong noise level that the coverage of x cannot, where most of the "
                                "variance is ambiguity"))
    if isinstance(cal.get("residuals"), list) and cal["residuals"]:
        figs.append(figure_html(residual_figure(cal["residuals"]), "normalised residual histogram",
                                "forward consistency: draws that explain the data as well as the noise allows sit at 1"))
    sbc = cal.get("sbc")
    if isinstance(sbc, dict) and isinstance(sbc.get("tests"), list):
        try:
            L, K = int(sbc.get("L", 0)), int(sbc["K"])
        except (KeyError, TypeError, ValueError):
            raise BadInput("calibration.json: sbc needs an integer K")
        for test in sbc["tests"]:
            if isinstance(test, dict):
                figs.append(figure_html(sbc_figure(test, L, K, sbc.get("ecdf_band")),
                                        "SBC rank histogram " + str(test.get("name")),
                                        "simulation-based calibration: flat histogram = calibrated (grey: pointwise "
                                        "99% binomial band around the uniform expectation, dashed); right: the ECDF "
                                        "of the ranks minus the uniform's, which a calibrated sampler keeps inside "
                                        "the grey simultaneous 99% band at every rank at once (a ∪ shape: draws too "
                                        "narrow, ∩: too wide, a slope: biased)"))
    return figs


def build_page(folder, summary, calibration):
    rows = summary_rows(summary, calibration)
    eeg_figs, eeg_table = [], []
    if os.path.exists(os.path.join(folder, "source_positions.npy")):
        eeg_figs, eeg_table = eeg_section(folder, summary)  # source space: no 1 × n strips
        maps = []
    else:
        maps = map_section(folder)
    charts = calibration_section(calibration)
    title = "twofold %s report" % summary.get("command", "")
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>%s</title><style>%s</style></head><body>" % (html.escape(title), CSS),
             "<h1>%s</h1>" % html.escape(title),
             '<p class="note">Folder <code>%s</code>. The posterior variance of each pixel splits into '
             "<b>ambiguity</b> (what the measurements can never see) and <b>estimation</b> (what noise and "
             "inference leave open); total = ambiguity + estimation. All std maps share one colour scale.</p>"
             % html.escape(os.path.abspath(folder))]
    if maps:
        parts += ["<h2>Maps</h2>", '<div class="grid">'] + maps + ["</div>"]
    if eeg_figs or eeg_table:
        parts += ["<h2>Sources and sensors</h2>", '<div class="grid">'] + eeg_figs + ["</div>"] + eeg_table
    if charts:
        parts += ["<h2>Calibration</h2>", '<div class="grid">'] + charts + ["</div>"]
    parts += ["<h2>Summary</h2>", "<table><tr><th>quantity</th><th>value</th><th>meaning</th></tr>"]
    for key, value, note in rows:
        parts.append('<tr><td>%s</td><td class="v">%s</td><td class="e">%s</td></tr>'
                     % (html.escape(key), html.escape(value), html.escape(note)))
    parts.append("</table>")
    parts += ["</body></html>", ""]
    return "\n".join(parts)


def write_atomically(path, text):
    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".report.html.tmp-", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def main(argv):
    # SHOWN_AS: the folder the final message names, when OUTDIR is a staging folder
    # that twofold renames into place after the report is drawn.
    if len(argv) not in (2, 3):
        fail(BAD_INPUT, "usage: twofold_report.py OUTDIR [SHOWN_AS]")
    folder = argv[1]
    shown = argv[2] if len(argv) == 3 else folder
    if not os.path.isdir(folder):
        fail(BAD_INPUT, "output folder '%s' does not exist or is not a folder" % folder)
    try:
        summary = read_json(os.path.join(folder, "summary.json"), "summary")
        cal_path = os.path.join(folder, "calibration.json")
        calibration = read_json(cal_path, "calibration") if os.path.exists(cal_path) else {}
        page = build_page(folder, summary, calibration)
    except BadInput as e:
        fail(BAD_INPUT, str(e))
    except (TypeError, ValueError, KeyError) as e:  # a JSON value of the wrong kind
        fail(BAD_INPUT, "unexpected content in '%s': %s" % (folder, e))
    out = os.path.join(folder, "report.html")
    try:
        write_atomically(out, page)
    except OSError as e:
        fail(RUNTIME_FAILURE, "could not write '%s': %s" % (out, e))
    print("report: %s" % os.path.join(shown, "report.html"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
