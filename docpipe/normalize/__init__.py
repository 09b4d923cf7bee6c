"""Typed values from text as printed: amounts, numbers and dates.

The patterns (patterns.py) are what constrained decoding lets the model write for money, number,
integer and date fields; the parsers (numbers.py, dates.py) type every string those patterns
accept. `docpipe.normalize.parse_money("1.234,56 €")` is the public entry point.
"""

from docpipe.normalize.dates import parse_date
from docpipe.normalize.numbers import parse_integer, parse_money, parse_number

__all__ = ["parse_date", "parse_integer", "parse_money", "parse_number"]
