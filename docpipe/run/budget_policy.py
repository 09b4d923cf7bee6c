"""Which visual budgets a run uses: one fixed budget, or `auto` escalation.

auto: every document is first read at a low budget; a document whose answer failed validation,
or whose least certain field is below the confidence threshold, is read again at the next budget
up, and so on until it passes or the ceiling is reached. Every attempt's record is kept (its
`budget` column says which budget produced it); readers take the last one.
"""

from __future__ import annotations

from dataclasses import dataclass

from docpipe.core.budget import BUDGETS, check_budget
from docpipe.core.errors import Category
from docpipe.core.types import ExtractedRecord


@dataclass(frozen=True)
class BudgetPolicy:
    budgets: tuple[int, ...]  # tried in order; one for a fixed budget
    threshold: float | None = None  # auto: escalate below this confidence

    @classmethod
    def fixed(cls, budget: int) -> BudgetPolicy:
        return cls((check_budget(budget),))

    @classmethod
    def auto(cls, start: int = 140, ceiling: int = 1120, threshold: float = 0.5) -> BudgetPolicy:
        check_budget(start), check_budget(ceiling)
        if start > ceiling:
            raise ValueError(f"the auto budget starts at {start}, above its ceiling {ceiling}")
        return cls(tuple(b for b in BUDGETS if start <= b <= ceiling), threshold)

    @property
    def key(self) -> str:
        """Part of the idempotency key: a different policy is different work."""
        if self.threshold is None:
            return str(self.budgets[0])
        return f"auto:{self.budgets[0]}-{self.budgets[-1]}@{self.threshold:g}"

    def needs_more(self, record: ExtractedRecord | None) -> bool:
        """Whether a document's record calls for the next budget up."""
        if self.threshold is None or record is None:
            return False
        if record.failure is not None and record.failure.category == Category.MODEL_ERROR:
            return False  # a crash is not a reading problem; the next run retries it
        if not record.valid:
            return True
        lowest = record.lowest_confidence
        return lowest is not None and lowest < self.threshold
