"""The review page (`docpipe review OUT`): a local web page to check a run's values on their pages
and correct them, one schema's queue after another.

    /                                   the first schema's queue
    /<schema>/?show=&field=&below=&order=&page=
                                        the queue (backlog.py), 50 documents a page
    /<schema>/doc/<doc_id>?<queue>      its pages with a box on every value and the values beside
                                        them; n / p the next / previous document of the queue
    /<schema>/calibration(.png)         calibration from the reviews (eval/calibration.py)
    /page/<doc_id>/<n>.png              page n, drawn as ingest draws it for the model
    /static/review.js, review.css       the page's own script and style (classes.js: the class page's)
    /~classes/, /~classes/doc/<key>     the sorted documents' classes, least certain first (classes.py)
    POST /api/~classes/correct          {doc_id: key, action: accept | set, new_value: class}
    POST /api/<schema>/correct          {doc_id, action, field, list_index, item_field, new_value}
    POST /api/<schema>/preview          the same with new_value: how it would be typed

Everything goes through guard.py (token, Host, CSRF). Corrections are appended to the
`corrections` table (output/corrections.py, review/edits.py).
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.compute as pc
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from docpipe.core.errors import DocpipeError
from docpipe.eval.calibration import Calibration, calibration, plot
from docpipe.ingest.convert import CONVERTED
from docpipe.ingest.limits import RenderOptions
from docpipe.ingest.render import display_page
from docpipe.output.corrections import CLASS_TABLE, from_stored, record_corrections
from docpipe.output.table_cache import TableCache
from docpipe.review import pages
from docpipe.review.backlog import PER_PAGE, SHOWS, Backlog, Filter
from docpipe.review.classes import TAB as CLASS_TAB
from docpipe.review.classes import class_rows, sorted_segments
from docpipe.review.edits import EditRefused, Edits, how_typed, shown, target, typed
from docpipe.review.guard import Guard
from docpipe.review.values import lines
from docpipe.schema.spec import Schema

PAGE_WIDTH = 1000  # pixels of a page image on the review page (boxes are fractions of it)
STATIC = {"review.js": "text/javascript", "classes.js": "text/javascript", "review.css": "text/css"}


@dataclass
class Review:
    """What the page serves: the output folder, a backlog per schema, who reviews."""

    out: Path
    backlogs: dict[str, Backlog]
    reviewer: str
    csrf: str
    documents: TableCache
    _calibrations: dict[str, tuple[tuple[int, int], Calibration]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _segments: pd.DataFrame | None = None
    _segment_rows: TableCache = None  # type: ignore[assignment]  # set in __post_init__
    _class_fixes: TableCache = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        self._segment_rows = TableCache(self.out, CLASS_TABLE)  # one row per document found: small
        self._class_fixes = TableCache(self.out, "corrections")

    def tabs(self) -> list[tuple[str, int]]:
        """Each schema with the documents left to review; the sorted documents' classes not reviewed yet."""
        tabs = [(name, b.count(Filter())) for name, b in self.backlogs.items()]
        segments = self.segments()
        if not segments.empty:
            tabs.append((CLASS_TAB, int((~segments["class_reviewed"]).sum())))
        return tabs

    def segments(self) -> pd.DataFrame:
        """The sorted files' segments with the reviewers' classes (review/classes.py), made again
        when the segments or corrections table changed (each file read once)."""
        changed = self._segment_rows.refresh() | self._class_fixes.refresh()  # documents: the queues refresh it
        with self._lock:
            if changed or self._segments is None:
                rows, fixes, documents = (self._segment_rows.arrow(), self._class_fixes.arrow(), self.documents.arrow())
                names = {} if documents is None or "name" not in documents.column_names else dict(
                    zip(documents["doc_id"].to_pylist(), documents["name"].to_pylist()))
                self._segments = sorted_segments(
                    pd.DataFrame() if rows is None else rows.to_pandas(),
                    pd.DataFrame() if fixes is None else fixes.to_pandas(), names)
            return self._segments

    def calibration(self, name: str) -> Calibration:
        backlog = self.backlogs[name]
        backlog.frame()  # refreshes the tables' versions
        key = (backlog.records.version, backlog.corrections.version)
        with self._lock:
            cached = self._calibrations.get(name)
            if cached is None or cached[0] != key:
                cached = (key, calibration(self.out, backlog.schema))
                self._calibrations[name] = cached
        return cached[1]


def build_review(out: Path, schemas: list[Schema], reviewer: str, csrf: str) -> Review:
    documents = TableCache(out, "documents", ["doc_id", "work_key", "source_path", "name", "pages", "status", "finished_at"])
    corrections = TableCache(out, "corrections")
    backlogs = {s.name: Backlog(out, s, documents, corrections) for s in schemas}
    return Review(Path(out), backlogs, reviewer, csrf, documents)


def _backlog(request: Request) -> Backlog | None:
    review: Review = request.app.state.review
    return review.backlogs.get(request.path_params.get("schema", ""))


def home(request: Request) -> Response:
    review: Review = request.app.state.review
    first = next(iter(review.backlogs), CLASS_TAB)
    return RedirectResponse(f"/{first}/", status_code=303)


def classes_queue(request: Request) -> Response:
    review: Review = request.app.state.review
    return HTMLResponse(pages.classes_queue_page(str(review.out), CLASS_TAB, review.tabs(), review.segments()))


def class_view(request: Request) -> Response:
    review: Review = request.app.state.review
    segments, key = review.segments(), request.path_params["key"]
    found = segments.index[segments["key"] == key] if not segments.empty else []
    if not len(found):
        return HTMLResponse(f"<p>no sorted document {pages.e(key)}</p>", status_code=404)
    at = int(found[0])
    after = next((str(k) for k, done in zip(segments["key"].iloc[at + 1:], segments["class_reviewed"].iloc[at + 1:])
                  if not done), None)
    return HTMLResponse(pages.class_page(str(review.out), CLASS_TAB, review.tabs(), segments.iloc[at], after,
                                         review.csrf))


async def class_correct(request: Request) -> Response:
    review: Review = request.app.state.review
    try:
        asked = await request.json()
    except ValueError:
        return JSONResponse({"error": "the body must be a JSON object"}, status_code=400)
    if not isinstance(asked, dict) or not isinstance(asked.get("doc_id"), str):
        return JSONResponse({"error": "give a JSON object with doc_id, action (accept | set) and new_value"},
                            status_code=400)

    def take() -> int:
        rows = class_rows(review.segments(), asked["doc_id"], str(asked.get("action")), asked.get("new_value"),
                          review.reviewer)
        record_corrections(review.out, rows)
        return len(rows)

    try:
        saved = await run_in_threadpool(take)
    except EditRefused as exc:
        return JSONResponse({"error": str(exc)}, status_code=exc.status)
    return JSONResponse({"saved": saved})


def queue(request: Request) -> Response:
    review: Review = request.app.state.review
    backlog = _backlog(request)
    if backlog is None:
        return _missing(request)
    try:
        wanted = Filter.from_query(dict(request.query_params), backlog.schema)
        page_no = max(1, int(request.query_params.get("page") or 1))
    except ValueError as exc:
        return HTMLResponse(f"<p>{pages.e(exc)}</p>", status_code=400)
    rows = backlog.positions(wanted)
    page_no = min(page_no, max(1, -(-len(rows) // PER_PAGE)))
    shown_rows = backlog.frame().iloc[rows[(page_no - 1) * PER_PAGE: page_no * PER_PAGE]]
    counts = {show: backlog.count(Filter(show, wanted.field, wanted.below)) for show in SHOWS}
    fields = [f.name for f in backlog.schema.fields]
    return HTMLResponse(pages.queue_page(str(review.out), backlog.schema.name, review.tabs(), fields, wanted,
                                         shown_rows, len(rows), counts, page_no, len(backlog.frame())))


def document(request: Request) -> Response:
    review: Review = request.app.state.review
    backlog = _backlog(request)
    if backlog is None:
        return _missing(request)
    doc_id = request.path_params["doc_id"]
    try:
        wanted = Filter.from_query(dict(request.query_params), backlog.schema)
    except ValueError as exc:
        return HTMLResponse(f"<p>{pages.e(exc)}</p>", status_code=400)
    entry = backlog.entry(doc_id)
    found = backlog.reviewed_record(doc_id) if entry is not None else None
    if entry is None or found is None:
        return HTMLResponse(f"<p>no {pages.e(backlog.schema.name)} record of {pages.e(doc_id)}</p>", status_code=404)
    extracted, applied, _ = found
    before, after = backlog.neighbours(wanted, doc_id)
    notes = {s.name: how_typed(extracted, s) for f in backlog.schema.fields for s in (f, *f.fields)}
    page_count = 0 if pd.isna(entry.get("pages")) else int(entry["pages"])  # no documents row: no pages to show
    page_nos = range(1, page_count + 1)
    if not pd.isna(entry.get("page_from")):  # a sorted file's document: its own pages
        page_nos = range(int(entry["page_from"]), int(entry["page_to"]) + 1)
    back = f"/{backlog.schema.name}/?{request.url.query}" if request.url.query else f"/{backlog.schema.name}/"
    html = pages.document_page(str(review.out), backlog.schema.name, review.tabs(), doc_id, str(entry["name"]),
                               page_nos, lines(backlog.schema, applied), applied.done, wanted, back, before, after,
                               review.csrf, {k: v for k, v in notes.items() if v}, problems(extracted),
                               _sorted_as(review, doc_id, entry))
    return HTMLResponse(html)


def _sorted_as(review: Review, key: str, entry: pd.Series) -> str:
    """The class a sorting gave this record, with a link to review it (empty: not sorted)."""
    if pd.isna(entry.get("segment")):
        return ""
    found = review.segments()
    found = found[found["key"] == key] if not found.empty else found
    if found.empty:
        return ""
    row = found.iloc[0]
    verdict = "reviewed" if row["class_reviewed"] else f"{pages.confidence(row['model_confidence'])}, {pages.e(row['class_rule'])}"
    return (f"sorted as <b>{pages.e(row['doc_class'])}</b> ({verdict}) · "
            f"<a href='/{CLASS_TAB}/doc/{pages.e(key)}'>review the class</a>")


def problems(record: dict[str, Any]) -> list[str]:
    """What the record's rules say of it (answers/assess.py), one line each."""
    said = [f"check failed: {f['check']}: {f['detail']}" for f in record.get("checks_failed") or []]
    if record.get("missing"):
        said.append("required, missing: " + ", ".join(record["missing"]))
    if record.get("not_on_page"):
        said.append("not on its page (likely invented or misread): " + ", ".join(record["not_on_page"]))
    return said


def calibration_view(request: Request) -> Response:
    review: Review = request.app.state.review
    backlog = _backlog(request)
    if backlog is None:
        return _missing(request)
    result = review.calibration(backlog.schema.name)
    bins = result.bins.drop(columns=["low", "high"])
    return HTMLResponse(pages.calibration_page(str(review.out), backlog.schema.name, review.tabs(), bins,
                                               result.thresholds, result.notes))


def calibration_png(request: Request) -> Response:
    review: Review = request.app.state.review
    backlog = _backlog(request)
    if backlog is None:
        return _missing(request)
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = plot(review.calibration(backlog.schema.name), Path(folder) / "calibration.png")
        return Response(path.read_bytes(), media_type="image/png")


def page_image(request: Request) -> Response:
    review: Review = request.app.state.review
    doc_id, page_no = request.path_params["doc_id"], int(request.path_params["page_no"])
    review.documents.refresh()
    arrow = review.documents.arrow()
    found = None if arrow is None else arrow.filter(pc.equal(arrow["doc_id"], doc_id))
    if found is None or found.num_rows == 0:
        return Response("no such document", status_code=404)
    problem = ""
    for source in dict.fromkeys(found["source_path"].to_pylist()):  # the file, or a copy of it
        try:
            image = display_page(Path(source), page_no, PAGE_WIDTH, RenderOptions(converted=str(review.out / CONVERTED)),
                                 doc_id)
        except (DocpipeError, OSError) as exc:
            problem = str(exc)
            continue
        data = io.BytesIO()
        image.save(data, "PNG")
        return Response(data.getvalue(), media_type="image/png")
    return Response(f"the page cannot be shown: {problem}", status_code=404)


def static(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in STATIC:
        return Response("no such file", status_code=404)
    text = (resources.files("docpipe.review") / "static" / name).read_bytes()
    return Response(text, media_type=STATIC[name])


async def correct(request: Request) -> Response:
    return await _edit(request, preview=False)


async def preview(request: Request) -> Response:
    return await _edit(request, preview=True)


async def _edit(request: Request, preview: bool) -> Response:
    review: Review = request.app.state.review
    backlog = _backlog(request)
    if backlog is None:
        return JSONResponse({"error": f"no schema {request.path_params.get('schema')!r} here"}, status_code=404)
    try:
        asked = await request.json()
    except ValueError:
        return JSONResponse({"error": "the body must be a JSON object"}, status_code=400)
    if not isinstance(asked, dict) or not isinstance(asked.get("doc_id"), str):
        return JSONResponse({"error": "give a JSON object with doc_id, action, field, list_index, item_field, "
                                      "new_value"}, status_code=400)
    try:
        answer = await run_in_threadpool(_take, review, backlog, asked, preview)
    except EditRefused as exc:
        return JSONResponse({"error": str(exc)}, status_code=exc.status)
    return JSONResponse(answer)


def _take(review: Review, backlog: Backlog, asked: dict[str, Any], preview: bool) -> dict[str, Any]:
    doc_id = asked["doc_id"]
    found = backlog.reviewed_record(doc_id)
    if found is None:
        raise EditRefused(f"no {backlog.schema.name} record of document {doc_id!r}", 404)
    extracted, applied, fixes = found
    if preview:
        where = target(backlog.schema, asked)
        if where.spec.kind.is_group:
            raise EditRefused("name a value: a field, a list item's field or an object's field", 400)
        value = typed(backlog.schema, extracted, where, asked.get("new_value"))
        return {"value": shown(value, where.spec.kind), "note": how_typed(extracted, where.spec)}
    rows = Edits(backlog.schema, review.reviewer, doc_id, extracted, applied, fixes).rows(asked)
    if rows:
        record_corrections(review.out, rows)
    answer: dict[str, Any] = {"saved": len(rows)}
    if asked.get("action") == "set" and rows:  # the value as it was typed and kept
        spec = target(backlog.schema, asked).spec
        answer["value"] = shown(from_stored(spec, rows[0].typed_value), spec.kind)
        answer["raw"] = rows[0].new_value
    if not rows:
        answer["why"] = "already corrected: edit it to change it"
    return answer


def _missing(request: Request) -> Response:
    review: Review = request.app.state.review
    return HTMLResponse(f"<p>no records of {pages.e(request.path_params.get('schema'))} here; "
                        f"schemas: {pages.e(', '.join(review.backlogs))}</p>", status_code=404)


def review_app(review: Review, token: str, cookie: str, hosts: frozenset[str] | None) -> Guard:
    """The page for `review`, behind its guard (`hosts`: the Host headers it answers to; None for
    any, where it is served to other machines on purpose and the token alone decides)."""
    app = Starlette(routes=[
        Route("/", home),
        Route("/static/{name}", static),
        Route("/page/{doc_id}/{page_no:int}.png", page_image),
        Route(f"/api/{CLASS_TAB}/correct", class_correct, methods=["POST"]),
        Route(f"/{CLASS_TAB}/", classes_queue),
        Route(f"/{CLASS_TAB}/doc/{{key}}", class_view),
        Route("/api/{schema}/correct", correct, methods=["POST"]),
        Route("/api/{schema}/preview", preview, methods=["POST"]),
        Route("/{schema}/", queue),
        Route("/{schema}/doc/{doc_id}", document),
        Route("/{schema}/calibration", calibration_view),
        Route("/{schema}/calibration.png", calibration_png),
    ])
    app.state.review = review
    return Guard(app, token, review.csrf, cookie, hosts)
