"""Shared pieces of the report scripts (twofold_report.py draws the page,
twofold_report_eeg.py its EEG section): exit codes, the bad-input exception, numpy and
matplotlib (Agg), and the figure and value formatting every section uses."""

import base64
import html
import io
import json
import sys

BAD_INPUT, RUNTIME_FAILURE = 2, 3


class BadInput(Exception):
    """An input file is missing or unreadable; the message names it."""


def fail(code, message):
    sys.stderr.write("twofold report: error: %s\n" % message)
    sys.exit(code)


try:
    import numpy as np
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError as e:  # the maps are the primary output; the page is a view of them
    fail(RUNTIME_FAILURE, "the HTML report needs numpy and matplotlib (%s); on Debian/Ubuntu: "
         "apt-get install python3-matplotlib" % e)


def png_data_uri(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def finite_max(a):
    f = a[np.isfinite(a)]
    return float(f.max()) if f.size else 1.0


def figure_html(uri, alt, caption):
    return ('<figure><img src="%s" alt="%s"><figcaption>%s</figcaption></figure>'
            % (uri, html.escape(alt, quote=True), html.escape(caption)))


def format_value(v):
    if isinstance(v, float):
        return "%.4g" % v
    if isinstance(v, list) and all(isinstance(x, (int, float)) for x in v):
        return " × ".join(format_value(x) for x in v) if len(v) <= 4 else json.dumps(v)
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    return str(v)
