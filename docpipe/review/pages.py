"""The review page's HTML: the queue, one document, calibration. Every text that comes from a
table is escaped; the scripts and styles are the page's own files (static/), never inline (the
guard's Content-Security-Policy allows nothing else)."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import pandas as pd

from docpipe.output.record_columns import STATES
from docpipe.review.backlog import PER_PAGE, SHOWS, Filter
from docpipe.review.edits import shown
from docpipe.review.values import Line

STATE_WORDS = {"not parsed": "<span class=low>not parsed</span>", "incomplete": "<span class=low>incomplete</span>",
               "inconsistent": "<span class=mid>checks failed</span>", "ok": "ok"}
SHOW_WORDS = {"todo": "to review", "all": "all", "invalid": "not parsed", "incomplete": "incomplete",
              "inconsistent": "checks failed", "done": "done", "sample": "random sample"}


def e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def confidence(value: float | None) -> str:
    """Two digits, never sixteen; a value under 0.01 says so instead of 0.00."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return "<0.01" if 0 < value < 0.01 else f"{value:.2f}"


def level(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value < 0.5:
        return "low"
    return "mid" if value < 0.8 else "high"


def page(title: str, body: str, data: dict[str, str] | None = None, script: str = "review.js") -> str:
    attributes = "".join(f" data-{k}='{e(v)}'" for k, v in (data or {}).items())
    return ("<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>{e(title)}</title><link rel='stylesheet' href='/static/review.css'></head>"
            f"<body{attributes}>{body}<script src='/static/{script}'></script></body></html>")


def header(out: str, schema: str, schemas: Sequence[tuple[str, int]], extra: str = "") -> str:
    tabs = "".join(f"<a class='tab{' current' if name == schema else ''}' href='/{quote(name)}/'>"
                   f"{e(name.lstrip('~'))} <span class='count'>{count:,}</span></a>" for name, count in schemas)
    calibration = "" if schema.startswith("~") else f"<a href='/{quote(schema)}/calibration'>calibration</a>"
    return (f"<header><span class='title'>docpipe review</span> <span class='out'>{e(out)}</span> "
            f"<nav>{tabs}{calibration}</nav>{extra}</header>")


def classes_queue_page(out: str, tab: str, schemas: Sequence[tuple[str, int]], segments: pd.DataFrame) -> str:
    """The sorted files' segments, least certain class first."""
    rows = "".join(
        f"<tr><td><a href='/{quote(tab)}/doc/{e(r.key)}'>{e(r.name)}</a></td><td>{e(r.doc_class)}</td>"
        f"<td class='{level(r.class_confidence)}'>{confidence(r.class_confidence)}</td><td>{e(r.class_rule)}</td>"
        f"<td>{'reviewed' if r.class_reviewed else ''}</td></tr>" for r in segments.itertuples())
    body = (header(out, tab, schemas)
            + f"<main class='queue'><p>{len(segments):,} documents found by sorting; least certain class first.</p>"
            f"<table class='documents'><tr><th>document</th><th>class</th><th>confidence</th><th>why</th><th></th></tr>"
            f"{rows}</table></main>")
    return page("classes: docpipe review", body)


def class_page(out: str, tab: str, schemas: Sequence[tuple[str, int]], segment: Any, after: str | None,
               csrf: str) -> str:
    """One segment's pages and its class, with the classes to choose from (a, Enter: accept; the
    list and save: another class; n: the next)."""
    pictures = "".join(
        f"<div class='page' id='page-{n}'><img alt='page {n}' src='/page/{e(segment.doc_id)}/{n}.png'></div>"
        for n in range(int(segment.page_from), int(segment.page_to) + 1))
    options = "".join(f"<option value='{e(c)}'{' selected' if c == segment.doc_class else ''}>{e(c)}</option>"
                      for c in segment.classes)
    said = (f"sorted as <b>{e(segment.model_class)}</b> ({confidence(segment.model_confidence)}; {e(segment.class_rule)})"
            + (f"; reviewed: <b>{e(segment.doc_class)}</b>" if segment.class_reviewed else ""))
    links = f"<a href='/{quote(tab)}/'>queue</a>"
    if after:
        links += f" · <a id='next' href='/{quote(tab)}/doc/{e(after)}'>next (n)</a>"
    extra = (f"<div class='doc'><b>{e(segment.name)}</b> · {links} · {said} · "
             f"<label>class <select id='class'>{options}</select></label> <button id='save-class'>save</button> "
             f"<button id='accept-class'>accept (a)</button> <span id='said' role='status'></span></div>")
    body = header(out, tab, schemas, extra) + f"<main class='document'><div class='pages'>{pictures}</div></main>"
    data = {"doc": segment.key, "csrf": csrf, "api": f"/api/{tab}",
            "next": "" if after is None else f"/{tab}/doc/{after}"}
    return page(f"{segment.name}: class: docpipe review", body, data, script="classes.js")


def queue_page(out: str, schema: str, schemas: Sequence[tuple[str, int]], fields: Sequence[str], wanted: Filter,
               shown_rows: pd.DataFrame, size: int, counts: dict[str, int], page_no: int, total: int) -> str:
    """`shown_rows`: this page's documents of a queue of `size`."""
    pages = max(1, math.ceil(size / PER_PAGE))
    shows = " ".join(
        f"<a class='show{' current' if s == wanted.show else ''}' href='?{e(wanted.query(show=s))}'>"
        f"{SHOW_WORDS[s]} ({counts.get(s, 0):,})</a>" for s in SHOWS)
    options = "".join(f"<option value='{e(f)}'{' selected' if f == wanted.field else ''}>{e(f)}</option>" for f in fields)
    below = "" if wanted.below is None else f"{wanted.below:g}"
    form = (f"<form class='filter' method='get'><input type='hidden' name='show' value='{e(wanted.show)}'>"
            f"<label>field <select name='field'><option value=''>(any: least certain value)</option>{options}</select></label> "
            f"<label>below <input name='below' size='4' value='{e(below)}' placeholder='0.8'></label> "
            f"<label>order <select name='order'><option value='least_certain'>least certain first</option>"
            f"<option value='file'{' selected' if wanted.order == 'file' else ''}>by file name</option></select></label> "
            "<button>show</button></form>")
    rows = []
    link = wanted.query(page=page_no)
    by = f"{wanted.field}_confidence" if wanted.field else "lowest_confidence"
    for r in shown_rows.itertuples(index=False):
        value = getattr(r, by)
        rows.append(
            f"<tr><td><a href='/{quote(schema)}/doc/{e(r.key)}?{e(link)}'>{e(r.name)}</a></td>"
            f"<td>{STATE_WORDS[STATES[r.state]]}</td>"
            f"<td class='{level(value)}'>{confidence(value)}</td><td>{r.reviewed}</td>"
            f"<td>{'done' if r.done else ''}{' · sample' if r.sampled else ''}</td></tr>")
    nav = f"page {page_no:,} of {pages:,}"
    if page_no > 1:
        nav = f"<a rel='prev' href='?{e(wanted.query(page=page_no - 1))}'>previous</a> · " + nav
    if page_no < pages:
        nav += f" · <a rel='next' href='?{e(wanted.query(page=page_no + 1))}'>next</a>"
    column = f"{e(wanted.field)} confidence" if wanted.field else "least certain"
    body = (header(out, schema, schemas)
            + f"<main class='queue'><p>{size:,} documents in this queue, of {total:,} records. {shows}</p>{form}"
            f"<table class='documents'><tr><th>document</th><th>record</th><th>{column}</th><th>values reviewed</th>"
            f"<th></th></tr>{''.join(rows)}</table><p class='nav'>{nav}</p></main>")
    return page(f"{schema}: docpipe review", body)


def document_page(out: str, schema: str, schemas: Sequence[tuple[str, int]], key: str, name: str,
                  page_nos: Sequence[int], lines: list[Line], done: bool, wanted: Filter, back: str, before: str | None,
                  after: str | None, csrf: str, typing_notes: dict[str, str], problems: Sequence[str] = (),
                  sorted_as: str = "") -> str:
    """Record `key` (a doc_id, or doc_id~segment) beside its pages `page_nos`. `problems`: what the
    record's checks say (required values missing, checks failed, values not on their page), one
    line each; `sorted_as`: the class a sorting gave it (HTML), with a link to review it."""
    doc_id = key.partition("~")[0]
    boxes: dict[int, list[str]] = {}
    for line in lines:
        if line.box is None or line.header:
            continue
        b = line.box
        boxes.setdefault(int(b["page"]), []).append(
            f"<div class='box {level(line.confidence)}' data-key='{e(line.key)}' title='{e(line.label)}' "
            f"style='left:{b['x0'] * 100:.2f}%;top:{b['y0'] * 100:.2f}%;width:{(b['x1'] - b['x0']) * 100:.2f}%;"
            f"height:{(b['y1'] - b['y0']) * 100:.2f}%'></div>")
    pictures = "".join(
        f"<div class='page' id='page-{n}'><img alt='page {n}' src='/page/{e(doc_id)}/{n}.png'>{''.join(boxes.get(n, []))}</div>"
        for n in page_nos)
    rows = "".join(_line(line, typing_notes) for line in lines)
    query = wanted.query()
    links = f"<a href='{e(back)}'>queue</a>"
    if before:
        links += f" · <a id='prev' href='/{quote(schema)}/doc/{e(before)}?{e(query)}'>previous (p)</a>"
    if after:
        links += f" · <a id='next' href='/{quote(schema)}/doc/{e(after)}?{e(query)}'>next (n)</a>"
    keys = ("j / k next / previous value, least certain first · a accept · e edit (Enter saves, Esc leaves) · "
            "d document done")
    extra = (f"<div class='doc'><b>{e(name)}</b>{' (done)' if done else ''} · {links} · "
             f"<button id='done'>document done (d)</button> <span id='said' role='status'></span>"
             f"<div class='keys'>{keys}</div>" + (f"<div>{sorted_as}</div>" if sorted_as else "")
             + "".join(f"<div class='problem'>{e(p)}</div>" for p in problems) + "</div>")
    body = (header(out, schema, schemas, extra)
            + f"<main class='document'><div class='pages'>{pictures}</div>"
            f"<div class='fields'><table><tr><th>value</th><th>typed</th><th>as printed</th><th>conf.</th>"
            f"<th>page</th></tr>{rows}</table></div></main>")
    data = {"doc": key, "csrf": csrf, "api": f"/api/{schema}", "next": "" if after is None else
            f"/{schema}/doc/{after}?{query}", "prev": "" if before is None else f"/{schema}/doc/{before}?{query}"}
    return page(f"{name}: docpipe review", body, data)


def _line(line: Line, notes: dict[str, str]) -> str:
    common = (f"data-key='{e(line.key)}' data-field='{e(line.field)}' "
              f"data-index='{'' if line.index is None else line.index}' data-item='{e(line.item or '')}'")
    if line.header and line.kind == "object":  # an object's own line
        return (f"<tr class='list' {common}><td>{e(line.label)}</td><td colspan='2'></td>"
                f"<td class='{level(line.confidence)}'>{confidence(line.confidence)}</td><td></td></tr>")
    if line.header and line.index is None:  # the list's own line
        return (f"<tr class='list' {common}><td>{e(line.label)}</td><td colspan='3'>{e(line.value)}</td>"
                f"<td><button class='add'>+ item</button></td></tr>")
    if line.header:  # a list item's own line
        return (f"<tr class='item' {common}><td>{e(line.label)}</td><td colspan='2'></td>"
                f"<td class='{level(line.confidence)}'>{confidence(line.confidence)}</td>"
                f"<td><button class='remove' title='remove this item: the document does not have it'>remove</button></td></tr>")
    note = notes.get(line.item or line.field, "")
    return (f"<tr class='value{' done' if line.reviewed else ''}' {common} data-confidence='"
            f"{'' if line.confidence is None else line.confidence}' data-kind='{e(line.kind)}'>"
            f"<td class='name'>{e(line.label)}</td>"
            f"<td><span class='shown'>{e(shown(line.value, line.kind))}</span>"
            f"<div class='editor'><input class='edit' type='text' aria-label='{e(line.label)}' value='{e(line.raw if line.raw is not None else shown(line.value, line.kind))}'>"
            f"<div class='preview' data-note='{e(note)}'></div></div></td>"
            f"<td class='raw'>{e(line.raw)}</td>"
            f"<td class='{'reviewed' if line.reviewed else level(line.confidence)}'>{confidence(line.confidence)}</td>"
            f"<td>{'' if line.page is None else line.page}</td></tr>")


def calibration_page(out: str, schema: str, schemas: Sequence[tuple[str, int]], bins: pd.DataFrame,
                     thresholds: pd.DataFrame, notes: list[str]) -> str:
    def table(frame: pd.DataFrame) -> str:
        head = "".join(f"<th>{e(c)}</th>" for c in frame.columns)
        body = "".join("<tr>" + "".join(f"<td>{e(_cell(v))}</td>" for v in row) + "</tr>"
                       for row in frame.itertuples(index=False))
        return f"<table class='calibration'><tr>{head}</tr>{body}</table>"

    body = (header(out, schema, schemas)
            + "<main class='calibration'><h2>Calibration from reviews</h2>"
            + "".join(f"<p>{e(n)}</p>" for n in notes)
            + f"<img alt='calibration plot' src='/{quote(schema)}/calibration.png'>"
            + "<h3>Reviewed values by confidence</h3>" + table(bins)
            + "<h3>Values nobody reviewed, at or above each threshold</h3>" + table(thresholds) + "</main>")
    return page(f"{schema} calibration: docpipe review", body)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.3f}"
    return "" if value is None else str(value)
