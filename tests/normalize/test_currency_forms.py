"""Printed currency forms beyond CLDR's symbols: abbreviations in other scripts, currency words in
the month tables' languages, with and without dots, in capitals; never a guessed currency, and
never a fraction or multiple of one typed as the unit."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from babel.localedata import load

from docpipe.normalize.currencies import codes_of, currency_signs
from docpipe.normalize.currency_forms import NOT_A_UNIT, _territory_currencies
from docpipe.normalize.months import LANGUAGES
from docpipe.normalize.numbers import parse_money
from docpipe.normalize.patterns import MONEY


@pytest.mark.parametrize("text, amount, code", [
    # abbreviations in other scripts, with and without their dot, in capitals
    ("1 299,00 грн.", "1299.00", "UAH"), ("1 299,00 ГРН", "1299.00", "UAH"), ("250 ден.", "250", "MKD"),
    ("1.200,50 дин", "1200.50", "RSD"), ("15,90 лв.", "15.90", "BGN"), ("ман. 20", "20", "AZN"),
    ("₴ 120", "120", "UAH"), ("3 500 тңг", "3500", "KZT"), ("৳ 250", "250", "BDT"),
    ("KM 25,00", "25.00", "BAM"), ("Lek 1.500", "1500", "ALL"), ("1.500 Ft.", "1500", "HUF"),
    ("45,90 ZŁ", "45.90", "PLN"), ("350 KČ", "350", "CZK"), ("12,50 lei.", "12.50", "RON"),
    ("KSh 1,000", "1000", "KES"), ("S/. 12.50", "12.50", "PEN"), ("US $ 12.50", "12.50", "USD"),
    ("1.250 đ", "1250", "VND"), ("2,500円", "2500", "JPY"), ("₩ 5,000", "5000", "KRW"),
    # currency words of the month tables' languages, as CLDR declines them
    ("100 złotych", "100", "PLN"), ("12,50 złote", "12.50", "PLN"), ("300 korun", "300", "CZK"),
    ("250 kronor", "250", "SEK"), ("250 kroner", "250", "NOK"), ("75 Franken", "75", "CHF"),
    ("19,99 EURO", "19.99", "EUR"), ("5 euros", "5", "EUR"), ("10 evrov", "10", "EUR"),
    ("20 dólares", "20", "USD"), ("1.500 reais", "1500", "BRL"), ("100 kuna", "100", "HRK"),
    ("100 kune", "100", "HRK"), ("50 lira", "50", "TRY"), ("25.000 rupiah", "25000", "IDR"),
    ("12.50 ringgit", "12.50", "MYR"), ("8 Pfund", "8", "GBP"), ("8 livres", "8", "GBP"),
    ("1 200 рублей", "1200", "RUB"),
])
def test_printed_forms_that_cldr_symbols_lack_are_typed(text, amount, code):
    assert re.fullmatch(MONEY, text), text  # the grammar lets the model write it
    assert parse_money(text) == Decimal(amount)
    sign = re.sub(r"[\d.,\s-]+", " ", text).strip()
    assert code in codes_of(sign), (sign, codes_of(sign))


@pytest.mark.parametrize("sign", ["$", "kr", "dollars", "dólares", "Pfund", "francs", "dinara", "Rs", "р."])
def test_a_form_several_currencies_print_stands_for_all_of_them(sign):
    assert len(codes_of(sign)) > 1, codes_of(sign)


def test_each_month_language_names_its_own_currencies():
    """Every currency of a month table's language's territories has a CLDR display-name word in
    the table (but the few listed, whose names have no unit word: "Deutsche Mark", "US-Dollar")."""
    table = currency_signs()
    missing = []
    for language in LANGUAGES:
        data = load(language)
        for code in sorted(_territory_currencies(language)):
            names = [data["currency_names"].get(code, ""), *data["currency_names_plural"].get(code, {}).values()]
            if not {word for name in names for word in name.split()} & set(table):
                missing.append(f"{language}:{code}")
    assert len(missing) <= 10, missing
    assert not {"pl:PLN", "cs:CZK", "sv:SEK", "da:DKK", "nb:NOK", "ro:RON", "tr:TRY", "id:IDR",
                "ms:MYR", "hr:HRK", "de:EUR", "fr:EUR", "sl:EUR", "fi:EUR"} & set(missing)


@pytest.mark.parametrize("text", [
    "12 ¢", "99 p", "12 GBp", "12K", "12 k", "5 Mio", "3 Mrd", "2 lakh", "5 cr", "1000 toman",
    "1000 تومان", "50 коп.", "12 Pts", "12 kg",
])
def test_a_fraction_a_multiple_or_another_unit_is_never_typed_as_the_unit(text):
    assert not re.fullmatch(MONEY, text), text
    with pytest.raises(ValueError):
        parse_money(text)


def test_no_form_in_the_table_is_a_single_latin_letter_but_r_or_a_fraction_or_multiple():
    for form in currency_signs():
        assert not re.fullmatch(r"[A-QS-Za-z]\.?", form), form
        assert form.casefold().rstrip(".") not in NOT_A_UNIT, form


def test_a_sign_typed_with_a_combining_accent_is_the_same_sign():
    assert parse_money("12,50 Kc\u030c") == Decimal("12.50")  # "Kč" as K, c and a combining caron


@pytest.mark.parametrize("text, amount", [
    ("25:-", "25"), ("1 299:-", "1299"), ("Rs. 500/-", "500"), ("₹ 1,23,456/-", "123456"), ("1,299/-", "1299"),
])
def test_a_whole_amount_marked_with_colon_or_slash_dash_is_typed(text, amount):
    """Swedish "25:-" and Indian "500/-" print no cents; the digits before are read as any others."""
    assert re.fullmatch(MONEY, text), text
    assert parse_money(text) == Decimal(amount)
