"""Accuracy against labelled documents: `docpipe eval` (report.py) and `docpipe eval --compare`
(compare.py).

truth.py reads labels (docpipe's format, SROIE, FUNSD pairs, invoice2data); join.py pairs them
with the latest records through the documents table; score.py scores a record's fields
(match.py pairs list items optimally, sroie.py scores as the SROIE competition does); report.py
builds the tables and writes them as Parquet; compare.py puts several output folders side by side
with their cost and plots accuracy against it.
"""

from docpipe.eval.report import EvalResult, evaluate, write_report

__all__ = ["EvalResult", "evaluate", "write_report"]
