"""Every printed form of a currency, gathered from its sources: what `currencies.py` looks up.

Sources, each a function below:

- `iso_codes`: the ISO 4217 codes, as "EUR", "eur" and "Eur" (and "EUR.", as every form but words);
- `cldr_symbols`: the currency symbols of every CLDR locale (through Babel): "R$", "Kč", "₴",
  "ден.", "KM", "S/", "د.إ."; CLDR's narrow symbols ("₴", "₸", "₲") are each some locale's symbol;
- `cldr_words`: the unit word of each currency's CLDR display names, singular and every plural
  form, in `WORD_LANGUAGES` (the month tables' languages and the Cyrillic ones): "euros",
  "złotych", "korun", "kronor", "Franken", "rubli", "рублей", "динара";
- `PRINTED_FORMS`: abbreviations receipts print that CLDR lacks, from price-parser's currency
  table (BSD-3-Clause, github.com/scrapinghub/price-parser) and its test suite: "руб.", "грн",
  "Lek", "Tk", "ZK", "đ", "円", "원", "ريال".

Each form then comes with and without a trailing dot ("Ft", "Ft."; "руб.", "руб") and, when it is
a word, in lower, upper and title case ("zł", "ZŁ", "Zł"). A form stands for the set of codes of
every currency that prints it: "$", "kr", "dinar" and "franc" are several currencies, never a
guessed one. Forms that are not a currency's unit are left out (`NOT_A_UNIT`: cents, pence,
tomans, multipliers such as "K" and "Mio"), as are single Latin letters other than "R" (a "K" or
"M" after an amount multiplies it) and currencies not legal tender anywhere since 2000.
"""

from __future__ import annotations

import datetime as dt
import pickle
import re
import unicodedata
from collections.abc import Iterator
from functools import cache

# Languages whose currency words are read: the month tables' (months.py) and the Cyrillic ones.
WORD_LANGUAGES = (
    "en", "de", "nl", "fr", "es", "it", "pt", "ca", "ro", "sv", "da", "nb", "fi", "pl", "cs", "sk",
    "hr", "sl", "tr", "id", "ms", "hu", "ru", "uk", "bg", "be", "sr", "mk",
)

# Printed forms that CLDR's symbols and names lack, with the codes they stand for.
PRINTED_FORMS: dict[str, tuple[str, ...]] = {
    # Cyrillic abbreviations
    "руб.": ("RUB",), "р.": ("RUB", "BYN"), "₽": ("RUB",), "грн.": ("UAH",), "лв.": ("BGN",),
    "дин.": ("RSD",), "ден.": ("MKD",), "ман.": ("AZN",), "тңг.": ("KZT",), "тг": ("KZT",),
    "сом": ("KGS",), "сўм": ("UZS",), "км": ("BAM",), "крб.": ("UAK",),
    # Latin abbreviations
    "lei": ("RON",), "leu": ("RON",), "S$": ("SGD",), "C$": ("CAD", "NIO"), "CA$": ("CAD",),
    "CAD$": ("CAD",), "CAN$": ("CAD",), "AU$": ("AUD",), "AUD$": ("AUD",), "NZ$": ("NZD",),
    "US$": ("USD",), "AR$": ("ARS",), "BN$": ("BND",), "CL$": ("CLP",), "CO$": ("COP",),
    "CV$": ("CVE",), "J$": ("JMD",), "N$": ("NAD",), "TT$": ("TTD",), "$U": ("UYU",),
    "G$": ("GYD",), "GY$": ("GYD",), "Z$": ("ZWL",), "CUC$": ("CUC",), "MOP$": ("MOP",),
    "RD$": ("DOP",), "BZ$": ("BZD",), "Bds$": ("BBD",), "$b": ("BOB",), "Bs": ("BOB", "VES"),
    "Rs": ("INR", "PKR", "LKR", "NPR", "MUR", "SCR"), "Re": ("INR", "PKR", "LKR", "NPR", "MUR", "SCR"),
    "SLRs": ("LKR",), "MURs": ("MUR",), "NPRs": ("NPR",), "PKRs": ("PKR",),
    "kr": ("SEK", "NOK", "DKK", "ISK"), "Skr": ("SEK",), "Ft": ("HUF",), "RM": ("MYR",),
    "Rp": ("IDR",), "zł": ("PLN",), "zl": ("PLN",), "Kč": ("CZK",), "kn": ("HRK",), "TL": ("TRY",),
    "YTL": ("TRY",), "Fr.": ("CHF",), "SFr.": ("CHF",), "CHf": ("CHF",), "GFr": ("CHF",),
    "KD": ("KWD",), "BD": ("BHD",), "JD": ("JOD",), "DT": ("TND",), "LD": ("LYD",), "ID": ("IQD",),
    "QR": ("QAR",), "SR": ("SAR",), "YR": ("YER",), "Dhs": ("AED",), "Dh": ("AED", "MAD"),
    "DH": ("MAD",), "Lek": ("ALL",), "Af": ("AFN",), "Tk": ("BDT",), "ZK": ("ZMW",),
    "MK": ("MWK",), "KSh": ("KES",), "KShs": ("KES",), "Ksh": ("KES",), "TSh": ("TZS",),
    "Ssh": ("SOS",), "CFA": ("XOF", "XAF"), "FCFA": ("XOF", "XAF"), "FrCD": ("CDF",),
    "FRw": ("RWF",), "RF": ("RWF",), "R₣": ("RWF",), "MRf": ("MVR",), "VNĐ": ("VND",),
    "đ": ("VND",), "ש״ח": ("ILS",), 'ש"ח': ("ILS",),
    "NT": ("TWD",), "Gs": ("PYG",), "Nu": ("BTN",), "MT": ("MZN",), "Mt": ("MZN",),
    "Esc": ("CVE",), "S/.": ("PEN",), "evro": ("EUR",), "evra": ("EUR",), "evri": ("EUR",),
    "evrov": ("EUR",), "Evro": ("EUR",), "E£": ("EGP",), "₵": ("GHS",), "Ks": ("MMK",), "Vt": ("VUV",),
    "stg": ("GBP",), "Stg": ("GBP",), "Rbl": ("RUB",), "hrn": ("UAH",), "so'm": ("UZS",),
    "soʻm": ("UZS",), "NIS": ("ILS",), "ש'ח": ("ILS",), "￡": ("GBP",), "￥": ("JPY", "CNY"),
    "＄": ("USD",), "￦": ("KRW",),
    # other scripts
    "円": ("JPY",), "원": ("KRW",), "元": ("CNY",), "圓": ("TWD", "HKD"), "人民币": ("CNY",),
    "บาท": ("THB",), "₨": ("INR", "PKR", "LKR", "NPR", "MUR", "SCR"), "रु": ("INR", "NPR"),
    "ரூ": ("LKR", "INR"), "රු": ("LKR",), "ლარი": ("GEL",), "դր.": ("AMD",), "ብር": ("ETB",),
    "ريال": ("SAR", "QAR", "OMR", "YER", "IRR"), "ریال": ("IRR",), "﷼": ("SAR", "QAR", "OMR", "YER", "IRR"),
    "درهم": ("AED", "MAD"), "دينار": ("KWD", "BHD", "JOD", "IQD", "LYD", "TND", "DZD"),
    "جنيه": ("EGP", "SDG", "SSP"), "دج": ("DZD",), "د.ا": ("JOD",), "ع.د": ("IQD",),
    "ش.ج": ("ILS",),
}

# Printed next to an amount, but not a currency's unit: a fraction of one, a multiple of one, or
# another unit. Compared casefolded, without a trailing dot; never a form, whatever the source.
NOT_A_UNIT = frozenset({
    "¢", "c", "ct", "cts", "cent", "cents", "p", "gbp.", "gbx", "pence", "penny", "коп", "копеек",
    "gr", "grosz", "groszy", "haléř", "haléřů", "öre", "øre", "tomans", "toman", "تومان",
    "k", "m", "b", "bn", "mn", "mio", "mrd", "lakh", "lakhs", "cr", "crore", "crores", "dr",
    "pt", "pts", "gold", "mark", "kg",
})

_CAPITALS = re.compile(r"[A-Z]{2,3}\.?")  # "KM", "MT", "RM": lowercased, another unit (km, mt, rm)
_MARKS = re.compile("[\u200e\u200f\u061c\u200b]")  # direction marks around some symbols
_UNPRINTABLE = re.compile(r"[\s0-9¤]")
_WORD = re.compile(r"[^\W\d_]+(?:['’ʻ][^\W\d_]+)?")
_CYRILLIC = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґћђљњџј",
    "a b v g d e e zh z i i k l m n o p r s t u f h ts ch sh sch _ y _ e yu ya i i e g c d l n d j".split(),
))


def clean(form: str) -> str:
    """A printed form as looked up: NFC, without direction marks and surrounding spaces."""
    return unicodedata.normalize("NFC", _MARKS.sub("", form)).strip()


@cache
def _tender_in(territory: str) -> frozenset[str]:
    """ISO codes legal tender in `territory` at any time since 2000 (CLDR's territory currencies)."""
    from babel.numbers import get_territory_currencies

    return frozenset(get_territory_currencies(
        territory, start_date=dt.date(2000, 1, 1), end_date=dt.date.today(), tender=True))


@cache
def tender_since_2000() -> frozenset[str]:
    """ISO codes legal tender somewhere at any time since 2000."""
    from babel.core import get_global

    return frozenset().union(*(_tender_in(territory) for territory in get_global("territory_currencies")))


def iso_codes() -> Iterator[tuple[str, str]]:
    """The codes of the currencies tender since 2000 (not gold's XAU, nor the 1990s' ones)."""
    for code in sorted(tender_since_2000()):
        if re.fullmatch(r"[A-Z]{3}", code):
            for form in (code, code.lower(), code.title()):
                yield form, code


def cldr_symbols() -> Iterator[tuple[str, str]]:
    """Each locale's own currency symbols (what it inherits is its parent's, also read). Read
    from Babel's data files, not through `babel.localedata.load`: that would keep every locale in
    Babel's cache, 200 MB in each process that types amounts."""
    from babel.localedata import locale_identifiers, resolve_locale_filename

    tender = tender_since_2000()
    for locale in locale_identifiers():
        with open(resolve_locale_filename(locale), "rb") as file:
            symbols = pickle.load(file).get("currency_symbols", {})
        for code, symbol in symbols.items():
            symbol = clean(symbol)
            if code in tender and symbol and not _UNPRINTABLE.search(symbol) and len(symbol) <= 6:
                yield symbol, code


def _fold(word: str) -> str:
    """Casefolded, transliterated from Cyrillic, without accents and doubled letters: to compare
    unit words."""
    word = word.casefold()
    if "г" in word and "и" in word:  # Ukrainian: гривня is hryvnia
        word = word.replace("г", "h").replace("и", "y")
    word = "".join(_CYRILLIC.get(c, c) for c in word).replace("_", "")
    word = unicodedata.normalize("NFKD", word).replace("ł", "l").replace("ı", "i")
    word = "".join(c for c in word if not unicodedata.combining(c))
    word = re.sub(r"^[ij](?=[aeu])", "y", word)  # juan, jen, iene: yuan, yen
    return re.sub(r"(.)\1", r"\1", word)  # dollar and dólar, shilling and szyling


# Currencies whose words are read in every language, beside those of the language's territories.
WORLD_CURRENCIES = ("USD", "EUR", "GBP", "CHF", "JPY", "CNY")


def _territory_currencies(language: str) -> set[str]:
    """Codes of the currencies of the territories where `language` is official (English: all)."""
    from babel.core import get_global

    if language == "en":
        return set(tender_since_2000())
    codes = set(WORLD_CURRENCIES)
    for territory, languages in get_global("territory_languages").items():
        if languages.get(language, {}).get("official_status"):
            codes |= _tender_in(territory)
    return codes & tender_since_2000()


def cldr_words() -> Iterator[tuple[str, str]]:
    """The unit words of the CLDR display names of the currencies of each language's territories
    and of the world's main currencies, each for every currency it names ("dólares": every
    dollar). A unit word shares its stem with the last word of the currency's English name
    ("złotych" with "zloty", "рублей" with "ruble", "juan" with "yuan"), or is the word that the
    names of two currencies of that unit share ("Pfund" in "Britisches Pfund" and "Ägyptisches
    Pfund", "livres" in "livres sterling" and "livres libanaises")."""
    from babel.localedata import load

    english = load("en")["currency_names"]
    units = {}
    for code in tender_since_2000():
        name = english.get(code, "")
        if name and not re.search(r"[()\d]", name):
            units[code] = _fold(name.split()[-1])
    currencies_of: dict[str, list[str]] = {}  # English unit -> the codes of its currencies
    for code, unit in units.items():
        currencies_of.setdefault(unit, []).append(code)
    for language in WORD_LANGUAGES:
        data = load(language)
        places = {_fold(w) for name in data["territories"].values() for w in name.split()}
        names = {code: [data["currency_names"].get(code, ""), *data["currency_names_plural"].get(code, {}).values()]
                 for code in units}
        shared: dict[str, set[str]] = {}  # English unit -> words in two of its currencies' names
        for unit, codes_of_unit in currencies_of.items():
            seen: dict[str, set[str]] = {}
            for code in codes_of_unit:
                for word in {w for name in names[code] for w in _WORD.findall(name)}:
                    seen.setdefault(word, set()).add(code)
            shared[unit] = {w for w, codes in seen.items() if len(codes) > 1}
        found: dict[str, set[str]] = {}  # unit word -> every currency whose names use it
        for code, unit in units.items():
            stem = unit[:max(3, len(unit) - 2)]
            for name in names[code]:
                for word in _WORD.findall(name):
                    folded = _fold(word)
                    if word in shared[unit] or (
                            folded.startswith(stem) and len(folded) <= len(unit) + 3 and folded not in places):
                        found.setdefault(word, set()).add(code)
        local = _territory_currencies(language)
        for word, codes in found.items():
            if codes & local:  # a word of this language's currencies, for all the currencies it names
                for code in codes:
                    yield word, code


def printed_forms() -> Iterator[tuple[str, str]]:
    for form, codes in PRINTED_FORMS.items():
        for code in codes:
            yield form, code


def variants(form: str, dots: bool = True) -> set[str]:
    """A form with and without a trailing dot, a word in lower, upper and title case (but not
    an abbreviation in capitals: "KM" is not "km"), and "US$" also as "US $"."""
    found = {form}
    if re.fullmatch(r"[A-Za-z]+\$", form):
        found.add(form[:-1] + " $")  # "US $", "AU $"
    if dots and form[-1].isalpha():
        found.add(form + ".")
    elif dots and form.endswith(".") and len(form) > 1 and form[-2].isalpha():
        found.add(form[:-1])
    if any(c.isalpha() for c in form) and not any(c in "$£¥€" for c in form) and not _CAPITALS.fullmatch(form):
        found |= {f.lower() for f in found} | {f.upper() for f in found} | {f.title() for f in found}
    return found


def usable(form: str) -> bool:
    """Whether a form may stand for a currency: not a single Latin letter (but "R"), not a
    fraction, multiple or other unit (NOT_A_UNIT), and printable between an amount and a space."""
    if not form or _UNPRINTABLE.search(form.replace(" $", "$")) or form[0] in ".-" or len(form) > 12:
        return False
    if re.fullmatch(r"[A-Za-z]\.?", form) and form.rstrip(".") != "R":
        return False
    return form.casefold().rstrip(".") not in NOT_A_UNIT and form.casefold() not in NOT_A_UNIT


@cache
def currency_forms() -> dict[str, frozenset[str]]:
    """Every printed currency form -> the ISO 4217 codes it can stand for."""
    table: dict[str, set[str]] = {}
    for source in (iso_codes, cldr_symbols, cldr_words, printed_forms):
        for form, code in source():
            for variant in variants(clean(form), dots=source is not cldr_words):
                if usable(variant):
                    table.setdefault(variant, set()).add(code)
    return {form: frozenset(codes) for form, codes in table.items()}
