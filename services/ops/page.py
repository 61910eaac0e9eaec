"""Render the operator page: one self-contained HTML file with inline SVG plots (no CDN)."""

from __future__ import annotations

import base64
import html
import io
import math
from datetime import UTC, datetime
from typing import Any

from services.ops.snapshot import ModelView, OpsSnapshot, RefreshView
from services.serving.signals import DriftCheck

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #1f2933; max-width: 1200px; }
h1 { margin-bottom: 0; } .sub { color: #52606d; margin-top: 4px; }
section { margin: 28px 0; } table { border-collapse: collapse; margin: 8px 0; }
th, td { border-bottom: 1px solid #d9e2ec; padding: 4px 10px; text-align: left; font-size: 14px; }
.ok { color: #1b7f3b; font-weight: 600; } .bad { color: #b42318; font-weight: 600; }
.muted { color: #7b8794; } img.plot { display: block; max-width: 100%; margin: 8px 0; }
"""


def _fmt_time(stamp: float | None) -> str:
    if stamp is None:
        return "never"
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _num(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _plot(figure: Any, alt: str) -> str:
    """The figure as an <img> with an inline SVG data URI (self-contained, no network)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img class="plot" alt="{html.escape(alt)}" src="data:image/svg+xml;base64,{data}">'


def _figure(rows: int = 1, cols: int = 1, height: float = 3.0) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(rows, cols, figsize=(11, height), squeeze=False)


def _models_section(models: list[ModelView]) -> str:
    rows, plotted = [], []
    for model in models:
        if model.error:
            rows.append(f"<tr><td>{html.escape(model.name)}</td><td colspan=5 class=muted>"
                        f"{html.escape(model.error)}</td></tr>")  # fmt: skip
            continue
        champion = model.champion
        for v in model.versions[:5]:
            served = v is champion
            metrics = ", ".join(f"{k} {_num(float(x))}" for k, x in sorted(v.metrics.items()))
            rows.append(
                f"<tr><td>{html.escape(model.name)}</td><td>{v.version}</td>"
                f"<td class={'ok' if served else 'muted'}>{', '.join(v.aliases) or '-'}</td>"
                f"<td>{html.escape(v.family or '-')}</td>"
                f"<td>{html.escape(v.trained_at or '-')}</td>"
                f"<td>{html.escape(metrics or '-')}</td></tr>"
            )
        if any("test_roc_auc" in v.metrics for v in model.versions):
            plotted.append(model)
    table = (
        "<table><tr><th>model</th><th>version</th><th>aliases</th><th>family</th>"
        "<th>trained at</th><th>metrics</th></tr>" + "".join(rows) + "</table>"
    )
    plot = ""
    if plotted:
        fig, axes = _figure(1, len(plotted), 2.6)
        for ax, model in zip(axes[0], plotted, strict=True):
            versions = sorted(model.versions, key=lambda v: int(v.version))
            x = [int(v.version) for v in versions if "test_roc_auc" in v.metrics]
            y = [v.metrics["test_roc_auc"] for v in versions if "test_roc_auc" in v.metrics]
            ax.plot(x, y, marker="o", color="#3e7cb1")
            if model.champion is not None and "test_roc_auc" in model.champion.metrics:
                ax.scatter([int(model.champion.version)], [model.champion.metrics["test_roc_auc"]],
                           s=140, facecolors="none", edgecolors="#1b7f3b", linewidths=2,
                           label="champion")  # fmt: skip
                ax.legend(loc="lower right")
            ax.set_title(f"{model.name}: test ROC AUC by version")
            ax.set_xlabel("version")
            ax.set_xticks(x)
        plot = _plot(fig, "Test ROC AUC of each registered version")
    return f"<section id=models><h2>Served models</h2>{table}{plot}</section>"


def _drift_section(checks: list[DriftCheck], thresholds: dict[str, float]) -> str:
    if not checks:
        return ("<section id=drift><h2>Drift</h2><p class=muted>No drift check yet: run "
                "<code>beacon drift check</code>.</p></section>")  # fmt: skip
    fig, axes = _figure(1, 3, 3.0)
    share_ax, pred_ax, auc_ax = axes[0]
    for model in sorted({c.model for c in checks}):
        mine = [c for c in checks if c.model == model]
        times = [datetime.fromtimestamp(c.checked_at, UTC) for c in mine]
        share_ax.plot(times, [c.share_of_drifted_columns for c in mine], marker="o", label=model)
        pred_ax.plot(times, [c.prediction_drift or 0.0 for c in mine], marker="o", label=model)
        labelled = [(t, c.roc_auc) for t, c in zip(times, mine, strict=True) if c.roc_auc]
        if labelled:
            auc_ax.plot([t for t, _ in labelled], [a[1] for _, a in labelled], marker="o",
                        label=f"{model} batch")  # fmt: skip
            auc_ax.plot([t for t, _ in labelled], [a[0] for _, a in labelled], linestyle="--",
                        label=f"{model} reference")  # fmt: skip
    share_ax.axhline(thresholds["share"], color="#b42318", linestyle=":", label="gate")
    pred_ax.axhline(thresholds["prediction"], color="#b42318", linestyle=":", label="gate")
    for ax, title in ((share_ax, "share of drifted columns"), (pred_ax, "prediction drift"),
                      (auc_ax, "ROC AUC (labelled batches)")):  # fmt: skip
        ax.set_title(title)
        ax.tick_params(axis="x", labelrotation=30, labelsize=7)
        if ax.has_data():
            ax.legend(fontsize=7)
    rows = "".join(
        f"<tr><td>{html.escape(c.model)}</td><td>{html.escape(c.label)}</td>"
        f"<td>{_fmt_time(c.checked_at)}</td><td>{_num(c.share_of_drifted_columns)}</td>"
        f"<td>{_num(c.prediction_drift)}</td>"
        f"<td class={'bad' if c.summary.get('drift_detected') else 'ok'}>"
        f"{'drift' if c.summary.get('drift_detected') else 'no drift'}</td>"
        f"<td>{html.escape('; '.join(c.summary.get('reasons') or []) or '-')}</td></tr>"
        for c in reversed(checks[-10:])
    )
    table = (
        "<table><tr><th>model</th><th>batch</th><th>checked</th><th>drifted share</th>"
        "<th>prediction drift</th><th>verdict</th><th>reasons</th></tr>" + rows + "</table>"
    )
    plot = _plot(fig, "Drift over time")
    return f"<section id=drift><h2>Drift timeline</h2>{plot}{table}</section>"


def _rate_interval(conversions: int, exposures: int) -> tuple[float, float]:
    """95 % normal-approximation interval of a conversion rate (what the plot's bars show)."""
    if not exposures:
        return 0.0, 0.0
    rate = conversions / exposures
    half = 1.96 * math.sqrt(rate * (1 - rate) / exposures)
    return rate, half


def _experiments_section(experiments: list[dict[str, Any]]) -> str:
    if not experiments:
        return ("<section id=experiments><h2>Experiments</h2><p class=muted>No running "
                "experiment.</p></section>")  # fmt: skip
    parts = []
    for result in experiments:
        name = result["experiment"]["experiment_id"]
        srm = result["sample_ratio"]
        fig, axes = _figure(1, 1, 2.6)
        ax = axes[0][0]
        labels, rates, halves = [], [], []
        for v in result["variants"]:
            rate, half = _rate_interval(v["conversions"], v["exposures"])
            labels.append(f"{v['name']}\n({v['algorithm']})")
            rates.append(rate)
            halves.append(half)
        colors = ["#7b8794"] + ["#3e7cb1"] * (len(rates) - 1)
        ax.bar(labels, rates, yerr=halves, capsize=6, color=colors)
        status = "SRM: mismatch" if srm["mismatch"] else "SRM: ok"
        ax.set_title(f"{name}: {result['goal']} conversion rate, 95% CI ({status}, "
                     f"p={srm['p_value']:.3g})")  # fmt: skip
        rows = "".join(
            f"<tr><td>{html.escape(v['name'])}</td><td>{v['exposures']}</td>"
            f"<td>{v['conversions']}</td><td>{_num(v['conversion_rate'])}</td>"
            f"<td>{_num(v.get('absolute_lift'))}</td>"
            f"<td>{' to '.join(_num(x) for x in v.get('absolute_lift_ci95') or []) or '-'}</td>"
            f"<td>{_num(v.get('p_value'))}</td></tr>"
            for v in result["variants"]
        )
        verdict = "bad" if srm["mismatch"] else "ok"
        parts.append(
            f"<h3>{html.escape(name)} <span class={verdict}>{status}</span></h3>"
            + _plot(fig, f"Conversion rates of {name}")
            + "<table><tr><th>variant</th><th>exposures</th><th>conversions</th><th>rate</th>"
            "<th>lift vs control</th><th>lift 95% CI</th><th>p-value</th></tr>" + rows + "</table>"
        )
    return "<section id=experiments><h2>Running experiments</h2>" + "".join(parts) + "</section>"


def _refresh_section(refresh: RefreshView, stale_hours: float) -> str:
    age = refresh.age_hours
    fresh = age is not None and age <= stale_hours
    verdict = "ok" if fresh else "bad"
    when = _fmt_time(refresh.last_success)
    age_text = "never ran here" if age is None else f"{age:.1f} h ago"
    plot = ""
    if refresh.documents:
        fig, axes = _figure(1, 1, 2.2)
        ax = axes[0][0]
        kinds = sorted(refresh.documents)
        stored = [refresh.documents[k][0] for k in kinds]
        embedded = [refresh.documents[k][1] for k in kinds]
        ax.barh(kinds, stored, color="#d9e2ec", label="stored")
        ax.barh(kinds, embedded, color="#3e7cb1", label="embedded, up to date")
        ax.set_title("documents and fresh embeddings")
        ax.legend(loc="lower right", fontsize=8)
        plot = _plot(fig, "Documents and fresh embeddings")
    pending = sum(s - e for s, e in refresh.documents.values())
    error = f"<p class=bad>{html.escape(refresh.error)}</p>" if refresh.error else ""
    return (
        "<section id=refresh><h2>Nightly refresh</h2>"
        f"<p>Last successful refresh: <span class={verdict}>{when} ({age_text})</span>; "
        f"documents pending an embedding: <b>{pending}</b>.</p>{error}{plot}</section>"
    )


def render(snapshot: OpsSnapshot, *, thresholds: dict[str, float]) -> str:
    """The whole page as one HTML string."""
    problems = "".join(f"<li class=bad>{html.escape(p)}</li>" for p in snapshot.problems)
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width, initial-scale=1'>"
        f"<title>Beacon operations</title><style>{_STYLE}</style></head><body>"
        "<h1>Beacon operations</h1>"
        f"<p class=sub>Generated {_fmt_time(snapshot.generated_at)} by <code>beacon report</code>"
        "</p>"
        + (f"<ul>{problems}</ul>" if problems else "")
        + _models_section(snapshot.models)
        + _drift_section(snapshot.drift, thresholds)
        + _experiments_section(snapshot.experiments)
        + _refresh_section(snapshot.refresh, thresholds["refresh_hours"])
        + "</body></html>"
    )
