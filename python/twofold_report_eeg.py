"""The EEG section of report.html (folders with source_positions.npy, docs/eeg.md):
per-source maps as three orthogonal glass-brain projections, scalp topomaps of the
data, fit and residual, and the per-source std by depth. Imported by twofold_report.py."""

import html
import os

from twofold_report_base import BadInput, figure_html, finite_max, format_value, np, plt, png_data_uri


def read_vector(folder, name, shape_tail=None):
    """OUTDIR/name.npy as float64 with shape [n] or [n, *shape_tail]; None when absent."""
    path = os.path.join(folder, name + ".npy")
    if not os.path.exists(path):
        return None
    try:
        a = np.load(path, allow_pickle=False)
    except Exception as e:
        raise BadInput("'%s' is not a readable .npy file: %s" % (path, e))
    want = 1 if shape_tail is None else 1 + len(shape_tail)
    if a.ndim != want or a.size == 0 or (shape_tail and tuple(a.shape[1:]) != tuple(shape_tail)):
        raise BadInput("'%s' has shape %s" % (path, list(a.shape)))
    return a.astype(np.float64)


# The three orthogonal views of head coordinates (x right, y anterior, z up).
VIEWS = [("axial (from above)", 0, 1, 2, "x (mm)", "y (mm)"),
         ("coronal (from the front)", 0, 2, 1, "x (mm)", "z (mm)"),
         ("sagittal (from the right)", 1, 2, 0, "y (mm)", "z (mm)")]


def glass_brain_figure(positions, values, centre, radius, title, cmap, unit, vmax):
    """Maximum-intensity projections along each axis: every grid cell of the view shows
    the largest value of the sources projected onto it."""
    fig, axes = plt.subplots(1, 3, figsize=(10.2, 3.3))
    mm = (positions - centre) * 1000
    spacing = np.min(np.linalg.norm(mm[:, None] - mm[None], axis=-1) + 1e9 * np.eye(len(mm)), axis=1)
    cell = float(np.median(spacing)) if len(mm) > 1 else 10.0
    for ax, (name, i, j, _, xl, yl) in zip(axes, VIEWS):
        keys = np.round(mm[:, [i, j]] / cell).astype(int)
        best = {}
        for k, v in zip(map(tuple, keys), values):
            if k not in best or v > best[k]:
                best[k] = v
        pts = np.array(list(best.keys()), dtype=float) * cell
        vals = np.array(list(best.values()))
        order = np.argsort(vals)
        sc = ax.scatter(pts[order, 0], pts[order, 1], c=vals[order], cmap=cmap, vmin=0, vmax=vmax,
                        s=(cell * 0.9) ** 2 * 0.35, marker="s", linewidths=0)
        ax.add_patch(plt.Circle((0, 0), radius * 1000, fill=False, color="0.6", lw=1))
        ax.set_aspect("equal")
        ax.set_xlim(-radius * 1100, radius * 1100)
        ax.set_ylim(-radius * 1100, radius * 1100)
        ax.set_title(name, fontsize=8)
        ax.set_xlabel(xl, fontsize=7)
        ax.set_ylabel(yl, fontsize=7)
        ax.tick_params(labelsize=6)
    bar = fig.colorbar(sc, ax=axes, fraction=0.02, pad=0.02)
    bar.set_label(unit, fontsize=8)
    bar.ax.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=10)
    return png_data_uri(fig)


def topomap_xy(channels, centre):
    """Azimuthal equidistant projection about the vertex: the usual flat scalp map."""
    d = channels - centre
    r = np.linalg.norm(d, axis=1)
    theta = np.arccos(np.clip(d[:, 2] / np.maximum(r, 1e-12), -1, 1))
    phi = np.arctan2(d[:, 1], d[:, 0])
    return np.stack([theta * np.cos(phi), theta * np.sin(phi)], axis=1)


def topomap_figure(channels, centre, maps, titles):
    import matplotlib.tri as mtri
    xy = topomap_xy(channels, centre)
    level = max(float(np.max(np.abs(m))) for m in maps) or 1.0
    fig, axes = plt.subplots(1, len(maps), figsize=(3.3 * len(maps), 3.2))
    tri = mtri.Triangulation(xy[:, 0], xy[:, 1])
    rim = float(np.max(np.linalg.norm(xy, axis=1))) * 1.05
    for ax, m, t in zip(np.atleast_1d(axes), maps, titles):
        cs = ax.tricontourf(tri, m, levels=np.linspace(-level, level, 21), cmap="RdBu_r", extend="both")
        ax.plot(xy[:, 0], xy[:, 1], "k.", ms=2)
        ax.add_patch(plt.Circle((0, 0), rim, fill=False, color="0.3", lw=1))
        ax.plot([-0.08 * rim, 0, 0.08 * rim], [rim, 1.08 * rim, rim], color="0.3", lw=1)  # nose (+y)
        ax.set_aspect("equal")
        ax.set_xlim(-1.15 * rim, 1.15 * rim)
        ax.set_ylim(-1.15 * rim, 1.2 * rim)
        ax.axis("off")
        ax.set_title(t, fontsize=9)
    bar = fig.colorbar(cs, ax=axes, fraction=0.025, pad=0.02)
    bar.set_label("µV", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    return png_data_uri(fig)


def eeg_section(folder, summary):
    """Figures and a depth table for EEG output folders (source_positions.npy present)."""
    positions = read_vector(folder, "source_positions", (3,))
    channels = read_vector(folder, "channel_positions", (3,))
    eeg = summary.get("eeg", {}) if isinstance(summary.get("eeg"), dict) else {}
    centre = np.asarray(eeg.get("head_centre_m", positions.mean(axis=0)), dtype=float)
    radius = float(np.max(np.linalg.norm(channels - centre, axis=1))) if channels is not None else \
        float(np.max(np.linalg.norm(positions - centre, axis=1)))
    figs = []
    named = [("source_truth", "truth |q*| per source", "viridis", "nA m"),
             ("source_mean", "posterior mean |q̂| per source", "viridis", "nA m"),
             ("source_ambiguity_std", "ambiguity std per source", "magma", "nA m"),
             ("source_estimation_std", "estimation std per source", "magma", "nA m"),
             ("source_total_std", "total posterior std per source", "magma", "nA m"),
             ("source_reference_ambiguity_std", "exact ambiguity std per source", "magma", "nA m"),
             ("source_reference_estimation_std", "exact estimation std per source", "magma", "nA m")]
    loaded = {n: read_vector(folder, n) for n, *_ in named}
    for n, v in loaded.items():
        if v is not None and len(v) != len(positions):
            raise BadInput("%s.npy has %d sources but source_positions.npy has %d" % (n, len(v), len(positions)))
    amp_level = max((finite_max(loaded[n]) for n in ("source_truth", "source_mean") if loaded[n] is not None),
                    default=1.0)
    std_level = max((finite_max(v) for n, v in loaded.items() if n.endswith("_std") and v is not None), default=1.0)
    captions = {
        "source_truth": "the simulated source amplitudes (free orientation: the norm of the x, y, z moments)",
        "source_mean": "the norm of the posterior mean moment per source",
        "source_ambiguity_std": "√(trace of the 3×3 ambiguity block): what the electrodes can never see; deep "
                                "sources are mostly prior",
        "source_estimation_std": "√(trace of the 3×3 estimation block, clipped at 0): what noise leaves open",
        "source_total_std": "√(trace of the 3×3 posterior covariance block)",
        "source_reference_ambiguity_std": "the same from the exact posterior (closed form), for comparison",
        "source_reference_estimation_std": "the same from the exact posterior: no Monte Carlo noise, so the "
                                           "sampled map's floor from a finite number of runs shows up against it",
    }
    for n, title, cmap, unit in named:
        if loaded[n] is not None:
            level = amp_level if n in ("source_truth", "source_mean") else std_level
            figs.append(figure_html(glass_brain_figure(positions, loaded[n], centre, radius, title, cmap, unit,
                                                       level if level > 0 else 1.0),
                                    title, captions[n] + " (maximum-intensity projections; one colour scale for "
                                                         "all std maps)"))
    data, fit, res = (read_vector(folder, n) for n in ("sensor_data", "sensor_fit", "sensor_residual"))
    if channels is not None and data is not None and res is not None:
        maps, titles = [data], ["data y"]
        if fit is not None:
            maps.append(fit), titles.append("fit L q̂")
        maps.append(res), titles.append("residual y − L q̂")
        figs.append(figure_html(topomap_figure(channels, centre, maps, titles), "sensor topomaps",
                                "scalp maps (nose up, one colour scale, µV): a residual with structure means "
                                "the posterior mean misses part of the data; noise-like residual is expected"))
    table = []
    for key, label in (("exact_depth_bands", "exact posterior"), ("depth_bands", "sampled")):
        rows = eeg.get(key)
        if isinstance(rows, list) and rows:
            table.append("<h3>Per-source std by depth: distance to the nearest electrode (%s, nA m)</h3>" % label)
            table.append("<table><tr><th>depth (mm)</th><th>sources</th><th>ambiguity std</th>"
                         "<th>estimation std</th><th>prior std</th><th>ambiguity / prior variance</th></tr>")
            for row in rows:
                lo, hi = row.get("depth_mm", [0, None])
                band = "%g–%g" % (lo, hi) if hi is not None else "≥ %g" % lo
                table.append("<tr><td>%s</td>%s</tr>" % (html.escape(band), "".join(
                    '<td class="v">%s</td>' % format_value(row.get(k, ""))
                    for k in ("sources", "mean_ambiguity_std", "mean_estimation_std", "mean_prior_std",
                              "mean_ambiguity_fraction_of_prior_variance"))))
            table.append("</table>")
    return figs, table
