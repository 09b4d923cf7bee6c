"""Typed values from text as printed: amounts, numbers and dates.

The patterns (patterns.py) are what constrained decoding lets the model write for money, number,
integer and date fields; the parsers (numbers.py, dates.py) type every string those patterns
accept, or raise `AmbiguousValue` when a string has two readings and nothing settles which.
Currency forms (currency_forms.py, looked up by currencies.py) and month names (months.py) come
from CLDR through Babel; currency_forms.py adds the printed abbreviations CLDR lacks.
evidence.py gathers what one document says about how it prints values (decimal mark, currency,
day/month order) so that its ambiguous values can be settled.

`docpipe.normalize.parse_money("1.234,56 €")` is the public entry point; every parser works with
the value alone, and takes the document's evidence as an optional second argument.
"""

from docpipe.normalize.ambiguity import AmbiguousValue
from docpipe.normalize.dates import parse_date
from docpipe.normalize.evidence import DocumentEvidence, gather_evidence
from docpipe.normalize.numbers import parse_integer, parse_money, parse_number

__all__ = [
    "AmbiguousValue", "DocumentEvidence", "gather_evidence", "parse_date", "parse_integer", "parse_money",
    "parse_number",
]
