"""Compare constrained-decoding libraries (llguidance, xgrammar, outlines) on a Gemma-4-sized vocabulary.

    python bench/grammar_libraries.py            # default run (about 6 minutes on 2 cores)
    python bench/grammar_libraries.py --quick    # smaller run (about 70 s): invoice, batch 16, no outlines

No model weights or real Gemma tokenizer can be had here, so the script builds a synthetic
262,144-token tokenizer in code, shaped like Gemma's: a SentencePiece-style BPE ('▁' for the space,
byte fallback `<0x00>`..`<0xFF>`, digits split one by one) with Gemma 4's special tokens. About
40k tokens are learnt by really training a BPE on generated invoice/receipt/form JSON and English
prose (so encoding a JSON answer gives realistic tokens such as `▁"`, `":`, `",`, `▁Street`); the
rest, up to 262,144, are added with consistent merges: multi-digit numbers, JSON punctuation runs
(`":▁"`, `},▁{"`, `":▁null`), word variants and pronounceable letter combinations.

For each library and each docpipe schema (invoice, receipt, form) it measures:
  1. tokenizer-info build time (once per vocabulary), grammar compile time (cold, then warm), and
     the time to the first mask;
  2. per-step cost of mask fill + apply on a [batch, 262144] float32 logits tensor at batch 1 and
     64, driving each matcher through valid JSON answers token by token (mean and p95);
  3. correctness: a seeded random-walk "model" at batch 8 that samples allowed tokens until a stop
     token or 300 steps; the finished outputs are checked with jsonschema (Draft 2020-12, formats
     checked), and the masks are checked for special tokens allowed inside JSON strings.

Each library runs in its own subprocess with a time limit, so a library that is missing, fails or
hangs is reported as such and the others still run. Stop tokens: `<eos>` and `<turn|>` for all
(outlines-core takes a single EOS id, so only `<eos>` there). outlines' index takes 1.5-2.5 min per
schema here, so by default it runs on the form schema only (`--outlines-all` for all three), once as
shipped and once as "outlines+fix", with its `convert_token_to_string` patched (see the doc).

The three schemas come from docpipe (`docpipe.schema.load.resolve_schema(name).json_schema()`); run the
script with a Python that has the libraries installed (see docs/constrained_decoding.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import re
import string
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VOCAB_SIZE = 262_144
SCHEMA_NAMES = ("invoice", "receipt", "form")
LIBRARIES = ("llguidance", "xgrammar", "outlines", "outlines+fix")
STOP_TOKENS = ("<eos>", "<turn|>")
SPECIAL_TOKENS = [
    "<pad>", "<eos>", "<bos>", "<unk>", "<mask>",
    "<|turn>", "<turn|>", "<|image|>", "<|image>", "<image|>", "<|audio|>", "<|audio>", "<audio|>",
    "<|video|>", "<|tool>", "<tool|>", "<|tool_call>", "<tool_call|>", "<|tool_response>",
    "<tool_response|>", "<|channel>", "<channel|>", "<|think|>", '<|"|>',
] + [f"<unused{i}>" for i in range(100)]
BYTE_TOKENS = [f"<0x{b:02X}>" for b in range(256)]
TRAINED_VOCAB = 40_000  # BPE-trained part; the rest of the 262,144 is filled in code
# Gemma-like pre-tokenisation: words with their leading '▁', single digits, punctuation runs.
PRETOKENIZE_REGEX = r"▁?\p{L}+|\p{N}|▁?[^\s\p{L}\p{N}▁]+|▁+(?=▁)|▁+|\s+"

# --------------------------------------------------------------------------------------------
# Text pools: realistic values for documents and the training corpus
# --------------------------------------------------------------------------------------------

WORDS = """the of and to in a is that for it as was with be by on not he this are or his from at
which but have an they you were her she there been one all we their has would when if so no will
more can out up about who what some do time them other into only could its than then also two over
first new very after like should most these way made many our may any people years well through
world back such where much must year before those because each between same under last while
invoice receipt form total amount tax subtotal quantity price unit description date due number name
address seller buyer merchant customer payment method cash card other currency item items line
order delivery shipping street road avenue lane suite floor building city state country postal code
phone email account bank transfer reference consulting services hours software license support
maintenance hardware office supplies paper printer toner coffee lunch dinner taxi hotel parking fuel
repair cleaning rent monthly annual fee discount balance paid net gross sales company limited
corporation group holdings trading international global solutions systems technologies partners
associates signature applicant employer employee title position department start end period yes
checked married single previous emergency contact relationship insurance policy claim patient
doctor diagnosis treatment medication allergy height weight blood pressure visit notes approved
rejected pending terms conditions warranty return refund credit debit change cashier table guests
service charge rounding adjustment member points voucher bottle glass water tea milk bread rice
chicken beef fish noodles vegetables fruit apple orange banana cheese eggs sugar salt oil butter
chair desk lamp cable adapter monitor keyboard mouse laptop phone charger battery screen box bag
pen pencil notebook folder envelope stamp ticket flight train bus fare room night breakfast
laundry minibar spa gym pool conference meeting project design development testing deployment
analysis report review audit training workshop subscription storage hosting domain backup
security network cloud server database migration integration custom standard premium basic pro
enterprise personal business home work family health education travel food drink shopping
electronics clothing shoes accessories furniture garden tools toys books music movies games sports
please thank you welcome again visit our store online www com net org info help customer care
hotline open daily mon tue wed thu fri sat sun am pm january february march april may june july
august september october november december north south east west central upper lower main high
park hill view river lake green new old""".split()

FIRST_NAMES = """John Mary Ahmad Siti Wei Li Anna Peter Maria Jose Chen Yuki Hiroshi Fatima Omar
Priya Raj Arjun Mei Ling Sarah David Michael Emma Olivia Noah Liam Sofia Lucas Mateo Aisha Nurul
Hassan Ali Kim Min Joon Thomas Julia Jan Eva Pavel Olga Ivan Elena Marco Giulia Pierre Claire
Hans Ingrid Lars Björn Søren Zoë José François Łukasz Dvořák""".split()
LAST_NAMES = """Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Tan Lim
Lee Wong Ng Abdullah Rahman Ibrahim Hassan Kumar Sharma Patel Singh Nguyen Tran Pham Kim Park
Choi Tanaka Suzuki Sato Müller Schmidt Schneider Fischer Weber Kowalski Nowak Novak Rossi Russo
Dubois Martin Bernard Silva Santos Oliveira Ivanov Petrov Andersen Hansen Jensen""".split()
COMPANY_WORDS = """Acme Global Northwind Contoso Fabrikam Tailspin Litware Adventure Blue Yonder
Sunrise Evergreen Pacific Atlantic Summit Pioneer Horizon Silver Golden Eagle Lotus Orchid Maple
Cedar Harbor Metro Urban Prime Alpha Delta Omega Nova Vertex Apex Crown Royal Star Bright""".split()
COMPANY_SUFFIX = ["Ltd", "Ltd.", "Inc.", "LLC", "GmbH", "Sdn. Bhd.", "Pte. Ltd.", "S.A.", "B.V.",
                  "Corp.", "& Co.", "PLC", "AG", "Trading", "Enterprise"]
STREET_TYPES = ["Street", "Road", "Avenue", "Lane", "Jalan", "Straße", "Rue", "Boulevard", "Drive",
                "Way", "Place", "Court"]
CITIES = ["Kuala Lumpur", "Petaling Jaya", "Singapore", "Berlin", "München", "Zürich", "London",
          "New York", "San Francisco", "São Paulo", "Paris", "Lyon", "Tokyo", "Osaka", "Seoul",
          "Jakarta", "Bangkok", "Ho Chi Minh City", "Sydney", "Toronto", "Kraków", "Praha",
          "Amsterdam", "Madrid", "Milano", "Dubai", "Mumbai", "Shenzhen"]
ITEMS = ["Consulting services", "Software license (annual)", "Office chair", "A4 paper, 500 sheets",
         "Printer toner cartridge", "Cloud hosting - March", "Support hours", 'Monitor 27" 4K',
         "Nasi lemak", "Teh tarik", "Iced coffee", "Chicken rice", "Parking fee", "Taxi fare",
         "Hotel room, 2 nights", "USB-C cable 2m", "Wireless mouse", "Laptop stand", "Mineral water",
         "Café au lait", "Croissant", "Delivery charge", "Service charge 10%", "Discount (member)",
         "Design work — phase 1", "Maintenance contract", "Sparkling water 1.5L", "Bread & butter"]
FORM_KEYS = ["Full name", "Date of birth", "Address", "Phone number", "Email", "Signature",
             "Employer", "Position", "Start date", "Emergency contact", "Relationship",
             "Policy number", "Claim amount", "Marital status", "Nationality", "Passport No.",
             "Reason for visit", "Allergies", "Do you smoke?", "Preferred contact method"]
CURRENCIES = ["USD", "EUR", "GBP", "MYR", "SGD", "JPY", "CHF", "IDR", "THB", "AUD", "CAD", "INR"]


def _company(rng: random.Random) -> str:
    return f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_SUFFIX)}"


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _address(rng: random.Random) -> str:
    return (f"{rng.randint(1, 250)} {rng.choice(LAST_NAMES)} {rng.choice(STREET_TYPES)}, "
            f"{rng.randint(10000, 99999)} {rng.choice(CITIES)}")


def _sentence(rng: random.Random, n: int | None = None) -> str:
    words = [rng.choice(WORDS) for _ in range(n or rng.randint(3, 12))]
    return " ".join(words).capitalize()


MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]


def _date(rng: random.Random) -> str:
    return f"{rng.randint(2019, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _printed_values(rng: random.Random) -> list[str]:
    """Dates, amounts and numbers as they are printed on documents (for `pattern` fields)."""
    d, m, y = rng.randint(1, 28), rng.randint(1, 12), rng.randint(2019, 2026)
    month = MONTHS[m - 1]
    a = round(rng.uniform(0.5, 5000.0), 2)
    cur = rng.choice(["RM", "$", "€", "£", "USD", "EUR", "MYR", "Rp"])
    return [
        f"{d:02d}/{m:02d}/{y}", f"{d}.{m}.{y}", f"{y}-{m:02d}-{d:02d}", f"{d} {month} {y}",
        f"{month} {d}, {y}", f"{d:02d}-{month[:3]}-{y % 100:02d}", f"{m}/{d}/{y % 100:02d}",
        f"{a:,.2f}", f"{a:.2f}", f"{cur} {a:,.2f}", f"{cur}{a:.2f}", f"{a:.2f} {cur}",
        f"{a:,.2f}".replace(",", " ").replace(".", ","), f"-{a:.2f}", f"({a:.2f})", str(int(a)),
        str(rng.choice([1, 2, 3, 4, 5, 6, 10, 12, 24])), rng.choice(["0.5", "1.5", "2,5", "1,000", "0.250"]),
    ]


def _string_value(schema: dict, key: str, rng: random.Random) -> str:
    if "pattern" in schema:
        matching = [v for v in _printed_values(rng) if re.search(schema["pattern"], v)]
        if not matching:
            raise ValueError(f"no generated value matches the pattern of {key!r}: {schema['pattern'][:80]}")
        return rng.choice(matching)
    if schema.get("format") == "date":
        return _date(rng)
    value = _text_for(key, rng)
    if "maxLength" in schema:
        value = value[: schema["maxLength"]].rstrip()
    return value


def _text_for(key: str, rng: random.Random) -> str:
    k = key.lower()
    if "number" in k:
        return f"{rng.choice(['INV', 'No.', 'SO', 'A'])}-{rng.randint(2019, 2026)}-{rng.randint(1, 9999):04d}"
    if k == "currency":
        return rng.choice(CURRENCIES)
    if k == "time":
        return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
    if "date" in k:
        return rng.choice(_printed_values(rng)[:7])
    if "address" in k:
        return _address(rng)
    if k in ("seller_name", "merchant_name"):
        return _company(rng)
    if "name" in k:
        return _person(rng) if rng.random() < 0.5 else _company(rng)
    if k == "description":
        return rng.choice(ITEMS)
    if k == "key":
        return rng.choice(FORM_KEYS)
    if k == "value":
        return rng.choice([_person(rng), _date(rng), _address(rng), "Yes", "No", _sentence(rng, 3)])
    if k == "title":
        return rng.choice(["Application form", "Patient registration", "Insurance claim form",
                           "Employee onboarding", "Visitor log"])
    return _sentence(rng)


def make_instance(schema: dict, rng: random.Random, key: str = "", null_rate: float = 0.08):
    """A valid instance of one of docpipe's schemas, with realistic-looking values."""
    if "enum" in schema:
        return rng.choice(schema["enum"])
    types = schema.get("type", "string")
    types = [types] if isinstance(types, str) else list(types)
    non_null = [t for t in types if t != "null"]
    if "null" in types and (not non_null or (rng.random() < null_rate and key)):
        return None
    kind = non_null[0]
    if kind == "object":
        return {name: make_instance(sub, rng, name, null_rate)
                for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [make_instance(schema["items"], rng, key, null_rate) for _ in range(rng.randint(2, 5))]
    if kind == "string":
        return _string_value(schema, key, rng)
    if kind == "integer":
        return rng.randint(0, 1000)
    if kind == "number":
        if key == "quantity":
            return rng.choice([1, 2, 3, 5, 10, 12, 0.5, 2.5])
        return round(rng.uniform(0.5, 5000.0), 2)
    if kind == "boolean":
        return rng.random() < 0.5
    raise ValueError(f"unsupported schema kind {kind!r}")


def dump(instance) -> str:
    """The answer text: json.dumps with its default separators (', ' and ': ')."""
    return json.dumps(instance, ensure_ascii=False)


# --------------------------------------------------------------------------------------------
# Synthetic 262k tokenizer
# --------------------------------------------------------------------------------------------

def _alphabet() -> list[str]:
    chars = [c for c in string.printable if c not in " \x0b\x0c\r"] + ["▁"]
    chars += [chr(c) for c in range(0xC0, 0x180) if chr(c).isalpha()]  # Latin-1, Latin Ext-A
    chars += list("€£¥¢°±×÷§¶©®™…–—‘’“”•·¹²³½¼¾µ¿¡«»")
    chars += [chr(c) for c in range(0x391, 0x3CA) if chr(c).isalpha()]  # Greek
    chars += [chr(c) for c in range(0x410, 0x450)]  # Cyrillic
    chars += list("的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年")  # some CJK
    return list(dict.fromkeys(chars))


def _syllable_word(rng: random.Random, max_syllables: int = 3) -> str:
    onsets = ["", "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v",
              "w", "z", "br", "ch", "cr", "dr", "fl", "gr", "kh", "pl", "pr", "sh", "st", "th", "tr"]
    vowels = ["a", "e", "i", "o", "u", "y", "ai", "ea", "ou", "ie", "a", "e", "i", "o", "é", "ü", "ö"]
    codas = ["", "", "", "n", "r", "s", "t", "l", "m", "ng", "ck", "rd", "st", "x"]
    return "".join(rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas)
                   for _ in range(rng.randint(1, max_syllables)))


def _training_corpus(schemas: dict[str, dict], seed: int = 1234) -> list[str]:
    """Generated JSON answers and prose; the prose mixes real words with a Zipf-distributed pool of
    pronounceable pseudo-words, so that BPE learns a realistic spread of sub-words."""
    rng = random.Random(seed)
    pool = list(dict.fromkeys(_syllable_word(rng, 4) for _ in range(120_000)))
    weights = [1.0 / (i + 10) for i in range(len(pool))]
    docs = []
    for _ in range(1500):
        for schema in schemas.values():
            inst = make_instance(schema, rng)
            docs.append(dump(inst) if rng.random() < 0.8 else json.dumps(inst, indent=2, ensure_ascii=False))
    for _ in range(40):
        words = rng.choices(pool, weights, k=8000)
        for i in range(0, len(words), 12):
            chunk = [w.capitalize() if rng.random() < 0.15 else w for w in words[i:i + 12]]
            chunk += rng.choices(WORDS, k=6)
            rng.shuffle(chunk)
            docs.append(" ".join(chunk) + rng.choice([".", ",", "!", "?", ":", ";", " -", "..."]))
    for _ in range(3000):
        docs.append(f"{_person(rng)}, {_company(rng)}, {_address(rng)}, {rng.choice(ITEMS)}")
    return docs


def _filler_candidates(rng: random.Random):
    """Strings for the untrained part of the vocabulary, in the order they are added."""
    for n in range(100):
        yield f"{n:02d}"
    for n in range(1000):
        yield str(n)
        yield f"{n:03d}"
        yield "▁" + str(n)
    for y in range(1900, 2100):
        yield str(y)
        yield "▁" + str(y)
    for frac in range(100):
        yield f".{frac:02d}"
        yield f",{frac:02d}"
    json_bits = ['{"', '"}', '":', '":▁', '",', '",▁', '",▁"', '▁"', '"]', '"],', '"]}', '[{"', '[{',
                 '}]', '},', '},▁', '},▁{', '},▁{"', ']}', '}]}', '":▁"', '":▁null', '":▁null,',
                 '":▁null,▁"', '":▁[', '":▁[{"', '":▁{"', '":▁[]', '":▁-', '":▁0', '":▁1', "null",
                 "▁null", "null,", "null}", "true", "▁true", "false", "▁false", '\\"', "\\n", "\\u",
                 "\\\\", '."', '.",', '."}', '▁{', '▁[', '▁[{"', '▁{"', '"▁', '":▁true', '":▁false',
                 '▁▁', '▁▁▁', '▁▁▁▁', '▁▁▁▁▁▁▁▁', '\n\n', '\n▁▁', '\n▁▁▁▁', '\n▁▁▁▁"', '\n}', '\n▁▁]',
                 '<', '</', '/>', '<br', '<td>', '</td>', '<tr>', '&amp;', '->', '=>', '();', '{}',
                 '[]', '""', "''", '...', '--', '---', '==', '!=', '<=', '>=', '**', '##', '###']
    yield from json_bits
    for w in WORDS + FIRST_NAMES + LAST_NAMES + COMPANY_WORDS + STREET_TYPES:
        for v in (w, w.capitalize(), w.upper()):
            yield v
            yield "▁" + v
            yield '"' + v
            yield '▁"' + v
    while True:
        word = _syllable_word(rng)
        r = rng.random()
        if r < 0.25:
            word = word.capitalize()
        elif r < 0.28:
            word = word.upper()
        yield ("▁" + word) if rng.random() < 0.6 else word


def build_tokenizer(schemas: dict[str, dict], out_dir: Path) -> dict:
    """Train + fill a 262,144-token Gemma-like tokenizer; save it to out_dir; return stats."""
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
    )
    from tokenizers.trainers import BpeTrainer

    t0 = time.perf_counter()
    alphabet = _alphabet()
    tok = Tokenizer(models.BPE(byte_fallback=True, unk_token=None))
    tok.normalizer = normalizers.Replace(" ", "▁")
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated")
    trainer = BpeTrainer(vocab_size=TRAINED_VOCAB, min_frequency=2, show_progress=False,
                         initial_alphabet=alphabet, special_tokens=[])
    tok.train_from_iterator(_training_corpus(schemas), trainer=trainer)
    trained = json.loads(tok.to_str())["model"]
    merges = [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in trained["merges"]]
    trained_tokens = [t for t, _ in sorted(trained["vocab"].items(), key=lambda kv: kv[1])]

    vocab: dict[str, int] = {}
    for t in SPECIAL_TOKENS + BYTE_TOKENS + alphabet + trained_tokens:
        vocab.setdefault(t, len(vocab))
    n_trained = len(vocab)
    rng = random.Random(7)
    for cand in _filler_candidates(rng):
        if len(vocab) >= VOCAB_SIZE:
            break
        if cand in vocab:
            continue
        # add the prefixes first so that every token is the merge of (prefix, last character)
        for i in range(2, len(cand) + 1):
            piece = cand[:i]
            if piece in vocab:
                continue
            if len(vocab) >= VOCAB_SIZE or piece[-1] not in vocab:
                break
            vocab[piece] = len(vocab)
            merges.append((piece[:-1], piece[-1]))
    assert len(vocab) == VOCAB_SIZE, len(vocab)

    final = Tokenizer(models.BPE(vocab=vocab, merges=merges, byte_fallback=True, unk_token=None))
    final.normalizer = normalizers.Replace(" ", "▁")
    final.pre_tokenizer = pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated")
    final.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()])
    final.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS])

    from transformers import PreTrainedTokenizerFast

    hf = PreTrainedTokenizerFast(tokenizer_object=final, bos_token="<bos>", eos_token="<eos>",
                                 pad_token="<pad>", unk_token="<unk>",
                                 additional_special_tokens=SPECIAL_TOKENS[5:])
    hf.save_pretrained(out_dir)
    multi = [t for t in vocab if len(t) > 1 and t not in SPECIAL_TOKENS and t not in BYTE_TOKENS]
    return {
        "build_s": time.perf_counter() - t0,
        "vocab_size": len(hf),
        "trained_tokens": n_trained,
        "multi_char_tokens": len(multi),
        "with_quote": sum('"' in t for t in multi),
        "with_brace_or_bracket": sum(any(c in t for c in "{}[]") for t in multi),
        "with_digit": sum(any(c.isdigit() for c in t) for t in multi),
        "special_tokens": len(SPECIAL_TOKENS),
    }


def load_tokenizer(tok_dir: Path):
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    tok = AutoTokenizer.from_pretrained(str(tok_dir))
    assert isinstance(tok, PreTrainedTokenizerFast), type(tok)
    assert len(tok) == VOCAB_SIZE, len(tok)
    return tok


def token_bytes_table(hf_tok) -> list[bytes]:
    """Bytes each token id stands for (special tokens: b'')."""
    table = [b""] * VOCAB_SIZE
    specials = set(SPECIAL_TOKENS)
    for t, i in hf_tok.get_vocab().items():
        if t in specials:
            continue
        if len(t) == 6 and t.startswith("<0x") and t.endswith(">"):
            table[i] = bytes([int(t[3:5], 16)])
        else:
            table[i] = t.replace("▁", " ").encode("utf-8")
    return table


# --------------------------------------------------------------------------------------------
# Library adapters: the same small interface over each library
# --------------------------------------------------------------------------------------------

def _ncpu() -> int:
    return os.cpu_count() or 1


class LLGuidance:
    name = "llguidance"

    def __init__(self, hf_tok, stop_ids):
        import llguidance
        import llguidance.hf
        import llguidance.torch as lt

        self.lt = lt
        self.llg = llguidance
        from importlib.metadata import version

        self.version = version("llguidance")
        self.stop_ids = list(stop_ids)
        self.tok = llguidance.hf.from_tokenizer(hf_tok, eos_token=self.stop_ids)
        self.executor = llguidance.LLExecutor(num_threads=_ncpu())
        self.notes = f"LLExecutor({_ncpu()} threads) for batch fill/consume"

    def compile(self, schema: dict):
        grammar = self.llg.LLMatcher.grammar_from_json_schema(
            schema, overrides={"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "})
        m = self.llg.LLMatcher(self.tok, grammar, log_level=0)
        if m.is_error():
            raise RuntimeError(m.get_error())
        return grammar

    def matchers(self, grammar, n: int):
        ms = [self.llg.LLMatcher(self.tok, grammar, log_level=0) for _ in range(n)]
        for m in ms:
            if m.is_error():
                raise RuntimeError(m.get_error())
        return ms

    def alloc(self, n: int):
        return self.lt.allocate_token_bitmask(n, VOCAB_SIZE)

    def fill(self, ms, mask):
        if len(ms) == 1:
            self.lt.fill_next_token_bitmask(ms[0], mask, 0)
        else:
            self.lt.fill_next_token_bitmask_par(self.executor, [(m, i) for i, m in enumerate(ms)], mask)

    def apply(self, logits, mask):
        self.lt.apply_token_bitmask_inplace(logits, mask)

    def advance(self, ms, toks) -> list[bool]:
        if len(ms) == 1:
            return [ms[0].consume_token(toks[0])]
        return self.lt.consume_token_par(self.executor, list(zip(ms, toks)))

    def error(self, m) -> str:
        return m.get_error() if m.is_error() else ""


class XGrammar:
    name = "xgrammar"

    def __init__(self, hf_tok, stop_ids):
        import xgrammar as xgr

        self.xgr = xgr
        from importlib.metadata import version

        self.version = version("xgrammar")
        self.stop_ids = list(stop_ids)
        self.info = xgr.TokenizerInfo.from_huggingface(hf_tok, vocab_size=VOCAB_SIZE, stop_token_ids=self.stop_ids)
        self.compiler = xgr.GrammarCompiler(self.info, max_threads=_ncpu())
        self.batch = xgr.BatchGrammarMatcher(max_threads=_ncpu())
        self.notes = (f"vocab_type={self.info.vocab_type.name}, BatchGrammarMatcher({_ncpu()} threads); "
                      "apply: CPU kernel")

    def clear_cache(self):
        self.compiler.clear_cache()

    def compile(self, schema: dict):
        return self.compiler.compile_json_schema(json.dumps(schema), any_whitespace=False,
                                                 separators=(", ", ": "), strict_mode=True)

    def matchers(self, compiled, n: int):
        return [self.xgr.GrammarMatcher(compiled) for _ in range(n)]

    def alloc(self, n: int):
        return self.xgr.allocate_token_bitmask(n, VOCAB_SIZE)

    def fill(self, ms, mask):
        if len(ms) == 1:
            ms[0].fill_next_token_bitmask(mask, 0)
        else:
            self.batch.batch_fill_next_token_bitmask(ms, mask)

    def apply(self, logits, mask):
        self.xgr.apply_token_bitmask_inplace(logits, mask)

    def advance(self, ms, toks) -> list[bool]:
        if len(ms) == 1:
            return [ms[0].accept_token(toks[0])]
        return self.xgr.BatchGrammarMatcher.batch_accept_token(ms, list(toks))

    def error(self, m) -> str:
        return ""


class _StubModel:
    """outlines.from_transformers wants a model object; the backend only uses the tokenizer."""


class Outlines:
    name = "outlines"
    space_fix = False

    def __init__(self, hf_tok, stop_ids):
        from importlib.metadata import version

        import outlines
        from outlines.backends.outlines_core import OutlinesCoreBackend
        from outlines.models.transformers import TransformerTokenizer
        from outlines_core.kernels import torch as okt

        self.okt = okt
        self.version = f"{version('outlines')} (outlines-core {version('outlines_core')})"
        self.stop_ids = [stop_ids[0]]  # outlines-core's Vocabulary takes a single EOS id
        if self.space_fix:
            # outlines adds a second space in front of every '▁' token, right for decoders that strip
            # the leading space (Llama) but wrong for a Gemma-style decoder; decode tokens as they are
            TransformerTokenizer.convert_token_to_string = (
                lambda self, token: self.tokenizer.convert_tokens_to_string([token]))
        model = outlines.from_transformers(_StubModel(), hf_tok)
        self.backend = OutlinesCoreBackend(model)  # builds the outlines-core Vocabulary
        self.notes = ("outlines_core backend (its JSON-schema default), whitespace '[ ]?', one EOS id "
                      "(<turn|> is plain text to it)" + ("; convert_token_to_string patched" if self.space_fix else ""))

    def compile(self, schema: dict):
        proc = self.backend.get_json_schema_logits_processor(json.dumps(schema))
        return proc.index

    def matchers(self, index, n: int):
        from outlines_core import Guide

        return [Guide(index) for _ in range(n)]

    def alloc(self, n: int):
        import torch

        return torch.full((n, (VOCAB_SIZE + 31) // 32), -1, dtype=torch.int32)

    def fill(self, ms, mask):
        # what OutlinesCoreLogitsProcessor does row by row, written into rows of one bitmask
        for i, g in enumerate(ms):
            self.okt.fill_next_token_bitmask(g, mask[i:i + 1])

    def apply(self, logits, mask):
        self.okt.apply_token_bitmask_inplace(logits, mask)

    def advance(self, ms, toks) -> list[bool]:
        out = []
        for g, t in zip(ms, toks):
            if t in self.stop_ids and g.is_finished():
                out.append(True)  # as OutlinesCoreLogitsProcessor: EOS ends, the guide is not advanced
                continue
            try:
                g.advance(token_id=t, return_tokens=False)
                out.append(True)
            except Exception:  # noqa: BLE001 - outlines-core raises on a token it cannot take
                out.append(False)
        return out

    def error(self, m) -> str:
        return ""


class OutlinesSpaceFix(Outlines):
    name = "outlines+fix"
    space_fix = True


ADAPTERS = {"llguidance": LLGuidance, "xgrammar": XGrammar, "outlines": Outlines, "outlines+fix": OutlinesSpaceFix}


# --------------------------------------------------------------------------------------------
# Measurements (run inside one worker process per library)
# --------------------------------------------------------------------------------------------

def _allowed(mask_row):
    import numpy as np

    bits = np.unpackbits(mask_row.numpy().view(np.uint8), bitorder="little")
    return np.flatnonzero(bits[:VOCAB_SIZE])


def _is_allowed(mask, row: int, tok: int) -> bool:
    return bool((int(mask[row, tok >> 5]) >> (tok & 31)) & 1)


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(q * (len(s) - 1)))))]


def drive(lib, grammar, sequences: list[list[int]], max_steps: int) -> dict:
    """Feed each row its own valid token sequence; time fill+apply for the whole batch per step."""
    import torch

    n = len(sequences)
    steps = min(max_steps, min(len(s) for s in sequences))
    ms = lib.matchers(grammar, n)
    mask = lib.alloc(n)
    source = torch.randn(n, VOCAB_SIZE)
    logits = torch.empty_like(source)
    step_ms, fill_ms, apply_ms, adv_ms = [], [], [], []
    rejected = None
    for k in range(steps):
        logits.copy_(source)
        t0 = time.perf_counter()
        lib.fill(ms, mask)
        t1 = time.perf_counter()
        lib.apply(logits, mask)
        t2 = time.perf_counter()
        toks = [s[k] for s in sequences]
        if rejected is None:
            for i, t in enumerate(toks):
                if not _is_allowed(mask, i, t):
                    rejected = {"row": i, "step": k, "token": t}
                    break
        if rejected is not None:
            break
        t3 = time.perf_counter()
        ok = lib.advance(ms, toks)
        t4 = time.perf_counter()
        if not all(ok):
            i = ok.index(False)
            rejected = {"row": i, "step": k, "token": toks[i], "advance": True, "error": lib.error(ms[i])}
            break
        step_ms.append((t2 - t0) * 1e3)
        fill_ms.append((t1 - t0) * 1e3)
        apply_ms.append((t2 - t1) * 1e3)
        adv_ms.append((t4 - t3) * 1e3)
    out = {"batch": n, "steps": len(step_ms), "accepted": rejected is None}
    if rejected is not None:
        out["rejected"] = rejected
    if step_ms:
        out.update(mean_ms=sum(step_ms) / len(step_ms), p95_ms=_pct(step_ms, 0.95),
                   fill_mean_ms=sum(fill_ms) / len(fill_ms), fill_p95_ms=_pct(fill_ms, 0.95),
                   fill_max_ms=max(fill_ms), apply_mean_ms=sum(apply_ms) / len(apply_ms),
                   advance_mean_ms=sum(adv_ms) / len(adv_ms))
    return out


class _JsonStringState:
    """Tracks whether the bytes emitted so far end inside a JSON string."""

    def __init__(self):
        self.in_string = False
        self.escape = False

    def feed(self, data: bytes):
        for b in data:
            if self.in_string:
                if self.escape:
                    self.escape = False
                elif b == 0x5C:
                    self.escape = True
                elif b == 0x22:
                    self.in_string = False
            elif b == 0x22:
                self.in_string = True


def random_walk(lib, grammar, schema: dict, tok_bytes: list[bytes], stop_ids: list[int],
                special_ids: list[int], closer_ids, batch: int = 8, max_steps: int = 300,
                seed: int = 0, special_text: dict[int, bytes] | None = None) -> dict:
    """A seeded random 'model' that samples allowed tokens; checks the outputs and the masks."""
    import jsonschema
    import numpy as np

    special_text = special_text or {}
    rng = np.random.default_rng(seed)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    ms = lib.matchers(grammar, batch)
    mask = lib.alloc(batch)
    special_arr = np.array(special_ids)
    stop_arr = np.array(stop_ids)
    results = []
    specials_in_string = stops_in_string = specials_outside = empty_masks = 0
    seen_in_string: set[int] = set()
    lens = []
    for i, m in enumerate(ms):
        state = _JsonStringState()
        out = bytearray()
        finished, err = False, ""
        for step in range(max_steps):
            lib.fill([m], mask[i:i + 1])
            allowed = _allowed(mask[i])
            if allowed.size == 0:
                empty_masks += 1
                err = "empty mask"
                break
            allowed_specials = np.intersect1d(allowed, special_arr, assume_unique=True)
            allowed_stops = np.intersect1d(allowed, stop_arr, assume_unique=True)
            if state.in_string:
                specials_in_string += bool(allowed_specials.size)
                seen_in_string.update(int(x) for x in allowed_specials)
                stops_in_string += bool(allowed_stops.size)
            else:
                specials_outside += bool(allowed_specials.size)
            if allowed_stops.size and rng.random() < 0.7:
                t = int(allowed_stops[rng.integers(allowed_stops.size)])
                finished = lib.advance([m], [t])[0]
                err = "" if finished else f"stop token {t} allowed but not accepted"
                break
            closers = allowed[closer_ids[allowed]]
            pool = closers if closers.size and rng.random() < 0.6 else allowed
            t = int(pool[rng.integers(pool.size)])
            if t in stop_ids:
                finished = lib.advance([m], [t])[0]
                err = "" if finished else f"stop token {t} allowed but not accepted"
                break
            if not lib.advance([m], [t])[0]:
                err = f"advance rejected an allowed token {t}: {lib.error(m)}"
                break
            piece = tok_bytes[t] or special_text.get(t, b"")
            out += piece
            state.feed(piece)
        lens.append(step + 1)
        rec = {"finished": finished, "bytes": len(out), "error": err}
        if finished:
            try:
                value = json.loads(out.decode("utf-8"))
                errors = sorted(e.message for e in validator.iter_errors(value))
                rec["valid"] = not errors
                rec["why"] = "; ".join(errors[:2])
            except Exception as e:  # noqa: BLE001 - invalid UTF-8 or JSON counts as invalid output
                rec["valid"] = False
                rec["why"] = f"{type(e).__name__}: {e}"[:200]
            if not rec["valid"]:
                rec["text"] = out.decode("utf-8", "replace")[:400]
        results.append(rec)
    return {
        "batch": batch,
        "finished": sum(r["finished"] for r in results),
        "valid": sum(r.get("valid", False) for r in results),
        "steps_mean": sum(lens) / len(lens),
        "specials_in_string_steps": specials_in_string,
        "stop_in_string_steps": stops_in_string,
        "specials_outside_string_steps": specials_outside,
        "specials_seen_in_string": sorted(seen_in_string),
        "empty_masks": empty_masks,
        "problems": [r for r in results if r.get("error") or (r["finished"] and not r["valid"])][:3],
    }


def worker(lib_name: str, work: Path, config: dict) -> None:
    out_path = work / f"result_{lib_name}.json"
    res: dict = {"lib": lib_name, "schemas": {}}

    def stage(name: str):
        res["stage"] = name
        out_path.write_text(json.dumps(res, indent=1, default=str))

    try:
        import jsonschema
        import numpy as np
        import torch

        # one torch thread: on 2 cores, torch's intra-op threads next to the libraries' own mask
        # threads oversubscribe the CPU (llguidance's batch-1 apply went from 0.2 to 11 ms a step)
        torch.set_num_threads(1)
        stage("load tokenizer")
        schemas = json.loads((work / "schemas.json").read_text())
        hf_tok = load_tokenizer(work / "tokenizer")
        stop_ids = [hf_tok.convert_tokens_to_ids(t) for t in STOP_TOKENS]
        tok_bytes = token_bytes_table(hf_tok)
        closer_ids = np.array([any(c in b for c in b'",}]') for b in tok_bytes])
        stage("tokenizer info")
        t0 = time.perf_counter()
        lib = ADAPTERS[lib_name](hf_tok, stop_ids)
        res["tokenizer_info_s"] = time.perf_counter() - t0
        res["version"] = lib.version
        res["notes"] = lib.notes
        # not a stop for this library: every special token should stay out of JSON strings
        special_ids = sorted(hf_tok.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS)
        special_ids = [i for i in special_ids if i not in lib.stop_ids]
        special_text = {i: hf_tok.convert_ids_to_tokens(i).encode() for i in special_ids}

        stage("apply warm-up")  # torch.compile'd kernels (llguidance, outlines-core) compile here
        t0 = time.perf_counter()
        for n in (1, config["batch"]):
            lib.apply(torch.zeros(n, VOCAB_SIZE), lib.alloc(n))
        res["apply_warmup_s"] = time.perf_counter() - t0

        for name in config["schemas"].get(lib_name, SCHEMA_NAMES):
            schema = schemas[name]
            s: dict = {}
            res["schemas"][name] = s
            try:
                stage(f"compile {name}")
                if hasattr(lib, "clear_cache"):
                    lib.clear_cache()  # cold: nothing cached from the schemas compiled before
                t0 = time.perf_counter()
                try:
                    grammar = lib.compile(schema)
                finally:
                    s["compile_cold_ms"] = (time.perf_counter() - t0) * 1e3
                if config["warm_compile"].get(lib_name, True):
                    stage(f"compile {name} again")
                    t0 = time.perf_counter()
                    grammar = lib.compile(schema)
                    s["compile_warm_ms"] = (time.perf_counter() - t0) * 1e3
                t0 = time.perf_counter()
                lib.fill(lib.matchers(grammar, 1), lib.alloc(1))
                s["first_mask_ms"] = (time.perf_counter() - t0) * 1e3

                validator = jsonschema.Draft202012Validator(
                    schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)

                def seqs(n, base):
                    out = []
                    for r in range(n):
                        inst = make_instance(schema, random.Random(base + r))
                        bad = [e.message for e in validator.iter_errors(inst)]
                        assert not bad, f"generated answer does not validate: {bad[:2]}"
                        text = dump(inst)
                        ids = hf_tok.encode(text, add_special_tokens=False)
                        assert hf_tok.decode(ids) == text, "synthetic tokenizer does not round-trip"
                        out.append(ids + [stop_ids[0]])
                    return out

                stage(f"batch 1 {name}")
                one = seqs(1, 1000)
                s["answer_tokens"] = len(one[0])
                s["answer_chars"] = len(dump(make_instance(schema, random.Random(1000))))
                s["b1"] = drive(lib, grammar, one, config["steps_b1"])
                stage(f"batch {config['batch']} {name}")
                s["b64"] = drive(lib, grammar, seqs(config["batch"], 2000), config["steps_batch"])
                for d in (s["b1"], s["b64"]):
                    if d.get("rejected"):
                        d["rejected"]["token_text"] = hf_tok.convert_ids_to_tokens(d["rejected"]["token"])
                stage(f"random walk {name}")
                s["walk"] = random_walk(lib, grammar, schema, tok_bytes, lib.stop_ids, special_ids, closer_ids,
                                        batch=8, max_steps=300, special_text=special_text)
                s["walk"]["specials_seen_in_string"] = hf_tok.convert_ids_to_tokens(s["walk"]["specials_seen_in_string"])
            except Exception as e:  # noqa: BLE001 - a failure is a result, keep going
                msg = f"{type(e).__name__}: {e}"
                s["error"] = msg if len(msg) < 400 else f"{msg[:110]} ... {msg[-230:]}"
                s["traceback"] = traceback.format_exc()[-1500:]
        stage("done")
    except Exception as e:  # noqa: BLE001
        res["error"] = f"{type(e).__name__}: {e}"[:300]
        res["traceback"] = traceback.format_exc()[-1500:]
        stage(res.get("stage", "?"))


# --------------------------------------------------------------------------------------------
# Driver: build the tokenizer, run each library in a subprocess, print the tables
# --------------------------------------------------------------------------------------------

def docpipe_schemas() -> dict[str, dict]:
    sys.path.insert(0, str(REPO))
    from docpipe.schema.load import resolve_schema

    return {name: resolve_schema(name).json_schema() for name in SCHEMA_NAMES}


def _fmt(v, digits=1) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def report(results: dict[str, dict], tok_stats: dict, config: dict, libs: list[str], elapsed: float,
           quick: bool) -> str:
    bn = config["batch"]
    ts = tok_stats
    lines = [
        f"date: {dt.date.today().isoformat()}  machine: {platform.machine()} {os.cpu_count()}-core CPU, "
        f"Python {platform.python_version()}  mode: {'quick' if quick else 'default'}  total: {elapsed:.0f} s",
        f"vocabulary: {ts['vocab_size']:,} tokens ({ts['trained_tokens']:,} from BPE training incl. bytes/specials, "
        f"{ts['multi_char_tokens']:,} multi-character; {ts['with_quote']:,} contain a quote, "
        f"{ts['with_brace_or_bracket']:,} a brace/bracket, {ts['with_digit']:,} a digit; "
        f"{ts['special_tokens']} special), built in {ts['build_s']:.1f} s",
        "",
        "| library | version | tokenizer info (s) | apply warm-up (s) | status | notes |",
        "|---|---|---|---|---|---|",
    ]
    for lib in libs:
        r = results.get(lib, {})
        status = r.get("error") or "ok"
        lines.append(f"| {lib} | {r.get('version', '-')} | {_fmt(r.get('tokenizer_info_s'), 2)} | "
                     f"{_fmt(r.get('apply_warmup_s'), 1)} | {status} | {r.get('notes', '')} |")
    lines += [
        "",
        f"| library | schema | compile cold / warm (ms) | first mask (ms) | batch 1 step mean / p95 (ms) "
        f"| batch 1 fill mean (ms) | batch {bn} step mean / p95 (ms) | batch {bn} fill mean / p95, apply mean (ms) "
        f"| valid answers accepted | random walk valid / finished (of 8) | special-token allowed in a string (steps) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    errors, problems = [], []
    for lib in libs:
        r = results.get(lib, {})
        for name, s in r.get("schemas", {}).items():
            b1, bb, w = s.get("b1", {}), s.get("b64", {}), s.get("walk", {})
            acc = "-"
            if b1 and bb:
                acc = "yes" if b1.get("accepted") and bb.get("accepted") else "NO"
                for d in (b1, bb):
                    if d.get("rejected"):
                        problems.append(f"{lib}/{name} batch {d['batch']}: valid answer rejected {d['rejected']}")
            walk = f"{w['valid']} / {w['finished']}" if w else "-"
            spec = "-"
            if w:
                spec = str(w["specials_in_string_steps"])
                if w["stop_in_string_steps"]:
                    spec += f" (stop tokens: {w['stop_in_string_steps']})"
                names = w.get("specials_seen_in_string", [])
                if names:
                    problems.append(f"{lib}/{name}: special tokens allowed inside strings ({len(names)} of "
                                    f"{len(SPECIAL_TOKENS)}): {' '.join(names[:12])}{' ...' if len(names) > 12 else ''}")
                for p in w.get("problems", [])[:2]:
                    problems.append(f"{lib}/{name} random walk: {json.dumps(p, ensure_ascii=False)[:300]}")
            if s.get("error"):
                errors.append(f"{lib}/{name}: {s['error']}")
            compile_ms = f"{_fmt(s.get('compile_cold_ms'))} / {_fmt(s.get('compile_warm_ms'))}"
            if s.get("error") and "b1" not in s and s.get("compile_cold_ms") is not None:
                compile_ms = f"failed after {s['compile_cold_ms']:.0f}"
            lines.append(
                f"| {lib} | {name} | {compile_ms} | "
                f"{_fmt(s.get('first_mask_ms'))} | {_fmt(b1.get('mean_ms'), 2)} / {_fmt(b1.get('p95_ms'), 2)} | "
                f"{_fmt(b1.get('fill_mean_ms'), 2)} | {_fmt(bb.get('mean_ms'), 1)} / {_fmt(bb.get('p95_ms'), 1)} | "
                f"{_fmt(bb.get('fill_mean_ms'), 1)} / {_fmt(bb.get('fill_p95_ms'), 1)}, {_fmt(bb.get('apply_mean_ms'), 1)} | "
                f"{acc} | {walk} | "
                f"{spec}{' (error, see below)' if s.get('error') else ''} |")
    lines.append("")
    for name in SCHEMA_NAMES:
        for lib in libs:
            s = results.get(lib, {}).get("schemas", {}).get(name, {})
            if s.get("b1") and s.get("b64"):
                lines.append(f"{name}: batch-1 answer {s['answer_tokens']} tokens ({s['answer_chars']} chars); "
                             f"batch {bn}: {s['b64']['steps']} steps of {bn} different answers")
                break
    for title, items in (("errors:", errors), ("problems:", problems)):
        if items:
            lines += ["", title] + items
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller run (under 2 minutes): invoice only, "
                    "batch 16, fewer steps, no outlines")
    ap.add_argument("--libs", help="comma-separated subset of " + ", ".join(LIBRARIES))
    ap.add_argument("--outlines-all", action="store_true",
                    help="run outlines on all three schemas (its index takes 1.5-2.5 min per schema here)")
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.work, json.loads((args.work / "config.json").read_text()))
        return 0

    start = time.perf_counter()
    if args.quick:
        libs = ["llguidance", "xgrammar"]
        config = {"batch": 16, "steps_b1": 10_000, "steps_batch": 25,
                  "schemas": {lib: ("invoice",) for lib in LIBRARIES}, "warm_compile": {}}
        limits = {"llguidance": 60, "xgrammar": 60, "outlines": 150, "outlines+fix": 200}
    else:
        libs = list(LIBRARIES)
        # outlines-core builds its whole index before it finds the vocabulary problem (~80 s per
        # schema here), and the patched run needs ~100-150 s per schema: one schema by default
        outlines_schemas = SCHEMA_NAMES if args.outlines_all else ("form",)
        config = {"batch": 64, "steps_b1": 10_000, "steps_batch": 100,
                  "schemas": {"outlines": outlines_schemas, "outlines+fix": outlines_schemas},
                  "warm_compile": {"outlines": False, "outlines+fix": False}}
        k = len(outlines_schemas)
        limits = {"llguidance": 150, "xgrammar": 200, "outlines": 60 + 120 * k, "outlines+fix": 90 + 210 * k}
    if args.libs:
        libs = [x for x in args.libs.split(",") if x]
    with tempfile.TemporaryDirectory(prefix="grammar_bench_") as tmp:
        work = Path(tmp)
        schemas = docpipe_schemas()
        (work / "schemas.json").write_text(json.dumps(schemas))
        (work / "config.json").write_text(json.dumps(config))
        print(f"building the synthetic {VOCAB_SIZE:,}-token tokenizer ...", file=sys.stderr, flush=True)
        tok_stats = build_tokenizer(schemas, work / "tokenizer")
        print(f"  done in {tok_stats['build_s']:.1f} s", file=sys.stderr, flush=True)
        results = {}
        for lib in libs:
            print(f"running {lib} (limit {limits[lib]} s) ...", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", lib, "--work", str(work)]
            timed_out, stderr, rc = False, "", None
            try:
                proc = subprocess.run(cmd, timeout=limits[lib], capture_output=True, text=True)
                stderr, rc = proc.stderr, proc.returncode
            except subprocess.TimeoutExpired:
                timed_out = True
            path = work / f"result_{lib}.json"
            r = json.loads(path.read_text()) if path.exists() else {"lib": lib}
            if timed_out:
                r["error"] = f"timed out after {limits[lib]} s during: {r.get('stage', 'start-up')}"
            elif "error" not in r and r.get("stage") != "done":
                r["error"] = f"worker exited ({rc}) during {r.get('stage')}: {stderr.strip()[-300:]}"
            if r.get("error", "").startswith("ModuleNotFoundError"):
                r["error"] = f"not installed ({r['error']})"
            r["wall_s"] = time.perf_counter() - t0
            results[lib] = r
            print(f"  {lib}: {r['wall_s']:.0f} s, {r.get('error') or 'ok'}", file=sys.stderr, flush=True)
        text = report(results, tok_stats, config, libs, time.perf_counter() - start, args.quick)
        print(text)
        if args.json:
            args.json.write_text(json.dumps({"tokenizer": tok_stats, "config": config, "results": results},
                                            indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
