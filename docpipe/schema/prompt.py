"""What asks Gemma 4 for a schema's fields: the instructions (the system turn, the same for every
page of the schema, so a prefix cache shares them), the short ask after the page images, and
their version.

PROMPT_VERSION is part of every work key: bump it when the prompt changes in a way that should
make reruns read documents again.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from docpipe.schema.box_fields import box_instructions, box_properties
from docpipe.schema.kinds import rules

if TYPE_CHECKING:  # annotations only: the prompt version is read without loading the field specs
    from docpipe.schema.spec import FieldSpec, Schema

PROMPT_VERSION = "3"  # 2: typed values transcribed as printed; 3: instructions in the system turn

def skeleton(schema: Schema, boxes: int = 0) -> str:
    """An example of the answer's shape, with null in every value (and its box's keys, when
    `boxes` page images are asked about with boxes)."""
    def shape(fields: tuple[FieldSpec, ...]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields:
            out[f.name] = [shape(f.fields)] if f.kind == "list" else shape(f.fields) if f.kind == "object" else None
            if boxes and not f.kind.is_group:
                out |= dict.fromkeys(box_properties(f.name, boxes))
        return out
    return json.dumps(shape(schema.fields))


def field_line(spec: FieldSpec, indent: str = "") -> str:
    if spec.kind == "enum":
        kind = "one of " + ", ".join(spec.values)
    elif spec.kind == "list":
        kind = "list of objects, each with: " + ", ".join(f.name for f in spec.fields)
    elif spec.kind == "object":
        kind = "an object with: " + ", ".join(f.name for f in spec.fields) + "; null if none of them is on the document"
    else:
        kind = rules(spec.kind).prompt
    if spec.pattern is not None:
        kind += f" matching {spec.pattern}"
    line = f"{indent}- {spec.name} ({kind}): {spec.description}".rstrip(": ")
    children = [field_line(f, indent + "  ") for f in spec.fields]
    return "\n".join([line, *children])


def ask(images: int) -> str:
    """The user turn's text, after the page images."""
    return "Extract the fields from this document." if images == 1 else \
        f"Extract the fields from this document (the {images} images are its pages, in order)."


def build_prompt(schema: Schema, boxes: int = 0) -> str:
    """The instructions for `schema` (the system turn); `boxes`: the number of page images when
    every value is to come with its box (`--boxes model`), 0 for none."""
    lines = "\n".join(field_line(f) for f in schema.fields)
    return (
        f"You read a {schema.title} ({schema.description}) from the images of its pages and extract "
        "the fields below.\n"
        f"{lines}\n"
        "Answer with one JSON object and nothing else, with exactly these keys. "
        "Use null for a value that is not on the document; never guess.\n"
        + (box_instructions(boxes) + "\n" if boxes else "")
        + f"Shape: {skeleton(schema, boxes)}"
    )
