"""The simulation timeline: a PNG plot and an HTML page of drift, ROC AUC and decisions."""

from __future__ import annotations

import html
import io
import json

from services.core.storage import Storage
from services.drift.outputs import write_files
from services.drift.simulate import Simulation

PNG = "timeline.png"
PAGE = "timeline.html"
DATA = "timeline.json"


def timeline_png(simulation: Simulation, drift_limit: float, prediction_limit: float) -> bytes:
    """Two panels over batches: drift (columns and scores), and ROC AUC with retrain events."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on servers and in containers
    import matplotlib.pyplot as plt

    steps = simulation.steps
    x = [s.batch for s in steps]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    top.bar(x, [s.share_of_drifted_columns for s in steps], color="#6b8fd6", label="columns")
    top.axhline(drift_limit, color="#6b8fd6", linestyle="--", label=f"limit {drift_limit:.0%}")
    top.set_ylabel("share of drifted columns")
    top.set_ylim(0, max(drift_limit, *(s.share_of_drifted_columns for s in steps)) * 1.3)
    top.legend(loc="upper left")
    scores = top.twinx()  # prediction drift has its own scale (normed Wasserstein distance)
    scores.plot(x, [s.prediction_drift for s in steps], color="#c0392b", marker="^",
                label="score drift")  # fmt: skip
    scores.axhline(prediction_limit, color="#c0392b", linestyle=":", label="score drift limit")
    scores.set_ylabel("prediction (score) drift")
    scores.set_ylim(0, max(prediction_limit, *(s.prediction_drift for s in steps)) * 1.3)
    scores.legend(loc="upper right")
    bottom.plot(x, [s.roc_auc_served for s in steps], marker="o", label="serving model")
    bottom.plot(
        x,
        [s.roc_auc_never_retrained for s in steps],
        marker="s",
        linestyle=":",
        color="#7f8c8d",
        label="never retrained",
    )
    for step in steps:
        if step.retrained:
            colour = "#27ae60" if step.promoted_version else "#e67e22"
            bottom.axvline(step.batch + 0.5, color=colour, alpha=0.6)
            label = f"v{step.promoted_version}" if step.promoted_version else "kept"
            bottom.annotate(
                label, (step.batch + 0.5, bottom.get_ylim()[1]), fontsize=8, ha="center",
                va="top", color=colour,
            )  # fmt: skip
    bottom.set_ylabel("ROC AUC on the batch")
    bottom.set_xlabel("later batch (time order); vertical lines: retraining (green: promoted)")
    bottom.legend(loc="lower left")
    fig.suptitle(f"Beacon drift simulation: scenario {simulation.scenario}")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()


def timeline_html(simulation: Simulation) -> str:
    """A self-contained page: the plot, then one row per batch with links to its report."""
    rows = "\n".join(
        "<tr>"
        f"<td>{s.batch}</td><td>{s.rows}</td><td>v{html.escape(s.served_version)}</td>"
        f"<td>{s.share_of_drifted_columns:.1%}</td>"
        f"<td>{html.escape(', '.join(s.drifted_columns)) or '-'}</td>"
        f"<td>{s.prediction_drift:.3f}</td><td>{s.roc_auc_served:.4f}</td>"
        f"<td>{s.roc_auc_never_retrained:.4f}</td><td>{html.escape(s.decision)}</td>"
        f'<td><a href="batch-{s.batch}/report.html">report</a></td>'
        "</tr>"
        for s in simulation.steps
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Beacon drift simulation: {html.escape(simulation.scenario)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}</style></head>
<body><h1>Drift simulation: scenario {html.escape(simulation.scenario)}</h1>
<p>Model <code>{html.escape(simulation.model_name)}</code>, initial version
v{html.escape(simulation.initial_version)}. Retrained after batches
{simulation.retrain_batches or "none"}; promoted after {simulation.promotion_batches or "none"}.
</p>
<img src="{PNG}" alt="share of drifted columns and ROC AUC per batch" width="800">
<table><thead><tr><th>batch</th><th>rows</th><th>serving</th><th>drifted columns</th>
<th>which</th><th>score drift</th><th>ROC AUC</th><th>never retrained</th>
<th>decision</th><th>Evidently</th></tr></thead>
<tbody>
{rows}
</tbody></table></body></html>
"""


def write_timeline(
    simulation: Simulation,
    root_uri: str,
    limits: tuple[float, float],
    storage: Storage | None = None,
) -> dict[str, str]:
    """Write the PNG, the HTML page and the JSON record under `root_uri`.

    `limits` are the drift thresholds drawn on the plot: (column share, score drift).
    """
    storage = storage or Storage()
    files = {
        PNG: timeline_png(simulation, *limits),
        DATA: json.dumps(simulation.as_dict(), indent=2).encode(),
        PAGE: timeline_html(simulation).encode(),
    }
    return write_files(files, root_uri, storage)
