"""What asks Gemma 4 which kind of document a page shows: the instructions, built from each
schema's title, description and hint, the answer's shape (a schema of its own, so that the
grammar, the validator and the confidences are extraction's), and the key of a sorting.

The answer is a few tokens (`{"document_type":"receipt"}`); the instructions are the same for
every page, the system turn, so a prefix cache shares them across a folder.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from docpipe.schema.kinds import Kind
from docpipe.schema.spec import FieldSpec, Schema

CLASSIFY_PROMPT_VERSION = "1"
OTHER = "other"  # the class of a document that none of the schemas fits: recorded, not extracted
CLASS_FIELD = "document_type"
STARTS_FIELD = "first_page"
SEGMENTS_TABLE = "segments"  # the sorting's table, and its name in the documents table
DEFAULT_CLASSIFY_BUDGET = 140  # a page's kind shows at a glance


def answer_schema(classes: Sequence[str], split: bool) -> Schema:
    """The shape of a sorting answer: the class (one of `classes` or other), and with `split`
    whether the page starts a document. Built in code; never a records table."""
    fields = (FieldSpec(CLASS_FIELD, Kind.ENUM, "the kind of document", values=(*classes, OTHER)),)
    if split:
        fields = (FieldSpec(STARTS_FIELD, Kind.BOOLEAN, "the first page of a document"), *fields)
    return Schema(name="document_class", version=1, title="document class", description="", fields=fields)


def answer_json_schema(classes: Sequence[str], split: bool) -> dict:
    """The grammar of a sorting answer: `answer_schema`'s, with no null: a class is always chosen
    (`other` is the way to say none), and with --split a page always starts one or continues one."""
    shape = answer_schema(classes, split).json_schema()
    properties = shape["properties"]
    properties[CLASS_FIELD]["enum"] = [*classes, OTHER]
    if split:
        properties[STARTS_FIELD]["type"] = "boolean"
    return shape


def instructions(schemas: Sequence[Schema], split: bool) -> str:
    """The system turn: the kinds to choose from, one line each, and what to answer."""
    lines = []
    for schema in schemas:
        words = " ".join(w for w in (schema.title.strip().rstrip(".") + ".", schema.description.strip(),
                                     schema.hint.strip()) if w and w != ".")
        lines.append(f"- {schema.name}: {words}")
    lines.append(f"- {OTHER}: a page or document that is none of the above.")
    kinds = "\n".join(lines)
    if split:
        return (
            "You sort the pages of scanned files. A file may hold several documents one after another, as a "
            "scanner's feeder makes them. You are shown one page. Say which kind of document it belongs to, one "
            f"of:\n{kinds}\n"
            f"and whether it is the first page of a document ({STARTS_FIELD}: true) or continues the document "
            f"of the page before ({STARTS_FIELD}: false): a page with a letterhead, a title or a 'page 1' starts "
            "one; a page that carries on a table or says 'page 2 of 3' continues one.\n"
            f'Answer with JSON only: {{"{STARTS_FIELD}": true or false, "{CLASS_FIELD}": "<kind>"}}.'
        )
    return (
        "You sort documents by kind. You are shown the first page of a document. Say which kind it is, one "
        f"of:\n{kinds}\n"
        f'Answer with JSON only: {{"{CLASS_FIELD}": "<kind>"}}.'
    )


def ask(split: bool) -> str:
    """The user turn, after the page image."""
    return "Which kind of document is this page, and does it start one?" if split else "Which kind of document is this?"


def sorting_key(schemas: Sequence[Schema], split: bool, budget: int, threshold: float,
                first_pages: int, max_segment_pages: int) -> str:
    """What stands for the schema in a sorting run's work key: the schemas' versions, the
    instructions (hints included), and every setting that changes which pages go where."""
    text = instructions(schemas, split)
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    names = ",".join(sorted(s.key for s in schemas))
    how = f"split,max{max_segment_pages}" if split else f"first{first_pages}"
    return f"{SEGMENTS_TABLE}:{names}|classify@{CLASSIFY_PROMPT_VERSION}-{digest}|{how}|{budget}|t{threshold:g}"
