"""What the larger currency table costs: the table of printed currency forms before it grew (OLD:
docpipe/normalize/currencies.py at commit 999054f, ~780 forms from CLDR symbols and a few local
forms, read from git at run time) against the table now (NEW: currency_forms.py, some 3,000 forms),
side by side in one run.

    python bench/currency_table.py                # 5 repeats per table, interleaved (about 30 s on 2 cores)
    python bench/currency_table.py --repeats 9 --values 40000

1. Table size: printed forms, the regex alternation's length, the MONEY pattern's length and the
   invoice JSON schema's size (the pattern is written once, under `$defs/money`).
2. Python: `re.compile` of the money parser's regex (docpipe.normalize.numbers._money_parts,
   Python's own `re` cache purged first) and of MONEY, and the mean microseconds per value of
   `parse_money` over ~20 realistic printed amounts repeated to `--values` values.
3. Constrained decoding with llguidance, through docpipe's GrammarCompiler, on the synthetic
   262,144-token Gemma-like tokenizer of bench/grammar_libraries.py (it builds in ~5 s here, so
   there is no smaller --quick vocabulary): for the invoice schema with the OLD or the NEW MONEY
   under `$defs`, grammar_from_json_schema (it only writes the grammar's text), the matcher
   (LLMatcher construction, where the grammar is compiled, plus the copy docpipe hands each answer),
   the first mask, and the mask of every step while one valid compact invoice answer (amounts with
   currency signs, codes and words) is consumed token by token: on the first copy (cold: the
   lexer's states are built lazily) and on a second copy of the same matcher (what the later
   answers of the same schema get); mean, p95 and max per step, and the mean over the steps inside
   money values.

OLD and NEW alternate (OLD NEW, then NEW OLD, ...) and the table gives medians over the repeats:
the machine is noisy. The OLD table is swapped in by monkeypatching, not by editing any file:
`docpipe.normalize.numbers.currency_alternation` / `codes_of` for the parser, and
`docpipe.normalize.currencies.currency_alternation` while calling `money_pattern.__wrapped__()`
(the uncached template) for the OLD MONEY. NEW is whatever the working tree holds at run time
(the result file records a hash of currencies.py and currency_forms.py).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import datetime as dt
import hashlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.tiny_vllm import commit, write_result  # noqa: E402 - after ROOT is on the path

OLD_COMMIT = "999054f"
OLD_PATH = "docpipe/normalize/currencies.py"

# Amounts as receipts and invoices print them; each parses under both tables (checked at run time)
PRINTED = [
    "$1,234.56", "1.234,56 €", "12,50 zł", "RM 12.50", "1 200 руб.", "Rp 221.000", "159.00", "CHF 12.-",
    "€ 9,99", "£1,000.00", "-$12.00", "(45.00)", "¥1,200", "1 234,50 Kč", "R$ 1.234,56", "12.50 USD",
    "EUR 1.234,56", "Fr. 12.50", "₹1,23,456.00", "1,299.00 MYR",
]

# One valid invoice answer; its amounts carry currency signs, codes and words of both tables
ANSWER = {
    "invoice_number": "INV-2026-0042",
    "invoice_date": "12/03/2026",
    "due_date": "11 April 2026",
    "seller_name": "Northwind Trading Sdn. Bhd.",
    "seller_address": "12 Jalan Ampang, 50450 Kuala Lumpur",
    "buyer_name": "Acme Global GmbH",
    "buyer_address": "7 Hauptstraße, 10115 Berlin",
    "currency": "EUR",
    "subtotal": "1.234,56 €",
    "tax": "€ 234,57",
    "total": "EUR 1.469,13",
    "line_items": [
        {"description": "Consulting services", "quantity": "10", "unit_price": "€ 99,00", "amount": "990,00 €"},
        {"description": "Software license (annual)", "quantity": "1", "unit_price": "US$ 199.00",
         "amount": "$199.00"},
        {"description": "Hotel room, 2 nights", "quantity": "2", "unit_price": "RM 120.00", "amount": "RM 240.00"},
        {"description": "Taxi fare", "quantity": "1", "unit_price": "1 200 руб.", "amount": "12,50 zł"},
    ],
}
MONEY_KEYS = ("subtotal", "tax", "total", "unit_price", "amount")


@dataclass
class Table:
    name: str
    signs: dict[str, frozenset[str]]
    alternation: str
    codes_of: Callable[[str | None], frozenset[str]]
    money: str  # the MONEY pattern built on this table


def old_module() -> types.ModuleType:
    """docpipe/normalize/currencies.py as it was at OLD_COMMIT (self-contained: imports babel only)."""
    source = subprocess.run(["git", "show", f"{OLD_COMMIT}:{OLD_PATH}"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout
    module = types.ModuleType("old_currencies")
    module.__file__ = f"{OLD_COMMIT}:{OLD_PATH}"
    exec(compile(source, module.__file__, "exec"), module.__dict__)  # noqa: S102 - our own file at a commit
    return module


def tables() -> tuple[Table, Table]:
    import docpipe.normalize.currencies as currencies
    from docpipe.normalize.patterns import money_pattern

    old = old_module()
    # OLD MONEY: the current template (money_pattern, uncached through __wrapped__) with the old
    # alternation patched in where it imports it from; no copy of the template here
    with mock.patch.object(currencies, "currency_alternation", old.currency_alternation):
        old_money = money_pattern.__wrapped__()
    new_money = money_pattern()
    assert new_money == money_pattern.__wrapped__(), "MONEY changed while this ran"
    return (Table("OLD", old.currency_signs(), old.currency_alternation(), old.codes_of, old_money),
            Table("NEW", currencies.currency_signs(), currencies.currency_alternation(), currencies.codes_of,
                  new_money))


@contextlib.contextmanager
def parser_on(table: Table) -> Iterator[None]:
    """docpipe.normalize.numbers reads `table` (it imported both names from currencies.py by
    name, so they are patched in numbers itself); its cached regex is rebuilt on entry and exit."""
    import docpipe.normalize.numbers as numbers

    numbers._money_parts.cache_clear()
    try:
        with (mock.patch.object(numbers, "currency_alternation", lambda: table.alternation),
              mock.patch.object(numbers, "codes_of", table.codes_of)):
            yield
    finally:
        numbers._money_parts.cache_clear()


def parse_cost(table: Table, values: list[str]) -> tuple[dict, list[str]]:
    import docpipe.normalize.numbers as numbers

    with parser_on(table):
        re.purge()  # Python's re caches compiled patterns by their text
        started = time.perf_counter()
        numbers._money_parts()
        parser_ms = (time.perf_counter() - started) * 1e3
        re.purge()
        started = time.perf_counter()
        re.compile(table.money)
        money_ms = (time.perf_counter() - started) * 1e3
        parsed = [str(numbers.parse_money(v)) for v in PRINTED]
        started = time.perf_counter()
        for value in values:
            numbers.parse_money(value)
        per_value_us = (time.perf_counter() - started) / len(values) * 1e6
    return {"parser_compile_ms": parser_ms, "money_compile_ms": money_ms, "parse_us": per_value_us}, parsed


def schema_with(base: dict, new_money: str, money: str) -> dict:
    """The JSON schema with every string equal to the NEW MONEY replaced by `money`."""
    found = 0

    def walk(node):
        nonlocal found
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        if node == new_money:
            found += 1
            return money
        return node

    out = walk(copy.deepcopy(base))
    assert found == 1, f"MONEY appears {found} times in the schema (expected once, under $defs)"
    return out


def money_steps(hf_tok, ids: list[int], text: str) -> list[bool]:
    """Per token: whether it starts inside a money value (its quotes included)."""
    spans = []
    for match in re.finditer(r'"(%s)":"([^"]*)"' % "|".join(MONEY_KEYS), text):
        spans.append((match.start(2) - 1, match.end(2) + 1))
    flags, position = [], 0
    for k in range(len(ids)):
        flags.append(any(a <= position < b for a, b in spans))
        position = len(hf_tok.decode(ids[:k + 1]))
    return flags


def walk(compiler, schema_json: str, ids: list[int], stop_id: int, in_money: list[bool]) -> dict:
    """A copy of the schema's matcher driven through `ids`: the mask time of every step."""
    import llguidance.torch as llt

    from bench.grammar_libraries import _is_allowed, _pct

    matcher = compiler.matcher(schema_json)
    mask = llt.allocate_token_bitmask(1, compiler.vocab_size)
    fill_ms, consume_ms = [], []
    for k, token in enumerate([*ids, stop_id]):
        started = time.perf_counter()
        llt.fill_next_token_bitmask(matcher, mask, 0)
        fill_ms.append((time.perf_counter() - started) * 1e3)
        if not _is_allowed(mask, 0, token):
            raise AssertionError(f"step {k}: the mask forbids token {token} of the valid answer")
        started = time.perf_counter()
        ok = matcher.consume_token(token)
        consume_ms.append((time.perf_counter() - started) * 1e3)
        assert ok, f"step {k}: token {token} rejected: {matcher.get_error()}"
    rest = fill_ms[1:]  # the first mask is reported apart
    money = [t for t, m in zip(fill_ms[1:len(ids)], in_money[1:]) if m]
    return {"first_mask_ms": fill_ms[0], "steps": len(fill_ms), "mask_mean_ms": statistics.fmean(rest),
            "mask_p95_ms": _pct(rest, 0.95), "mask_max_ms": max(rest), "mask_money_mean_ms": statistics.fmean(money),
            "consume_mean_ms": statistics.fmean(consume_ms)}


def grammar_cost(compiler, schema_json: str, ids: list[int], stop_id: int, in_money: list[bool]) -> dict:
    # cold: forget what the compiler cached for this schema (it caches grammar and matcher by the
    # schema's text), then build both as docpipe does on a schema's first request
    compiler._grammars.pop(schema_json, None)
    compiler._matchers.pop(schema_json, None)
    started = time.perf_counter()
    compiler.grammar(schema_json)
    grammar_ms = (time.perf_counter() - started) * 1e3
    started = time.perf_counter()
    compiler.matcher(schema_json)  # LLMatcher(...) and its first copy; the walks get their own copies
    matcher_ms = (time.perf_counter() - started) * 1e3
    cold = walk(compiler, schema_json, ids, stop_id, in_money)
    warm = walk(compiler, schema_json, ids, stop_id, in_money)
    return {"grammar_ms": grammar_ms, "matcher_ms": matcher_ms, "cold": cold, "warm": warm}


ROWS = [  # (label, path in a repeat's result, digits)
    ("parser regex re.compile (ms)", ("python", "parser_compile_ms"), 1),
    ("MONEY re.compile (ms)", ("python", "money_compile_ms"), 1),
    ("parse_money per value (us)", ("python", "parse_us"), 2),
    ("grammar_from_json_schema (ms)", ("llguidance", "grammar_ms"), 2),
    ("LLMatcher construction + copy (ms)", ("llguidance", "matcher_ms"), 1),
    ("first mask, fresh matcher (ms)", ("llguidance", "cold", "first_mask_ms"), 2),
    ("mask per step, cold: mean (ms)", ("llguidance", "cold", "mask_mean_ms"), 3),
    ("mask per step, cold: p95 (ms)", ("llguidance", "cold", "mask_p95_ms"), 3),
    ("mask per step, cold: max (ms)", ("llguidance", "cold", "mask_max_ms"), 2),
    ("mask in money values, cold: mean (ms)", ("llguidance", "cold", "mask_money_mean_ms"), 3),
    ("first mask, 2nd copy (ms)", ("llguidance", "warm", "first_mask_ms"), 3),
    ("mask per step, 2nd copy: mean (ms)", ("llguidance", "warm", "mask_mean_ms"), 3),
    ("mask per step, 2nd copy: p95 (ms)", ("llguidance", "warm", "mask_p95_ms"), 3),
    ("mask in money values, 2nd copy: mean (ms)", ("llguidance", "warm", "mask_money_mean_ms"), 3),
    ("consume_token per step, cold (ms)", ("llguidance", "cold", "consume_mean_ms"), 3),
]


def _get(result: dict, path: tuple[str, ...]) -> float:
    for key in path:
        result = result[key]
    return result  # type: ignore[return-value]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="repeats per table, OLD and NEW interleaved")
    parser.add_argument("--values", type=int, default=20_000, help="printed amounts parsed per repeat")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results" / "currency_table")
    args = parser.parse_args(argv)
    begun = time.perf_counter()

    import jsonschema
    import torch

    torch.set_num_threads(1)  # as bench/grammar_libraries.py: llguidance's own threads on 2 cores
    from bench.grammar_libraries import STOP_TOKENS, VOCAB_SIZE, build_tokenizer, docpipe_schemas, load_tokenizer
    import docpipe.normalize.numbers as numbers
    from docpipe.engines.inprocess.constrained import GrammarCompiler
    from docpipe.schema.load import resolve_schema

    old, new = tables()
    new_files = _new_files_hash()  # the files NEW was just imported from
    sizes = {}
    base = resolve_schema("invoice").json_schema()
    schemas = {t.name: json.dumps(schema_with(base, new.money, t.money)) for t in (old, new)}
    for t in (old, new):
        sizes[t.name] = {"forms": len(t.signs), "alternation_chars": len(t.alternation),
                         "money_chars": len(t.money), "schema_bytes": len(schemas[t.name].encode())}

    # every printed amount and the answer's amounts are money under both tables, and read alike
    parsed = {}
    for t in (old, new):
        with parser_on(t):
            parsed[t.name] = [str(numbers.parse_money(v)) for v in PRINTED]
        for v in PRINTED:
            assert re.fullmatch(t.money, v), f"{v!r} is not MONEY under the {t.name} table"
    assert parsed["OLD"] == parsed["NEW"], f"the tables read the amounts differently: {parsed}"
    # compact, as docpipe's grammar (whitespace_flexible off) makes the model write it
    text = json.dumps(ANSWER, separators=(",", ":"), ensure_ascii=False)
    for t in (old, new):
        jsonschema.Draft202012Validator(json.loads(schemas[t.name])).validate(ANSWER)

    with tempfile.TemporaryDirectory(prefix="currency_table_") as tmp:
        print(f"building the synthetic {VOCAB_SIZE:,}-token tokenizer ...", file=sys.stderr, flush=True)
        tok_stats = build_tokenizer(docpipe_schemas(), Path(tmp) / "tokenizer")
        hf_tok = load_tokenizer(Path(tmp) / "tokenizer")
    stop_ids = [hf_tok.convert_tokens_to_ids(t) for t in STOP_TOKENS]
    started = time.perf_counter()
    compiler = GrammarCompiler(hf_tok, VOCAB_SIZE, stop_ids)
    wrap_s = time.perf_counter() - started
    ids = hf_tok.encode(text, add_special_tokens=False)
    assert hf_tok.decode(ids) == text, "the synthetic tokenizer does not round-trip the answer"
    in_money = money_steps(hf_tok, ids, text)
    print(f"  {tok_stats['build_s']:.1f} s; llguidance tokenizer {wrap_s:.1f} s; answer {len(ids)} tokens, "
          f"{sum(in_money)} in money values", file=sys.stderr, flush=True)

    values = (PRINTED * (args.values // len(PRINTED) + 1))[:args.values]
    runs: dict[str, list[dict]] = {"OLD": [], "NEW": []}
    for repeat in range(args.repeats):
        for t in ((old, new) if repeat % 2 == 0 else (new, old)):
            python, _ = parse_cost(t, values)
            llg = grammar_cost(compiler, schemas[t.name], ids, stop_ids[0], in_money)
            result = {"python": python, "llguidance": llg}
            runs[t.name].append(result)
            print(f"  repeat {repeat + 1} {t.name}: parse {python['parse_us']:.2f} us/value, grammar "
                  f"{llg['grammar_ms']:.1f} ms, matcher {llg['matcher_ms']:.1f} ms, "
                  f"cold mask mean {llg['cold']['mask_mean_ms']:.3f} ms",
                  file=sys.stderr, flush=True)

    medians = {name: {label: statistics.median(_get(r, path) for r in rs) for label, path, _ in ROWS}
               for name, rs in runs.items()}
    lines = [f"currency table OLD ({OLD_COMMIT}:{OLD_PATH}) against NEW (working tree, files {new_files}): medians of "
             f"{args.repeats} interleaved repeats; {platform.machine()} {os.cpu_count()}-core CPU, "
             f"Python {platform.python_version()}",
             f"llguidance {_version('llguidance')}, synthetic {tok_stats['vocab_size']:,}-token tokenizer "
             f"(built in {tok_stats['build_s']:.1f} s); invoice answer of {len(ids)} tokens + stop "
             f"({sum(in_money)} in money values); parse_money over {len(values):,} values", "",
             f"| {'':42} | {'OLD':>10} | {'NEW':>10} | {'NEW/OLD':>7} |",
             f"|{'-' * 44}|{'-' * 12}|{'-' * 12}|{'-' * 9}|"]
    size_labels = (("currency forms", "forms"), ("alternation (chars)", "alternation_chars"),
                   ("MONEY pattern (chars)", "money_chars"), ("invoice JSON schema (bytes)", "schema_bytes"))
    for label, key in size_labels:
        a, b = sizes["OLD"][key], sizes["NEW"][key]
        lines.append(f"| {label:42} | {a:>10,} | {b:>10,} | {b / a:>7.2f} |")
    for label, _, digits in ROWS:
        a, b = medians["OLD"][label], medians["NEW"][label]
        lines.append(f"| {label:42} | {a:>10.{digits}f} | {b:>10.{digits}f} | {b / a:>7.2f} |")
    if _new_files_hash() != new_files:
        lines += ["", f"note: currencies.py / currency_forms.py changed in the working tree during the run; NEW is "
                  f"the table imported at its start (files {new_files})"]
    print("\n".join(lines))

    result = {"when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "host": platform.node(),
              "commit": commit(), "old": f"{OLD_COMMIT}:{OLD_PATH}", "new_files_sha256": new_files,
              "cpus": os.cpu_count(), "llguidance": _version("llguidance"), "repeats": args.repeats,
              "values": len(values), "printed": PRINTED, "answer": text, "answer_tokens": len(ids),
              "answer_money_tokens": sum(in_money), "tokenizer": tok_stats, "tokenizer_wrap_s": wrap_s,
              "sizes": sizes, "medians": medians, "runs": runs, "total_s": round(time.perf_counter() - begun, 1)}
    write_result(args.results, result)
    return 0


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def _new_files_hash() -> str:
    digest = hashlib.sha256()
    for name in ("currencies.py", "currency_forms.py"):
        digest.update((ROOT / "docpipe" / "normalize" / name).read_bytes())
    return digest.hexdigest()[:16]


if __name__ == "__main__":
    raise SystemExit(main())
