"""The review page (`docpipe review OUT`): a local web page to check a run's values on their pages.

    /                         the documents, least certain first
    /doc/<doc_id>             its pages with every value's box drawn, coloured by confidence, and
                              the values beside them; keys: j / k next / previous value (least
                              certain first), a accept, e edit (Enter saves, Esc leaves)
    /page/<doc_id>/<n>.png    page n as an image (rendered from the source file)
    POST /api/correct         {doc_id, field, list_index, item_field, new_value, accepted}

Corrections are appended to the `corrections` table (output/corrections.py); the page shows the
corrected values (`read_table(..., corrected=True)`). Starlette and uvicorn come with Prefect.
"""

from __future__ import annotations

import html
import io
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from docpipe.output.corrections import correction, record_correction
from docpipe.output.tables import read_table
from docpipe.schema.spec import Schema

PAGE_WIDTH = 1000  # pixels of a page image on the review page

STYLE = """
body { font-family: sans-serif; margin: 0; }
header { padding: 8px 16px; background: #223; color: #fff; }
header a { color: #fff; }
main { display: flex; gap: 16px; padding: 16px; }
.pages { flex: 3; }
.page { position: relative; margin-bottom: 16px; border: 1px solid #999; }
.page img { width: 100%; display: block; }
.box { position: absolute; border: 2px solid; box-sizing: border-box; }
.fields { flex: 2; font-size: 14px; }
.fields table { border-collapse: collapse; width: 100%; }
.fields td { border-bottom: 1px solid #ddd; padding: 4px; vertical-align: top; }
tr.value.current { outline: 3px solid #36f; }
tr.value.done td:first-child::after { content: " \\2713"; color: #070; }
input.edit { width: 100%; font-size: 14px; }
.low { color: #c00; } .mid { color: #b60; } .high { color: #070; }
"""

SCRIPT = """
const rows = Array.from(document.querySelectorAll('tr.value'));
rows.sort((a, b) => parseFloat(a.dataset.confidence) - parseFloat(b.dataset.confidence));
let at = 0;
function show(i) {
  rows.forEach(r => r.classList.remove('current'));
  at = Math.max(0, Math.min(rows.length - 1, i));
  if (rows.length) { rows[at].classList.add('current'); rows[at].scrollIntoView({block: 'nearest'}); }
}
async function send(row, body) {
  const answer = await fetch('/api/correct', {method: 'POST', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify(Object.assign({doc_id: DOC, field: row.dataset.field,
      list_index: row.dataset.index === '' ? null : parseInt(row.dataset.index),
      item_field: row.dataset.item || null}, body))});
  if (answer.ok) { row.classList.add('done'); document.getElementById('said').textContent = 'saved'; }
  else { document.getElementById('said').textContent = 'not saved: ' + await answer.text(); }
}
document.addEventListener('keydown', e => {
  const input = document.activeElement;
  if (input && input.classList.contains('edit')) {
    if (e.key === 'Enter') { const row = input.closest('tr');
      row.querySelector('.shown').textContent = input.value;
      send(row, {new_value: input.value === '' ? null : input.value, accepted: false}); input.blur(); show(at + 1); }
    if (e.key === 'Escape') { input.blur(); }
    return;
  }
  if (e.key === 'j') show(at + 1);
  if (e.key === 'k') show(at - 1);
  if (e.key === 'a' && rows.length) { send(rows[at], {new_value: null, accepted: true}); show(at + 1); }
  if (e.key === 'e' && rows.length) { e.preventDefault(); const edit = rows[at].querySelector('.edit');
    edit.value = rows[at].querySelector('.shown').textContent; edit.focus(); edit.select(); }
});
show(0);
"""


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _level(confidence: float | None) -> str:
    if confidence is None or confidence < 0.5:
        return "low"
    return "mid" if confidence < 0.8 else "high"


def _colour(confidence: float | None) -> str:
    return {"low": "#d00", "mid": "#e80", "high": "#090"}[_level(confidence)]


def _number(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


class Review:
    """What the page reads: the output folder, the schema, and who reviews."""

    def __init__(self, out: Path, schema: Schema, reviewer: str):
        self.out, self.schema, self.reviewer = Path(out), schema, reviewer

    def records(self) -> pd.DataFrame:
        return read_table(self.out, self.schema.name, corrected=True, schema=self.schema, python_cells=True)

    def documents(self) -> pd.DataFrame:
        return read_table(self.out, "documents")

    def values(self, row: pd.Series) -> list[dict[str, Any]]:
        """Every value of a record: its field, list index, item field, value, confidence, box."""
        found = []
        for spec in self.schema.fields:
            if spec.kind != "list":
                found.append({"field": spec.name, "index": None, "item": None, "value": row.get(spec.name),
                              "confidence": _number(row.get(f"{spec.name}_confidence")),
                              "box": row.get(f"{spec.name}_box")})
                continue
            items = row.get(spec.name)
            for index, item in enumerate(items if items is not None else []):
                for sub in spec.fields:
                    found.append({"field": spec.name, "index": index, "item": sub.name, "value": item.get(sub.name),
                                  "confidence": _number(item.get("confidence")), "box": item.get(f"{sub.name}_box")})
        return found


def _page(title: str, body: str, script: str = "") -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
                        f"<style>{STYLE}</style></head><body>{body}{script}</body></html>")


def index(request: Request) -> Response:
    review: Review = request.app.state.review
    records, documents = review.records(), review.documents()
    names = {d.doc_id: Path(d.source_path).name for d in documents.itertuples()}
    records = records.sort_values("lowest_confidence", na_position="first", kind="stable")
    rows = "".join(
        f"<tr><td><a href='/doc/{html.escape(r.doc_id)}'>{html.escape(names.get(r.doc_id, r.doc_id))}</a></td>"
        f"<td>{'valid' if r.valid else 'not valid'}</td>"
        f"<td class='{_level(_number(r.lowest_confidence))}'>{_text(_number(r.lowest_confidence))}</td>"
        f"<td>{len(r.corrected)}</td></tr>"
        for r in records.itertuples()
    )
    body = (f"<header>docpipe review: {html.escape(str(review.out))} ({html.escape(review.schema.name)}), "
            "least certain first</header><main><table class='documents'><tr><th>document</th><th>record</th>"
            f"<th>least certain</th><th>corrected</th></tr>{rows}</table></main>")
    return _page("docpipe review", body)


def document(request: Request) -> Response:
    review: Review = request.app.state.review
    doc_id = request.path_params["doc_id"]
    records = review.records()
    found = records[records["doc_id"] == doc_id]
    if found.empty:
        return HTMLResponse(f"no record of {html.escape(doc_id)}", status_code=404)
    row = found.iloc[0]
    documents = review.documents()
    meta = documents[documents["doc_id"] == doc_id].iloc[0]
    values = review.values(row)
    pages = ""
    for page_no in range(1, int(meta["pages"]) + 1):
        boxes = "".join(
            f"<div class='box' data-field='{html.escape(_name(v))}' title='{html.escape(_name(v))}' "
            f"style='left:{v['box']['x0'] * 100:.2f}%;top:{v['box']['y0'] * 100:.2f}%;"
            f"width:{(v['box']['x1'] - v['box']['x0']) * 100:.2f}%;height:{(v['box']['y1'] - v['box']['y0']) * 100:.2f}%;"
            f"border-color:{_colour(v['confidence'])}'></div>"
            for v in values if isinstance(v["box"], dict) and v["box"].get("page") == page_no
        )
        pages += (f"<div class='page' id='page-{page_no}'><img alt='page {page_no}' "
                  f"src='/page/{html.escape(doc_id)}/{page_no}.png'>{boxes}</div>")
    fields = "".join(
        f"<tr class='value' data-field='{html.escape(v['field'])}' data-index='{'' if v['index'] is None else v['index']}' "
        f"data-item='{html.escape(v['item'] or '')}' data-confidence='{v['confidence'] if v['confidence'] is not None else 0}'>"
        f"<td>{html.escape(_name(v))}</td><td><span class='shown'>{html.escape(_text(v['value']))}</span>"
        f"<input class='edit' type='text' aria-label='{html.escape(_name(v))}'></td>"
        f"<td class='{_level(v['confidence'])}'>{_text(v['confidence'])}</td></tr>"
        for v in values
    )
    name = Path(meta["source_path"]).name
    body = (f"<header><a href='/'>documents</a> / {html.escape(name)}: j / k next / previous value (least certain "
            f"first), a accept, e edit, Enter save. <span id='said'></span></header><main><div class='pages'>{pages}</div>"
            f"<div class='fields'><table>{fields}</table></div></main>")
    return _page(f"{name}: docpipe review", body, f"<script>const DOC = {json.dumps(doc_id)};{SCRIPT}</script>")


def _name(value: dict[str, Any]) -> str:
    return value["field"] if value["index"] is None else f"{value['field']}[{value['index']}].{value['item']}"


def page_image(request: Request) -> Response:
    review: Review = request.app.state.review
    doc_id, page_no = request.path_params["doc_id"], int(request.path_params["page_no"])
    documents = review.documents()
    found = documents[documents["doc_id"] == doc_id]
    if found.empty:
        return Response("no such document", status_code=404)
    image = _render(Path(found.iloc[0]["source_path"]), page_no)
    if image is None:
        return Response("the page cannot be shown (its file moved or is not readable)", status_code=404)
    data = io.BytesIO()
    image.save(data, "PNG")
    return Response(data.getvalue(), media_type="image/png")


def _render(path: Path, page_no: int):
    """Page `page_no` of the source file, PAGE_WIDTH pixels wide (the boxes are fractions of it)."""
    import pymupdf
    from PIL import Image

    try:
        with pymupdf.open(path) as doc:
            if doc.is_pdf:
                page = doc.load_page(page_no - 1)
                zoom = PAGE_WIDTH / page.rect.width
                pix = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False)
                return Image.frombytes("RGB", (pix.width, pix.height), pix.samples)
        with Image.open(path) as image:
            image.seek(page_no - 1)
            image = image.convert("RGB")
            return image.resize((PAGE_WIDTH, round(image.height * PAGE_WIDTH / image.width)))
    except (OSError, ValueError, RuntimeError, EOFError):
        return None


async def correct(request: Request) -> Response:
    review: Review = request.app.state.review
    try:
        asked = await request.json()
        doc_id, field = str(asked["doc_id"]), str(asked["field"])
    except (ValueError, KeyError, TypeError):
        return JSONResponse({"error": "give doc_id, field, list_index, item_field, new_value, accepted"}, status_code=400)
    records = review.records()
    found = records[records["doc_id"] == doc_id]
    spec = next((f for f in review.schema.fields if f.name == field), None)
    if found.empty or spec is None:
        return JSONResponse({"error": f"no value {field!r} of document {doc_id!r}"}, status_code=404)
    row = found.iloc[0]
    index = asked.get("list_index")
    item_field = asked.get("item_field")
    if index is None:
        old = row.get(field)
        checked = spec
    else:
        items = row.get(field)
        if items is None or not 0 <= int(index) < len(items):
            return JSONResponse({"error": f"{field} has no item {index}"}, status_code=404)
        old = items[int(index)].get(item_field)
        checked = next((s for s in spec.fields if s.name == item_field), None)
        if checked is None:
            return JSONResponse({"error": f"{field} items have no field {item_field!r}"}, status_code=404)
    new_value = asked.get("new_value")
    if new_value is not None and not asked.get("accepted"):
        try:
            checked.parse(str(new_value))
        except ValueError as exc:  # said now, not when the table is read
            return JSONResponse({"error": f"{new_value!r} is not a {checked.kind}: {exc}"}, status_code=422)
    record_correction(review.out, correction(
        doc_id, row["work_key"], review.schema.name, field, None if new_value is None else str(new_value), old,
        review.reviewer, None if index is None else int(index), item_field, bool(asked.get("accepted")),
    ))
    return JSONResponse({"saved": True})


def review_app(out: Path, schema: Schema, reviewer: str) -> Starlette:
    app = Starlette(routes=[
        Route("/", index), Route("/doc/{doc_id}", document),
        Route("/page/{doc_id}/{page_no:int}.png", page_image), Route("/api/correct", correct, methods=["POST"]),
    ])
    app.state.review = Review(out, schema, reviewer)
    return app
