"""A record as the review page lists it: one line per value (a list's items each with a line of
their own, then their cells), with what a reviewer needs beside the value."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from docpipe.output.corrections import Applied
from docpipe.output.record_columns import cell_confidence
from docpipe.schema.kinds import Kind
from docpipe.schema.spec import Schema


@dataclass(frozen=True)
class Line:
    field: str
    index: int | None  # the item's index as corrections number items (stable while items come and go)
    item: str | None  # the item's field; None on a list item's own line and on scalars
    label: str  # as people read it: total, line_items[2].amount (position in the list as shown)
    kind: str
    value: Any  # typed
    raw: str | None  # as printed
    confidence: float | None
    page: int | None
    box: dict[str, Any] | None
    reviewed: bool
    header: bool = False  # a list item's own line (remove it), or the list's (add one)

    @property
    def key(self) -> str:
        """What ties a box on the page to its line: field|index|item."""
        return f"{self.field}|{'' if self.index is None else self.index}|{self.item or ''}"


def lines(schema: Schema, applied: Applied) -> list[Line]:
    row = applied.row
    out: list[Line] = []
    for spec in schema.fields:
        name = spec.name
        if spec.kind == Kind.OBJECT:
            group = row.get(name) or {}
            out.append(Line(name, None, None, name, "object", "", None, _number(row.get(f"{name}_confidence")),
                            _page(row.get(f"{name}_page")), None, False, header=True))
            for sub in spec.fields:
                out.append(Line(name, None, sub.name, f"{name}.{sub.name}", str(sub.kind), group.get(sub.name),
                                group.get(f"{sub.name}_raw"), _number(cell_confidence(group, sub.name)) if group else None,
                                _page(row.get(f"{name}_page")), _box(group.get(f"{sub.name}_box")),
                                (name, None, sub.name) in applied.reviewed))
            continue
        if spec.kind != Kind.LIST:
            out.append(Line(name, None, None, name, str(spec.kind), row.get(name), row.get(f"{name}_raw"),
                            _number(row.get(f"{name}_confidence")), _page(row.get(f"{name}_page")),
                            _box(row.get(f"{name}_box")), (name, None, None) in applied.reviewed))
            continue
        items = row.get(name) or []
        out.append(Line(name, None, None, name, "list", f"{len(items)} item{'s' if len(items) != 1 else ''}", None,
                        None, None, None, False, header=True))
        for position, (index, item) in enumerate(zip(applied.items.get(name, []), items, strict=False)):
            out.append(Line(name, index, None, f"{name}[{position}]", "item", "", None, _number(item.get("confidence")),
                            _page(item.get("page")), None, False, header=True))
            for sub in spec.fields:
                out.append(Line(name, index, sub.name, f"{name}[{position}].{sub.name}", str(sub.kind), item.get(sub.name),
                                item.get(f"{sub.name}_raw"), _number(cell_confidence(item, sub.name)),
                                _page(item.get("page")), _box(item.get(f"{sub.name}_box")),
                                (name, index, sub.name) in applied.reviewed))
    return out


def _number(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def _page(value: Any) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def _box(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict) or value.get("x0") is None or value.get("page") is None:
        return None
    return value
