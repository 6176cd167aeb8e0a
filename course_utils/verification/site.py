"""The executed notebooks as a static site: one HTML page each and an index page."""

from __future__ import annotations

import html
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

from .results import RunRecord


def render_page(nb: nbformat.NotebookNode, target: Path) -> Path:
    """Write ``nb`` (already executed) as a stand-alone HTML page."""
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(body, encoding="utf-8")
    return target


def page_name(notebook: str) -> str:
    return notebook.replace("/", "__").removesuffix(".ipynb") + ".html"


def render_index(record: RunRecord, folder: Path) -> Path:
    """``index.html``: each notebook with its time, status and every metric with its claim."""
    rows = []
    for r in record.notebooks:
        claims = [m for m in r.metrics if m.is_claim]
        state = "ok" if r.ok else ("claim failed" if r.status == "passed" else r.status)
        metrics = "<br>".join(html.escape(f"{m.name}: {m.describe()}") for m in r.metrics) or "&ndash;"
        title = Path(r.notebook).stem.replace("_", " ")
        rows.append(
            f"<tr class='{'ok' if r.ok else 'bad'}'><td><a href='{page_name(r.notebook)}'>{html.escape(title)}</a></td>"
            f"<td class='n'>{r.seconds:.0f}</td><td>{html.escape(state)}</td>"
            f"<td class='n'>{sum(bool(m.passed) for m in claims)}/{len(claims)}</td><td>{metrics}</td></tr>"
        )
    m = record.machine
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Computer vision course: {record.profile} profile</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }} td, th {{ border-bottom: 1px solid #ddd; padding: .4em .6em; vertical-align: top; text-align: left; }}
td.n {{ text-align: right; }} tr.bad td {{ background: #fde8e8; }} small {{ color: #666; }}
</style></head><body>
<h1>Computer vision, from pixels to diffusion</h1>
<p>Every lesson executed top to bottom in the <b>{record.profile}</b> profile on {html.escape(record.date)}:
{html.escape(str(m.get('cpu')))}, {m.get('cores')} cores, GPU: {html.escape(str(m.get('gpu') or 'none'))}.
Read a lesson with its figures without running it; claims are the bounds each lesson asserts.</p>
<table><tr><th>lesson</th><th>seconds</th><th>status</th><th>claims passed</th><th>metrics (value, claim)</th></tr>
{''.join(rows)}
</table>
<p><small>{html.escape(', '.join(f'{k} {v}' for k, v in record.versions.items()))}</small></p>
</body></html>
"""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "index.html"
    target.write_text(page, encoding="utf-8")
    return target
