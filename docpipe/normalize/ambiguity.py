"""The error for a printed value that has more than one reading and nothing to settle which."""

from __future__ import annotations

from docpipe.core.errors import TerminalError


class AmbiguousValue(TerminalError, ValueError):
    """The text reads as two different values ('1.727': 1727 or 1.727; '04/05/2026': 4 May or
    April 5) and neither the value, its currency nor the rest of the document settles it.

    The field becomes null with an error that says why and what would settle it; the printed text
    stays in the raw column. `readings` are the candidate values.
    """

    def __init__(self, text: str, readings: tuple[object, ...], why: str, settle: str):
        self.text, self.readings, self.why, self.settle = text, readings, why, settle
        shown = " or ".join(str(r) for r in readings)
        super().__init__(f"ambiguous: {text!r} reads as {shown}; {why}; {settle}")
