"""How many printed amounts with a currency docpipe types, and whether any is typed wrong: the
currency table before it grew (OLD, docpipe/normalize/currencies.py at 999054f) against the
table now (NEW, currency_forms.py), on price-parser's test suite.

    git clone https://github.com/scrapinghub/price-parser /tmp/price-parser
    python bench/printed_amounts.py /tmp/price-parser

price-parser's tests (tests/test_price_parsing.py, BSD-3-Clause) hold ~1,200 prices scraped from
shop pages, each with the currency text it found and the amount. Each example with both becomes
one printed amount as a model would transcribe it: the amount's digits as printed, with the
currency text before or after it, as on the page ("1 200 руб.", "€ 12,99"). Each is parsed alone
(no document evidence) and counted as typed (the right amount), wrong (another amount), or refused
(ValueError, ambiguous values included), with the refusals grouped by currency text. Some refusals
are by design: cents, tomans and single letters are not a currency's unit (NOT_A_UNIT).

This set is also where some of the NEW table's printed forms come from, so it shows coverage of
the class, not a held-out score.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import platform
import sys
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.currency_table import parser_on, tables  # noqa: E402 - after ROOT is on the path
from bench.tiny_vllm import commit, write_result  # noqa: E402


def examples(checkout: Path) -> list[tuple[str, Decimal, str]]:
    """(printed amount, amount, currency text) from price-parser's tests, each printed form once."""
    sys.path.insert(0, str(checkout))  # the tests import price_parser from the checkout
    source = (checkout / "tests" / "test_price_parsing.py").read_text(encoding="utf-8")
    namespace: dict = {}
    exec(compile(source, "test_price_parsing.py", "exec"), namespace)  # noqa: S102 - a checkout the user names
    found: dict[str, tuple[str, Decimal, str]] = {}
    for name, value in namespace.items():
        if not (name.startswith("PRICE_PARSING_EXAMPLES") and isinstance(value, list)):
            continue
        for example in value:
            example = example.values[0] if hasattr(example, "values") else example  # pytest.param
            if example.currency is None or example.amount is None or example.amount_text is None:
                continue
            page = f"{example.currency_raw or ''} {example.price_raw or ''}"
            before = 0 <= page.find(example.currency) < page.find(example.amount_text)
            text = f"{example.currency} {example.amount_text}" if before else f"{example.amount_text} {example.currency}"
            found.setdefault(text.strip(), (text.strip(), Decimal(example.amount), example.currency))
    return list(found.values())


def score(cases: list[tuple[str, Decimal, str]]) -> dict:
    from docpipe.normalize.numbers import parse_money

    counts: collections.Counter[str] = collections.Counter()
    refused: collections.Counter[str] = collections.Counter()
    wrong = []
    for text, amount, currency in cases:
        try:
            value = parse_money(text)
        except ValueError:
            counts["refused"] += 1
            refused[currency] += 1
            continue
        if value == amount:
            counts["typed"] += 1
        else:
            counts["wrong"] += 1
            wrong.append({"text": text, "typed": str(value), "expected": str(amount)})
    total = sum(counts.values())
    return {"total": total, **{k: counts[k] for k in ("typed", "wrong", "refused")},
            "typed_share": counts["typed"] / total, "refused_by_currency": refused.most_common(), "wrong_examples": wrong}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkout", type=Path, help="a checkout of github.com/scrapinghub/price-parser")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results" / "printed_amounts")
    args = parser.parse_args(argv)
    cases = examples(args.checkout)
    result = {"when": dt.datetime.now(dt.timezone.utc).isoformat(), "commit": commit(), "host": platform.node(),
              "cases": len(cases), "tables": {}}
    for table in tables():
        with parser_on(table):
            result["tables"][table.name] = score(cases)
    print(f"{len(cases)} printed amounts with a currency, from price-parser's tests")
    print(f"{'table':6} {'typed':>7} {'wrong':>6} {'refused':>8} {'typed %':>8}")
    for name, found in result["tables"].items():
        print(f"{name:6} {found['typed']:7} {found['wrong']:6} {found['refused']:8} {100 * found['typed_share']:7.1f}%")
    for name, found in result["tables"].items():
        print(f"{name} refused, by currency text: {found['refused_by_currency'][:25]}")
        print(f"{name} wrong: {found['wrong_examples']}")
    write_result(args.results, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
