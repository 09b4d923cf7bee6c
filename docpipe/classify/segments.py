"""From sorting answers to segments: each answer read as a page's class (typed and scored by
extraction's own validator, so a class's confidence means what a field's does), then the pages
cut into segments, each with the rule that decided its class.

Rules, in page order (--split): a page starts a new segment when the model says it starts a
document, when its class differs from the segment's, when the segment holds --segment-max-pages
pages already, or when it is `other` or unreadable (such a page is a segment of its own). Without
--split a document is one segment, classed by its first pages. A segment whose class is `other`,
or whose confidence is under --class-threshold, is recorded and not extracted.
"""

from __future__ import annotations

from collections.abc import Sequence

from docpipe.answers.validate import validate_generation
from docpipe.classify.prompt import CLASS_FIELD, OTHER, STARTS_FIELD
from docpipe.core.types import PageClass, RawGeneration, Segment
from docpipe.schema.spec import Schema


def page_class(answer_schema: Schema, generation: RawGeneration, page_no: int) -> PageClass:
    """One answer as a page's class (with --split: and whether it starts a document)."""
    record = validate_generation(answer_schema, generation)
    if record.failure is not None or record.values.get(CLASS_FIELD) is None:
        why = record.failure.message if record.failure is not None else "no class in the answer"
        return PageClass(page_no, None, problem=why)
    starts = record.values.get(STARTS_FIELD)
    return PageClass(page_no, str(record.values[CLASS_FIELD]), record.confidence.get((CLASS_FIELD,)),
                     starts if isinstance(starts, bool) else None, record.confidence.get((STARTS_FIELD,)))


def whole_document(answer: PageClass, pages: Sequence[int], threshold: float) -> Segment:
    """A document not split: one segment over its pages, classed by its first pages' answer."""
    first, last = (pages[0], pages[-1]) if pages else (1, 1)
    return _decided(1, first, last, answer.label, answer.confidence, threshold, answer.problem)


def split_pages(answers: Sequence[PageClass], threshold: float, max_pages: int) -> tuple[Segment, ...]:
    """Consecutive pages as segments (see the module's rules)."""
    runs: list[list[PageClass]] = []
    for answer in sorted(answers, key=lambda a: a.page_no):
        current = runs[-1] if runs else None
        alone = answer.label in (None, OTHER)
        joins = (current is not None and answer.starts is False and not alone
                 and current[-1].label == answer.label and len(current) < max_pages
                 and current[-1].page_no + 1 == answer.page_no)
        if joins:
            current.append(answer)
        else:
            runs.append([answer])
    segments = []
    for number, run in enumerate(runs, 1):
        first = run[0]
        known = [a.confidence for a in run if a.confidence is not None]
        confidence = min(known) if known else None
        segment = _decided(number, first.page_no, run[-1].page_no, first.label, confidence, threshold, first.problem)
        if len(run) == max_pages and number < len(runs) and runs[number][0].starts is False \
                and runs[number][0].label == first.label:
            segment = _with_rule(segment, f"{segment.rule}; cut at --segment-max-pages {max_pages}")
        segments.append(segment)
    return tuple(segments)


def _decided(number: int, first: int, last: int, label: str | None, confidence: float | None,
             threshold: float, problem: str | None) -> Segment:
    if label is None:
        return Segment(number, first, last, OTHER, None, f"unreadable answer: {problem}", None)
    if label == OTHER:
        return Segment(number, first, last, OTHER, confidence, "model: none of the schemas", None)
    if confidence is not None and confidence < threshold:
        return Segment(number, first, last, label, confidence,
                       f"below --class-threshold {threshold:g} ({confidence:.2f}): not extracted", None)
    return Segment(number, first, last, label, confidence, "model", label)


def _with_rule(segment: Segment, rule: str) -> Segment:
    return Segment(segment.number, segment.page_from, segment.page_to, segment.label, segment.confidence,
                   rule, segment.schema)
