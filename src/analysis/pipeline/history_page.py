"""``outputs/index.html``: the runs of an output folder and the trend of their headline numbers.

Rewritten (atomically) after every run. One self-contained file: the charts are inline SVG drawn here,
no script and nothing fetched, so it opens from ``file://`` on a server without network. Headings in
Bahasa Indonesia and English (``core/messages.yaml``, keys ``history.*``); numbers as each language
writes them. It holds run ids, statuses, times, errors (one line, as the runner prints them: NIPs in
messages are already masked there) and aggregate numbers: no personal data.
"""

from __future__ import annotations

import html
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from analysis.core.i18n import t
from analysis.core.numbers import number
from analysis.core.params import Retention
from analysis.data.problems import console_text
from analysis.pipeline.history import PEOPLE_COUNTS, RunRecord, read_runs

PAGE = "index.html"
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")
STATUS_COLOURS = {"success": "#2ca02c", "failed": "#d62728", "invalid_data": "#d62728", "interrupted": "#ff7f0e",
                  "bad_params": "#d62728", "running": "#1f77b4"}
W, H, PAD_L, PAD_R, PAD_T, PAD_B = 520, 220, 56, 40, 28, 46


def both(key: str, **fields) -> str:
    """A label in both languages: "Indonesian · English" (once where they are the same)."""
    id_, en = t(key, "id", **fields), t(key, "en", **fields)
    return id_ if id_ == en else f"{id_} · {en}"


# the trend charts: (title key, [(series label key, headline)], value kind)
CHARTS = (
    ("history.chart.bounds", [("history.series.share", "share_units_breaking_bounds")], "pct"),
    ("history.chart.raters", [("history.series.lenient", "raters_lenient"),
                              ("history.series.severe", "raters_severe"),
                              ("history.series.central", "raters_central_tendency"),
                              ("history.series.halo", "raters_halo")], "int"),
    ("history.chart.gap", [("history.series.share", "share_with_gap")], "pct"),
    ("history.chart.plan", [("history.series.coverage", "plan_coverage")], "pct"),
    ("history.chart.ikm", [("history.series.effect", "ikm_effect")], "num"),
)


def _value(r: RunRecord, name: str):
    h = r.headlines
    if name == "plan_coverage":
        covered, needs = h.get("plan_needs_covered"), h.get("plan_needs")
        return covered / needs if covered is not None and needs else None
    return h.get(name)


def _small_hidden(value, name: str, min_cell: int):
    return None if name in PEOPLE_COUNTS and value is not None and 0 < value < min_cell else value


def _fmt(v, kind: str) -> str:
    return number(v, {"pct": "pct", "int": "int"}.get(kind, "num"), "id", 1 if kind == "pct" else 2)


def chart(title: str, runs: list[RunRecord], series: list[tuple[str, str]], kind: str,
          interval: tuple[str, str] | None = None, min_cell: int = 1) -> str:
    """An SVG line chart of ``series`` (label, headline) across ``runs`` (oldest first). A count of people
    from 1 to ``min_cell`` - 1 is not drawn (the one small-cell policy: the brief shows it as "<5")."""
    values = [[_small_hidden(_value(r, name), name, min_cell) for r in runs] for _, name in series]
    if interval:
        values += [[_value(r, interval[0]) for r in runs], [_value(r, interval[1]) for r in runs]]
    flat = [v for vs in values for v in vs if v is not None]
    if not flat:
        return (f'<figure class="chart"><figcaption>{html.escape(title)}</figcaption>'
                f'<p class="none">{html.escape(both("history.no_values"))}</p></figure>')
    lo, hi = min(flat + [0.0]), max(flat)
    hi = hi if hi > lo else lo + 1.0
    n = len(runs)

    def x(i: int) -> float:
        return PAD_L + (W - PAD_L - PAD_R) * (i / (n - 1) if n > 1 else 0.5)

    def y(v: float) -> float:
        return PAD_T + (H - PAD_T - PAD_B) * (1 - (v - lo) / (hi - lo))

    parts = [f'<svg viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{html.escape(title)}">']
    for frac in (0.0, 0.5, 1.0):  # three gridlines with their values
        v = lo + (hi - lo) * frac
        parts.append(f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{y(v):.1f}" y2="{y(v):.1f}" class="grid"/>'
                     f'<text x="{PAD_L - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{html.escape(_fmt(v, kind))}</text>')
    step = max(1, n // 6)
    for i, r in enumerate(runs):  # the runs' dates under the axis
        if i % step == 0 or i == n - 1:
            parts.append(f'<text x="{x(i):.1f}" y="{H - PAD_B + 16}" text-anchor="middle">'
                         f'{html.escape((r.started_at or r.run_id)[:10])}</text>')
    if interval:
        for i, (a, b) in enumerate(zip(values[-2], values[-1])):
            if a is not None and b is not None:
                parts.append(f'<line x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{y(a):.1f}" y2="{y(b):.1f}" '
                             f'class="interval"/>')
    legend = []
    for k, ((label, _), vs) in enumerate(zip(series, values)):
        colour = COLOURS[k % len(COLOURS)]
        points = [(x(i), y(v), v, runs[i].run_id) for i, v in enumerate(vs) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py, _, _ in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for px, py, v, run_id in points:
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="{colour}">'
                         f'<title>{html.escape(run_id)}: {html.escape(_fmt(v, kind))}</title></circle>')
        legend.append(f'<span class="key" style="color:{colour}">&#9632;</span> {html.escape(label)}')
    parts.append("</svg>")
    return (f'<figure class="chart"><figcaption>{html.escape(title)}</figcaption>{"".join(parts)}'
            f'<div class="legend">{" &nbsp; ".join(legend)}</div></figure>')


def _links(r: RunRecord, root: Path) -> str:
    rel = os.path.relpath(r.folder, root)
    links = []
    for lang in ("id", "en"):
        for ext in ("pdf", "html"):
            f = r.folder / "brief" / f"brief_{lang}.{ext}"
            if f.exists():
                links.append(f'<a href="{html.escape(rel)}/brief/{f.name}">brief {lang} ({ext})</a>')
                break
    if (r.folder / "notebooks").is_dir():
        links.append(f'<a href="{html.escape(rel)}/notebooks/">notebooks</a>')
    if (r.folder / "manifest.json").exists():
        links.append(f'<a href="{html.escape(rel)}/manifest.json">manifest</a>')
    return " · ".join(links)


def render(out_root: str | Path, retention: Retention | None = None, min_cell: int = 5) -> str:
    """The page for the runs of ``out_root`` (the trend: the last ``retention.trend_runs`` successful ones;
    counts of people below ``min_cell`` are not drawn)."""
    root = Path(out_root).resolve()
    records = read_runs(root)
    keep = (retention or Retention()).trend_runs
    trend = [r for r in records if r.succeeded][:keep][::-1]  # oldest first
    charts = []
    for key, series, kind in CHARTS:
        labelled = [(both(label), name) for label, name in series]
        interval = ("ikm_effect_low", "ikm_effect_high") if key == "history.chart.ikm" else None
        charts.append(chart(both(key), trend, labelled, kind, interval, min_cell))
    rows = []
    for r in records:
        colour = STATUS_COLOURS.get(r.status, "#555")
        # errors are one line as the runner printed them; NIP-like numbers masked once more all the same
        error = (f'<div class="error">{html.escape(console_text(r.error))}</div>'
                 if r.error and not r.succeeded else "")
        seconds = number(r.seconds, "num", "id", 0) if r.seconds is not None else "–"
        started = (r.started_at or "–").replace("T", " ").replace("Z", "")
        rows.append(
            f'<tr><td><code>{html.escape(r.run_id)}</code>{error}</td>'
            f'<td><span class="status" style="background:{colour}">{html.escape(r.status)}</span></td>'
            f'<td>{html.escape(started)}</td><td class="num">{seconds}</td>'
            f'<td>{html.escape(r.params_name or "–")}</td><td><code>{html.escape((r.data_fingerprint or "–")[:12])}'
            f'</code></td><td>{_links(r, root)}</td></tr>')
    head = "".join(f"<th>{html.escape(both(k))}</th>" for k in (
        "history.col.run", "history.col.status", "history.col.started", "history.col.seconds",
        "history.col.params", "history.col.data", "history.col.links"))
    written = datetime.now(timezone.utc).isoformat(timespec="seconds")
    about_id, about_en = (html.escape(t("history.about", lang, n=len(trend))) for lang in ("id", "en"))
    return f"""<!DOCTYPE html>
<html lang="id"><head><meta charset="utf-8"><title>{html.escape(both("history.title"))}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, "DejaVu Sans", sans-serif; margin: 24px; color: #222; }}
h1 {{ font-size: 1.5em; }} h2 {{ font-size: 1.15em; margin-top: 1.6em; }}
.charts {{ display: flex; flex-wrap: wrap; gap: 18px; }}
figure.chart {{ margin: 0; border: 1px solid #ddd; padding: 8px; border-radius: 4px; max-width: {W + 4}px; }}
figcaption {{ font-weight: bold; margin-bottom: 4px; }}
svg text {{ font-size: 11px; fill: #444; }} svg .grid {{ stroke: #e5e5e5; }}
svg .interval {{ stroke: #1f77b4; stroke-width: 1.5; opacity: 0.45; }}
.legend {{ font-size: 12px; }} .none {{ color: #777; }}
table {{ border-collapse: collapse; margin-top: 8px; }}
th, td {{ border-bottom: 1px solid #e5e5e5; padding: 4px 8px; text-align: left; vertical-align: top; }}
td.num {{ text-align: right; }} .status {{ color: white; padding: 1px 6px; border-radius: 3px; }}
.error {{ color: #a00; font-size: 0.9em; max-width: 40em; }}
</style></head>
<body>
<h1>{html.escape(both("history.title"))}</h1>
<p>{about_id}<br><em>{about_en}</em></p>
<h2>{html.escape(both("history.trends"))}</h2>
<div class="charts">{"".join(charts)}</div>
<h2>{html.escape(both("history.runs"))}</h2>
<table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>
<p class="none">{html.escape(both("history.written", when=written))}</p>
</body></html>
"""


def write_index(out_root: str | Path, retention: Retention | None = None, min_cell: int = 5) -> Path:
    """Write ``<out_root>/index.html`` atomically (a reader sees the old page or the new one)."""
    root = Path(out_root)
    path = root / PAGE
    page = render(root, retention, min_cell)
    fd, tmp = tempfile.mkstemp(dir=root, prefix=f".{PAGE}.", suffix=".tmp")  # two writers never share one
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(page)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
