#!/usr/bin/env python3
"""Generate docpipe's synthetic sample documents and their ground truth.

Every document in ``samples/`` is synthetic: it is drawn by this script from
the hard-coded data below.  The companies, people, addresses, tax and bank
identifiers are made up (no real data).  ``samples/ground_truth.json`` holds
the fields a correct extraction should return for each document, keyed by
file name, as ``{"schema": "invoice" | "receipt", "fields": {...}}``.

Conventions used in the ground truth:

* dates are ISO ``YYYY-MM-DD`` (the documents print them in assorted local
  formats), times are ``HH:MM`` (24 h);
* an address is its printed lines joined with ``", "``;
* money is a JSON number in the document's currency (ISO 4217 code);
  ``amount = quantity * unit_price``, ``subtotal = sum(amounts)`` and
  ``total = subtotal + tax`` hold exactly (to the cent).

Run from the repository root::

    python samples/generate.py

The output is deterministic (fixed random seed, fixed PDF metadata dates, no
timestamps in image files), so re-running it leaves the files byte-identical.
It only writes the files listed in ``OUTPUT_FILES``; nothing else in
``samples/`` is touched.  Dependencies: pymupdf, pillow, numpy.
"""

from __future__ import annotations

import io
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pymupdf
from PIL import Image, ImageFilter

OUT_DIR = Path(__file__).resolve().parent
SEED = 20260301
PDF_DATE = "D:20260301000000Z"  # fixed creation/modification date for PDFs
PRODUCER = "docpipe samples/generate.py"

OUTPUT_FILES = (
    "invoice_acme.pdf",
    "invoice_globex_2p.pdf",
    "invoice_initech_scan.png",
    "invoice_umbrella_scan.tif",
    "receipt_cafe.pdf",
    "receipt_grocery_scan.jpg",
    "ground_truth.json",
    "packet/scanned_batch.pdf",
    "packet/ground_truth.json",
)

MM = 72 / 25.4  # points per millimetre
LETTER = (612, 792)
A4 = (595, 842)
BLACK = (0, 0, 0)
GREY = (0.35, 0.35, 0.35)
LIGHT = (0.75, 0.75, 0.75)
SHADE = (0.9, 0.9, 0.9)

# --------------------------------------------------------------------------
# money, numbers, dates
# --------------------------------------------------------------------------

D = Decimal
CENT = D("0.01")


def q2(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def num(x: Decimal) -> int | float:
    """Decimal -> JSON number (int when integral)."""
    return int(x) if x == x.to_integral_value() else float(x)


def fmt_us(x: Decimal, places: int = 2) -> str:
    return f"{x:,.{places}f}"


def fmt_de(x: Decimal, places: int = 2) -> str:
    return f"{x:,.{places}f}".replace(",", "_").replace(".", ",").replace("_", ".")


def fmt_qty(x: Decimal, decimal_comma: bool = False) -> str:
    s = str(int(x)) if x == x.to_integral_value() else f"{x.normalize():f}"
    return s.replace(".", ",") if decimal_comma else s


MONTHS = ["January", "February", "March", "April", "May", "June", "July",
          "August", "September", "October", "November", "December"]


def d_long_us(d: date) -> str:  # March 3, 2026
    return f"{MONTHS[d.month - 1]} {d.day}, {d.year}"


def d_long_uk(d: date) -> str:  # 17 April 2026
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def d_mdy(d: date) -> str:  # 02/14/2026
    return f"{d.month:02d}/{d.day:02d}/{d.year}"


def d_dmy_slash(d: date) -> str:  # 17/03/2026
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def d_dmy_dot(d: date) -> str:  # 12.02.2026
    return f"{d.day:02d}.{d.month:02d}.{d.year}"


def d_iso(d: date) -> str:  # 2026-01-15
    return d.isoformat()


# --------------------------------------------------------------------------
# document data
# --------------------------------------------------------------------------


@dataclass
class Party:
    name: str
    address_lines: list[str]

    @property
    def address(self) -> str:
        return ", ".join(self.address_lines)


@dataclass
class Item:
    description: str
    quantity: Decimal
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        a = self.quantity * self.unit_price
        assert a == q2(a), f"non-cent amount for {self.description}"
        return q2(a)


@dataclass
class Invoice:
    number: str
    issued: date
    due: date | None
    seller: Party
    buyer: Party
    currency: str
    items: list[Item]
    tax_rate: Decimal  # percent

    @property
    def subtotal(self) -> Decimal:
        return sum((i.amount for i in self.items), D(0))

    @property
    def tax(self) -> Decimal:
        return q2(self.subtotal * self.tax_rate / 100)

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax

    def ground_truth(self) -> dict:
        return {
            "schema": "invoice",
            "fields": {
                "invoice_number": self.number,
                "invoice_date": self.issued.isoformat(),
                "due_date": self.due.isoformat() if self.due else None,
                "seller_name": self.seller.name,
                "seller_address": self.seller.address,
                "buyer_name": self.buyer.name,
                "buyer_address": self.buyer.address,
                "currency": self.currency,
                "subtotal": num(self.subtotal),
                "tax": num(self.tax),
                "total": num(self.total),
                "line_items": [
                    {
                        "description": i.description,
                        "quantity": num(i.quantity),
                        "unit_price": num(i.unit_price),
                        "amount": num(i.amount),
                    }
                    for i in self.items
                ],
            },
        }


@dataclass
class RItem:
    description: str
    amount: Decimal
    quantity: Decimal | None = None  # printed as "2 @ 3.49" when set
    unit_price: Decimal | None = None

    def __post_init__(self):
        if self.quantity is not None:
            assert self.unit_price is not None
            assert q2(self.quantity * self.unit_price) == self.amount, self.description


@dataclass
class Receipt:
    merchant: Party
    issued: date
    time: str | None
    currency: str
    items: list[RItem]
    tax_rate: Decimal | None
    tax_label: str
    payment_method: str | None  # cash | card | other
    payment_lines: list[tuple[str, str]] = field(default_factory=list)

    @property
    def subtotal(self) -> Decimal:
        return sum((i.amount for i in self.items), D(0))

    @property
    def tax(self) -> Decimal | None:
        return None if self.tax_rate is None else q2(self.subtotal * self.tax_rate / 100)

    @property
    def total(self) -> Decimal:
        return self.subtotal + (self.tax or 0)

    def ground_truth(self) -> dict:
        return {
            "schema": "receipt",
            "fields": {
                "merchant_name": self.merchant.name,
                "merchant_address": self.merchant.address,
                "date": self.issued.isoformat(),
                "time": self.time,
                "currency": self.currency,
                "total": num(self.total),
                "tax": None if self.tax is None else num(self.tax),
                "payment_method": self.payment_method,
                "items": [
                    {
                        "description": i.description,
                        "quantity": None if i.quantity is None else num(i.quantity),
                        "amount": num(i.amount),
                    }
                    for i in self.items
                ],
            },
        }


ACME = Invoice(
    number="INV-2026-0142",
    issued=date(2026, 3, 3),
    due=date(2026, 4, 2),
    seller=Party("Acme Industrial Supply Co.",
                 ["1200 Foundry Road, Suite 4", "Springfield, IL 62704", "USA"]),
    buyer=Party("Wile E. Coyote Enterprises LLC",
                ["88 Mesa Vista Drive", "Desert Flats, AZ 85001", "USA"]),
    currency="USD",
    items=[
        Item("Rocket-powered roller skates", D(2), D("349.00")),
        Item("Giant rubber band, industrial grade", D(5), D("42.50")),
        Item("Anvil, 100 lb cast iron", D(1), D("219.99")),
        Item("Assembly labour (hours)", D("3.5"), D("85.00")),
    ],
    tax_rate=D("8.25"),
)

GLOBEX = Invoice(
    number="RE-2026-00417",
    issued=date(2026, 2, 12),
    due=date(2026, 3, 14),
    seller=Party("Globex Deutschland GmbH",
                 ["Industriestraße 12", "80331 München"]),
    buyer=Party("Nordlicht Handels AG",
                ["Hafenkante 7", "20457 Hamburg"]),
    currency="EUR",
    items=[
        Item("Wartungsvertrag Q1/2026 (Pauschale)", D(1), D("1850.00")),
        Item("Servicetechniker vor Ort (Std.)", D("12.5"), D("96.00")),
        Item("Anfahrtspauschale Hamburg", D(3), D("65.00")),
        Item("Hydraulikfilter HF-220", D(8), D("27.45")),
        Item("Dichtungssatz DS-18, komplett", D(4), D("112.30")),
        Item("Steuerplatine SP-7 (Austausch)", D(1), D("1234.56")),
        Item("Schmierstoff Synthetik 5 l", D(6), D("38.90")),
        Item("Kalibrierung Drucksensoren", D(2), D("210.00")),
        Item("Prüfprotokoll nach DGUV V3", D(1), D("145.00")),
        Item("Ersatzteilpaket Förderband", D(2), D("489.75")),
        Item("Entsorgung Altöl (je 10 l)", D(3), D("18.20")),
        Item("Schulung Bedienpersonal (Std.)", D(4), D("120.00")),
    ],
    tax_rate=D(19),
)

INITECH = Invoice(
    number="IT-88213",
    issued=date(2026, 3, 17),
    due=date(2026, 4, 16),
    seller=Party("Initech Solutions Ltd",
                 ["Unit 5, Riverside Business Park", "Reading RG1 8XY", "United Kingdom"]),
    buyer=Party("Penwick & Hale Consulting",
                ["14 Chancery Row", "London EC4A 1BB", "United Kingdom"]),
    currency="GBP",
    items=[
        Item("TPS report automation - licence (annual)", D(1), D("1200.00")),
        Item("On-site configuration (days)", D(2), D("650.00")),
        Item("Printer maintenance kit PC LOAD", D(3), D("74.95")),
        Item("Red stapler, Swingline-style", D(10), D("12.40")),
    ],
    tax_rate=D(20),
)

UMBRELLA = Invoice(
    number="UMB-7730-B",
    issued=date(2026, 1, 15),
    due=date(2026, 2, 14),
    seller=Party("Umbrella Lab Supplies Inc.",
                 ["4500 Hive Parkway", "Raccoon City, OH 45201", "USA"]),
    buyer=Party("Arklay Mountain Research Center",
                ["1 Spencer Estate Road", "Arklay, OH 45299"]),
    currency="USD",
    items=[
        Item("Nitrile gloves, box of 100 (M)", D(20), D("11.75")),
        Item("Centrifuge tubes 50 ml, pack of 500", D(4), D("96.40")),
        Item("Pipette tips 200 ul, rack of 960", D(6), D("58.25")),
        Item("Biohazard waste bags, roll of 50", D(10), D("14.90")),
        Item("Ultra-low freezer service call", D(1), D("425.00")),
        Item("Lab coat, flame resistant (L)", D(12), D("48.00")),
        Item("Specimen containers, case of 250", D(2), D("131.60")),
        Item("Calibration buffer kit pH 4/7/10", D(3), D("67.15")),
        Item("Emergency eyewash refill cartridge", D(5), D("39.99")),
    ],
    tax_rate=D("6.5"),
)

CAFE = Receipt(
    merchant=Party("Blue Door Coffee", ["210 Harbor Street", "Portland, ME 04101"]),
    issued=date(2026, 3, 14),
    time="08:42",
    currency="USD",
    items=[
        RItem("Oat Latte 16oz", D("5.75")),
        RItem("Croissant", D("7.00"), D(2), D("3.50")),
        RItem("Blueberry Muffin", D("3.95")),
        RItem("Espresso Double", D("3.25")),
    ],
    tax_rate=D("5.5"),
    tax_label="Sales Tax 5.5%",
    payment_method="card",
)

GROCERY = Receipt(
    merchant=Party("FreshMart Grocers", ["455 Maple Avenue West", "Toronto, ON M5V 2T6"]),
    issued=date(2026, 1, 15),
    time="18:07",
    currency="CAD",
    items=[
        RItem("BANANAS ORGANIC", D("2.34")),
        RItem("WHOLE MILK 2L", D("10.98"), D(2), D("5.49")),
        RItem("SOURDOUGH LOAF", D("4.99")),
        RItem("FREE RANGE EGGS 12", D("6.49")),
        RItem("CHEDDAR AGED 400G", D("7.99")),
        RItem("APPLES GALA", D("4.17")),
        RItem("DISH SOAP 740ML", D("3.79")),
    ],
    tax_rate=D(13),
    tax_label="HST 13%",
    payment_method="cash",
)

# --------------------------------------------------------------------------
# PDF drawing helpers
# --------------------------------------------------------------------------

_FONTS: dict[str, pymupdf.Font] = {}


def font(name: str) -> pymupdf.Font:
    if name not in _FONTS:
        _FONTS[name] = pymupdf.Font(name)
    return _FONTS[name]


class Pen:
    """Thin wrapper over a page: aligned text, lines, boxes.

    With ``embed=True`` the built-in fonts are embedded (and later subset) so
    that characters outside Latin-1, such as the euro sign, can be drawn.
    """

    def __init__(self, page: pymupdf.Page, embed: bool = False):
        self.page = page
        self.embed = embed
        self._inserted: set[str] = set()

    def _fontname(self, base: str) -> str:
        if not self.embed:
            return base
        name = "E" + base
        if name not in self._inserted:
            self.page.insert_font(fontname=name, fontbuffer=font(base).buffer)
            self._inserted.add(name)
        return name

    def width(self, s: str, fnt: str = "helv", size: float = 10) -> float:
        return font(fnt).text_length(s, fontsize=size)

    def text(self, x, y, s, fnt="helv", size=10, align="left", color=BLACK):
        w = self.width(s, fnt, size)
        if align == "right":
            x -= w
        elif align == "center":
            x -= w / 2
        self.page.insert_text((x, y), s, fontname=self._fontname(fnt),
                              fontsize=size, color=color)
        return w

    def lines(self, x, y, rows, fnt="helv", size=10, lead=None, align="left", color=BLACK):
        lead = lead or size * 1.3
        for r in rows:
            self.text(x, y, r, fnt, size, align, color)
            y += lead
        return y

    def hline(self, x0, x1, y, width=0.5, color=BLACK):
        self.page.draw_line((x0, y), (x1, y), color=color, width=width)

    def box(self, x0, y0, x1, y1, fill=None, color=None, width=0.5):
        self.page.draw_rect(pymupdf.Rect(x0, y0, x1, y1), color=color, fill=fill, width=width)


def finish_pdf(doc: pymupdf.Document, title: str, subset: bool = False) -> bytes:
    doc.set_metadata({
        "title": title,
        "author": "docpipe (synthetic sample)",
        "subject": "Synthetic test document - no real data",
        "creator": PRODUCER,
        "producer": PRODUCER,
        "creationDate": PDF_DATE,
        "modDate": PDF_DATE,
    })
    if subset:
        doc.subset_fonts()
    return doc.tobytes(garbage=3, deflate=True, clean=True, no_new_id=True)


# --------------------------------------------------------------------------
# invoice layouts
# --------------------------------------------------------------------------


@dataclass
class UsStyle:
    """Options for the 'US-style' invoice layout (also used for UK)."""
    size: tuple[float, float]
    reg: str = "helv"
    bold: str = "hebo"
    title: str = "INVOICE"
    labels: tuple[str, str, str] = ("Invoice No.", "Invoice Date", "Due Date")
    date_fmt: Callable[[date], str] = d_long_us
    due_fmt: Callable[[date], str] | None = None
    extra_meta: list[tuple[str, str]] = field(default_factory=list)
    bill_to: str = "BILL TO"
    ship_to: Party | None = None
    cols: tuple[str, str, str, str] = ("Description", "Qty", "Unit Price", "Amount")
    sym: str = "$"
    tax_label: str = "Sales Tax"
    total_label: str = "Total Due"
    currency_note: str = ""
    notes: list[str] = field(default_factory=list)
    rows_first_page: int = 99
    row_h: float = 20


def layout_us(inv: Invoice, st: UsStyle) -> pymupdf.Document:
    doc = pymupdf.open()
    w, h = st.size
    m = 50
    R, B = st.reg, st.bold
    money = fmt_us

    page = doc.new_page(width=w, height=h)
    pen = Pen(page)

    # seller block (top left)
    pen.text(m, 62, inv.seller.name, B, 16)
    y_left = pen.lines(m, 80, inv.seller.address_lines, R, 9, 12)

    # title and meta block (top right)
    pen.text(w - m, 66, st.title, B, 22, "right", GREY)
    due_fmt = st.due_fmt or st.date_fmt
    meta = [(st.labels[0], inv.number), (st.labels[1], st.date_fmt(inv.issued))]
    if inv.due:
        meta.append((st.labels[2], due_fmt(inv.due)))
    meta += st.extra_meta
    y_right = 96
    for label, value in meta:
        pen.text(w - m - 210, y_right, label + ":", B, 9)
        pen.text(w - m, y_right, value, R, 9.5, "right")
        y_right += 14

    # bill-to (and optional ship-to)
    y = max(y_left, y_right) + 22
    pen.text(m, y, st.bill_to, B, 8.5, color=GREY)
    pen.text(m, y + 15, inv.buyer.name, B, 11)
    yb = pen.lines(m, y + 29, inv.buyer.address_lines, R, 10, 13)
    if st.ship_to:
        x2 = m + 260
        pen.text(x2, y, "SHIP TO", B, 8.5, color=GREY)
        pen.text(x2, y + 15, st.ship_to.name, B, 11)
        pen.lines(x2, y + 29, st.ship_to.address_lines, R, 10, 13)

    # table
    xq, xu, xa = w - m - 215, w - m - 105, w - m - 6

    def table_header(y0):
        pen.box(m, y0, w - m, y0 + 18, fill=SHADE)
        yy = y0 + 12.5
        pen.text(m + 6, yy, st.cols[0], B, 9.5)
        pen.text(xq, yy, st.cols[1], B, 9.5, "right")
        pen.text(xu, yy, st.cols[2], B, 9.5, "right")
        pen.text(xa, yy, st.cols[3], B, 9.5, "right")
        return y0 + 18

    y = table_header(yb + 18)
    on_page = 0
    for it in inv.items:
        if on_page >= st.rows_first_page and len(doc) == 1 or y + st.row_h > h - 120:
            pen.text(w - m, y + 18, "Continued on next page", R, 9, "right", GREY)
            page = doc.new_page(width=w, height=h)
            pen = Pen(page)
            pen.text(m, 56, inv.seller.name, B, 11)
            pen.text(w - m, 56, f"{st.title.title()} {inv.number} (continued)", R, 10, "right")
            pen.hline(m, w - m, 64, 0.8)
            y = table_header(84)
            on_page = 0
        yy = y + st.row_h * 0.68
        pen.text(m + 6, yy, it.description, R, 10)
        pen.text(xq, yy, fmt_qty(it.quantity), R, 10, "right")
        pen.text(xu, yy, money(it.unit_price), R, 10, "right")
        pen.text(xa, yy, money(it.amount), R, 10, "right")
        y += st.row_h
        pen.hline(m, w - m, y, 0.4, LIGHT)
        on_page += 1
    pen.hline(m, w - m, y, 0.8)

    # totals
    y += 22
    xl = w - m - 210
    pen.text(xl, y, "Subtotal", R, 10)
    pen.text(xa, y, st.sym + money(inv.subtotal), R, 10, "right")
    y += 16
    tax = f"{st.tax_label} ({fmt_qty(inv.tax_rate)}%)"
    pen.text(xl, y, tax, R, 10)
    pen.text(xa, y, st.sym + money(inv.tax), R, 10, "right")
    y += 8
    pen.hline(xl, w - m, y, 0.8)
    y += 16
    pen.text(xl, y, st.total_label, B, 11.5)
    pen.text(xa, y, st.sym + money(inv.total), B, 11.5, "right")
    if st.currency_note:
        y += 16
        pen.text(xa, y, st.currency_note, R, 8.5, "right", GREY)

    # notes
    y += 34
    pen.lines(m, y, st.notes, R, 9, 12.5)

    # page footers
    n = len(doc)
    for i, pg in enumerate(doc):
        Pen(pg).text(w / 2, h - 30, f"Page {i + 1} of {n}", R, 8, "center", GREY)
    return doc


def layout_din(inv: Invoice, *, rows_first_page: int) -> pymupdf.Document:
    """German DIN 5008-like invoice layout; needs embedded fonts for the euro sign."""
    doc = pymupdf.open()
    w, h = A4
    m = 25 * MM
    R, B = "helv", "hebo"
    eur = lambda x: fmt_de(x) + " €"  # noqa: E731

    def new_page():
        pg = doc.new_page(width=w, height=h)
        pen = Pen(pg, embed=True)
        # footer block on every page
        pen.hline(m, w - 20 * MM, h - 62, 0.4, LIGHT)
        foot = [
            [inv.seller.name] + inv.seller.address_lines,
            ["Geschäftsführer: Hank Scorpio", "Amtsgericht München HRB 000000",
             "USt-IdNr.: DE000000000"],
            ["Musterbank München", "IBAN: DE00 7001 0000 0000 4242 00",
             "BIC: MUSTDEM1XXX"],
        ]
        for k, col in enumerate(foot):
            pen.lines(m + k * 175, h - 50, col, R, 7, 9, color=GREY)
        return pen

    pen = new_page()
    # letterhead (right)
    pen.text(w - 20 * MM, 60, "GLOBEX", B, 24, "right")
    pen.text(w - 20 * MM, 74, "Deutschland GmbH", R, 10, "right", GREY)
    pen.lines(w - 20 * MM, 92, inv.seller.address_lines
              + ["Tel. +49 89 0000000", "rechnung@globex.example"], R, 8.5, 11, "right", GREY)

    # address window (left)
    yw = 45 * MM + 12
    pen.text(m, yw, " · ".join([inv.seller.name] + inv.seller.address_lines), R, 6.5,
             color=GREY)
    pen.hline(m, m + 85 * MM, yw + 2, 0.3, GREY)
    pen.lines(m, yw + 18, [inv.buyer.name] + inv.buyer.address_lines, R, 10.5, 13.5)

    # info block (right)
    info = [
        ("Rechnungsnummer:", inv.number),
        ("Rechnungsdatum:", d_dmy_dot(inv.issued)),
        ("Lieferdatum:", "05.02.2026"),
        ("Kundennummer:", "K-20931"),
        ("Ihre Bestellung:", "4500-118823"),
    ]
    yi = yw + 4
    for label, value in info:
        pen.text(w - 80 * MM, yi, label, R, 9)
        pen.text(w - 20 * MM, yi, value, R, 9, "right")
        yi += 13

    y = 105 * MM
    pen.text(m, y, f"Rechnung Nr. {inv.number}", B, 14)
    y += 20
    pen.text(m, y, "Sehr geehrte Damen und Herren,", R, 10)
    y += 14
    pen.text(m, y, "für die erbrachten Leistungen und Lieferungen berechnen wir Ihnen:", R, 10)
    y += 18

    x_pos, x_desc = m, m + 28
    x_qty, x_unit, x_sum = m + 300, m + 385, w - 20 * MM
    right = w - 20 * MM

    def header(y0):
        pen.hline(m, right, y0, 0.8)
        yy = y0 + 12
        pen.text(x_pos, yy, "Pos.", B, 9)
        pen.text(x_desc, yy, "Bezeichnung", B, 9)
        pen.text(x_qty, yy, "Menge", B, 9, "right")
        pen.text(x_unit, yy, "Einzelpreis", B, 9, "right")
        pen.text(x_sum, yy, "Gesamt", B, 9, "right")
        pen.hline(m, right, y0 + 17, 0.5)
        return y0 + 17

    y = header(y)
    running = D(0)
    for n, it in enumerate(inv.items, 1):
        if n == rows_first_page + 1:
            y += 16
            pen.text(x_unit, y, "Übertrag:", B, 9.5, "right")
            pen.text(x_sum, y, eur(running), B, 9.5, "right")
            pen.text(right, h - 80, "Fortsetzung auf Seite 2", R, 8.5, "right", GREY)
            pen = new_page()
            pen.text(m, 60, inv.seller.name, B, 10)
            pen.text(right, 60, f"Rechnung Nr. {inv.number}", R, 10, "right")
            pen.hline(m, right, 67, 0.5, GREY)
            y = header(90)
            y += 15
            pen.text(x_desc, y - 3, "Übertrag von Seite 1", R, 9.5, color=GREY)
            pen.text(x_sum, y - 3, eur(running), R, 9.5, "right", GREY)
        yy = y + 14
        pen.text(x_pos, yy, str(n), R, 9.5)
        pen.text(x_desc, yy, it.description, R, 9.5)
        pen.text(x_qty, yy, fmt_qty(it.quantity, decimal_comma=True), R, 9.5, "right")
        pen.text(x_unit, yy, eur(it.unit_price), R, 9.5, "right")
        pen.text(x_sum, yy, eur(it.amount), R, 9.5, "right")
        y += 20
        running += it.amount
    pen.hline(m, right, y + 4, 0.8)

    y += 22
    xl = x_qty - 60
    pen.text(xl, y, "Nettobetrag", R, 10)
    pen.text(x_sum, y, eur(inv.subtotal), R, 10, "right")
    y += 15
    pen.text(xl, y, f"zzgl. {fmt_qty(inv.tax_rate)} % USt.", R, 10)
    pen.text(x_sum, y, eur(inv.tax), R, 10, "right")
    y += 7
    pen.hline(xl, right, y, 0.5)
    y += 15
    pen.text(xl, y, "Rechnungsbetrag", B, 11)
    pen.text(x_sum, y, eur(inv.total), B, 11, "right")
    pen.hline(xl, right, y + 5, 0.5)
    pen.hline(xl, right, y + 7, 0.5)

    y += 40
    y = pen.lines(m, y, [
        f"Bitte überweisen Sie den Rechnungsbetrag ohne Abzug bis zum {d_dmy_dot(inv.due)}",
        f"unter Angabe der Rechnungsnummer {inv.number} auf das unten genannte Konto.",
        "",
        "Mit freundlichen Grüßen",
        f"Ihre {inv.seller.name}",
    ], R, 10, 14)

    n = len(doc)
    for i, pg in enumerate(doc):
        Pen(pg, embed=True).text(w - 20 * MM, h - 20, f"Seite {i + 1} von {n}", R, 7.5,
                                 "right", GREY)
    return doc


def layout_receipt(rc: Receipt, *, height_mm: float, header: list[str],
                   footer: list[str], date_str: str, sym: str = "") -> pymupdf.Document:
    """Thermal-printer style receipt on a narrow page (80 mm wide)."""
    doc = pymupdf.open()
    w, h = 80 * MM, height_mm * MM
    pen = Pen(doc.new_page(width=w, height=h))
    R, B = "cour", "cobo"
    size = 8.2
    lead = 10.5
    lx, rx, cx = 5 * MM, w - 5 * MM, w / 2
    money = fmt_us

    y = 12 * MM
    pen.text(cx, y, rc.merchant.name.upper(), B, 12, "center")
    y += 15
    y = pen.lines(cx, y, rc.merchant.address_lines + header, R, size, lead, "center")
    y += 4
    pen.text(lx, y, date_str, R, size)
    y += lead

    def rule(yy):
        pen.text(cx, yy, "-" * 36, R, size, "center")
        return yy + lead

    y = rule(y)
    for it in rc.items:
        pen.text(lx, y, it.description, R, size)
        if it.quantity is None:
            pen.text(rx, y, money(it.amount), R, size, "right")
        else:
            y += lead
            pen.text(lx + 12, y, f"{fmt_qty(it.quantity)} @ {money(it.unit_price)}", R, size)
            pen.text(rx, y, money(it.amount), R, size, "right")
        y += lead
    y = rule(y)
    pen.text(lx, y, "SUBTOTAL", R, size)
    pen.text(rx, y, money(rc.subtotal), R, size, "right")
    y += lead
    if rc.tax is not None:
        pen.text(lx, y, rc.tax_label.upper(), R, size)
        pen.text(rx, y, money(rc.tax), R, size, "right")
        y += lead
    y += 3
    pen.text(lx, y, "TOTAL", B, 10)
    pen.text(rx, y, f"{sym}{money(rc.total)}", B, 10, "right")
    y += lead + 4
    for label, value in rc.payment_lines:
        pen.text(lx, y, label, R, size)
        if value:
            pen.text(rx, y, value, R, size, "right")
        y += lead
    y = rule(y)
    y += 4
    pen.lines(cx, y, footer, R, size, lead, "center")
    return doc


# --------------------------------------------------------------------------
# "scanner": render a page and degrade it
# --------------------------------------------------------------------------


def rng_for(name: str) -> np.random.Generator:
    return np.random.default_rng([SEED, zlib.crc32(name.encode())])


def render_gray(page: pymupdf.Page, dpi: int) -> Image.Image:
    pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY, alpha=False)
    return Image.frombytes("L", (pix.width, pix.height), pix.samples)


def scanify(img: Image.Image, rng: np.random.Generator, *, angle: float,
            black: float = 45, white: float = 232, noise: float = 5.0,
            blur: float = 0.7, specks: int = 60, levels: int = 16) -> Image.Image:
    """Make a clean grayscale render look like a flatbed scan.

    Slight rotation (white fill), optical blur, reduced contrast, uneven
    illumination, sensor noise, a few dust specks, then quantisation to
    ``levels`` grey levels (keeps the committed files small).
    """
    img = img.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=255)
    # dust specks go only where the page is blank, so they never touch text
    blank = np.flatnonzero(np.asarray(img.filter(ImageFilter.MinFilter(15))) >= 250)
    img = img.filter(ImageFilter.GaussianBlur(blur))
    a = np.asarray(img, dtype=np.float32) / 255.0
    hgt, wid = a.shape
    yy, xx = np.mgrid[0:hgt, 0:wid].astype(np.float32)
    light = 1.0 - 0.05 * (xx / wid) - 0.04 * ((yy / hgt) - 0.5) ** 2
    a = (black + (white - black) * a) * light
    a += rng.normal(0.0, noise, a.shape).astype(np.float32)
    for pos in rng.choice(blank, size=specks, replace=False):
        y0, x0 = divmod(int(pos), wid)
        r = int(rng.integers(1, 3))
        a[y0:y0 + r, x0:x0 + r] = rng.uniform(80, 160)
    step = 255.0 / (levels - 1)
    a = np.round(np.clip(a, 0, 255) / step) * step
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "L")


def photo_receipt(img: Image.Image, rng: np.random.Generator, *, angle: float) -> Image.Image:
    """Receipt 'photographed' on a darker desk: margin, skew, shading, noise."""
    wid, hgt = img.size
    pad = 40
    a = np.asarray(img, dtype=np.float32) / 255.0
    a = 35 + (228 - 35) * a  # thermal paper: greyish ink, off-white paper
    paper = Image.fromarray(a.astype(np.uint8), "L")
    mask = Image.new("L", paper.size, 255)
    canvas = Image.new("L", (wid + 2 * pad, hgt + 2 * pad), 0)
    canvas.paste(paper, (pad, pad))
    cmask = Image.new("L", canvas.size, 0)
    cmask.paste(mask, (pad, pad))
    canvas = canvas.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=0)
    cmask = cmask.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=0)
    m = np.asarray(cmask, dtype=np.float32) / 255.0
    c = np.asarray(canvas, dtype=np.float32)
    H, W = c.shape
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    desk = 95 + 25 * (xx / W) - 15 * (yy / H)
    c = c * m + desk * (1 - m)
    # light falls off towards the bottom-right corner
    c *= 1.0 - 0.18 * ((xx / W) * 0.4 + (yy / H) * 0.6) ** 2
    c += rng.normal(0.0, 6.0, c.shape).astype(np.float32)
    out = Image.fromarray(np.clip(c, 0, 255).astype(np.uint8), "L")
    return out.filter(ImageFilter.GaussianBlur(0.8))


def png_bytes(img: Image.Image, levels: int = 16) -> bytes:
    """Save an 'L' image already quantised to ``levels`` greys as a 4-bit PNG.

    Pillow writes 4-bit PNGs only for palette images, so the grey levels are
    stored as a grey palette; ``Image.open(...).convert("L")`` restores them.
    """
    step = 255 / (levels - 1)
    idx = np.round(np.asarray(img, dtype=np.float32) / step).astype(np.uint8)
    pal = Image.fromarray(idx, "P")
    pal.putpalette([round(i * step) for i in range(levels) for _ in range(3)])
    buf = io.BytesIO()
    pal.save(buf, format="PNG", optimize=True, bits=4)
    return buf.getvalue()


# --------------------------------------------------------------------------
# build everything
# --------------------------------------------------------------------------


def build() -> tuple[dict[str, bytes], dict[str, str], dict]:
    files: dict[str, bytes] = {}
    info: dict[str, str] = {}
    truth: dict = {}

    # 1. Acme: born-digital, one page, US Letter, USD
    doc = layout_us(ACME, UsStyle(
        size=LETTER,
        extra_meta=[("P.O. Number", "PO-55120"), ("Customer ID", "C-00931")],
        currency_note="All amounts in US dollars (USD)",
        notes=["Payment terms: Net 30. Please include the invoice number with your payment.",
               "Bank transfer: First Fictional Bank, routing 000000000, account 0000123456.",
               "Thank you for your business!"],
    ))
    assert len(doc) == 1
    files["invoice_acme.pdf"] = finish_pdf(doc, f"Invoice {ACME.number}")
    info["invoice_acme.pdf"] = "born-digital PDF, 1 page"
    truth["invoice_acme.pdf"] = ACME.ground_truth()

    # 2. Globex: born-digital, two pages, A4, German, EUR with decimal comma
    doc = layout_din(GLOBEX, rows_first_page=8)
    assert len(doc) == 2
    files["invoice_globex_2p.pdf"] = finish_pdf(doc, f"Rechnung {GLOBEX.number}", subset=True)
    info["invoice_globex_2p.pdf"] = "born-digital PDF, 2 pages"
    truth["invoice_globex_2p.pdf"] = GLOBEX.ground_truth()

    # 3. Initech: scanned single page, A4, UK, GBP -> PNG
    name = "invoice_initech_scan.png"
    doc = layout_us(INITECH, UsStyle(
        size=A4, reg="tiro", bold="tibo", title="TAX INVOICE",
        labels=("Invoice No", "Invoice Date", "Payment Due"),
        date_fmt=d_dmy_slash, due_fmt=d_long_uk,
        extra_meta=[("Account Ref", "PEN-0042"), ("VAT Reg No", "GB 000 0000 00")],
        bill_to="INVOICE TO", cols=("Description", "Qty", "Unit Price", "Net Amount"),
        sym="£", tax_label="VAT", total_label="Total (GBP)",
        notes=["Payment within 30 days by BACS to Sortcode 00-00-00, Account 00012345.",
               "Initech Solutions Ltd, registered in England and Wales No. 00000000."],
    ))
    assert len(doc) == 1
    rng = rng_for(name)
    img = scanify(render_gray(doc[0], 110), rng, angle=-0.9)
    files[name] = png_bytes(img)
    info[name] = f"scanned PNG, {img.width}x{img.height} grey"
    truth[name] = INITECH.ground_truth()

    # 4. Umbrella: scanned two pages, US Letter, USD -> multi-page TIFF
    name = "invoice_umbrella_scan.tif"
    doc = layout_us(UMBRELLA, UsStyle(
        size=LETTER, reg="cour", bold="cobo",
        labels=("Invoice #", "Date", "Due"), date_fmt=d_iso, due_fmt=d_mdy,
        extra_meta=[("Terms", "Net 30"), ("Order #", "SO-40417")],
        ship_to=Party("Arklay Mountain Research Center",
                      ["Receiving Dock B", "900 Quarry Lane", "Arklay, OH 45299"]),
        total_label="AMOUNT DUE (USD)", tax_label="Ohio Sales Tax",
        notes=["Remit to: Umbrella Lab Supplies Inc., PO Box 0000, Raccoon City, OH 45201.",
               "Questions? billing@umbrella-labs.example"],
        rows_first_page=6,
    ))
    assert len(doc) == 2
    rng = rng_for(name)
    pages = [scanify(render_gray(pg, 110), rng, angle=a, black=30, noise=3.0)
             for pg, a in zip(doc, (0.7, -1.2))]
    buf = io.BytesIO()
    pages[0].save(buf, format="TIFF", save_all=True, append_images=pages[1:],
                  compression="tiff_deflate", dpi=(110, 110))
    files[name] = buf.getvalue()
    info[name] = f"scanned multi-page TIFF, 2 pages, {pages[0].width}x{pages[0].height} grey"
    truth[name] = UMBRELLA.ground_truth()

    # 5. Cafe receipt: born-digital, 80 mm wide
    CAFE.payment_lines = [("PAID CARD", fmt_us(CAFE.total)), ("VISA **** 4821", ""),
                          ("AUTH CODE", "083412")]
    doc = layout_receipt(
        CAFE, height_mm=140,
        header=["Tel (207) 555-0142", "", "Order #317   Table 6", "Server: Maya"],
        footer=["Thank you! Come again.", "www.bluedoorcoffee.example"],
        date_str=f"{d_mdy(CAFE.issued)}  {CAFE.time} AM", sym="$",
    )
    files["receipt_cafe.pdf"] = finish_pdf(doc, "Receipt Blue Door Coffee")
    info["receipt_cafe.pdf"] = "born-digital PDF, 1 page, 80 mm wide"
    truth["receipt_cafe.pdf"] = CAFE.ground_truth()

    # 6. Grocery receipt: photographed-looking JPEG
    name = "receipt_grocery_scan.jpg"
    tendered = D("50.00")
    GROCERY.payment_lines = [("CASH", fmt_us(tendered)),
                             ("CHANGE", fmt_us(tendered - GROCERY.total))]
    doc = layout_receipt(
        GROCERY, height_mm=150,
        header=["(416) 555-0199", "HST# 000000000 RT0001", "", "STORE 0217  LANE 04  CSH 118"],
        footer=[f"ITEMS SOLD: {sum(int(i.quantity or 1) for i in GROCERY.items)}", "THANK YOU FOR SHOPPING AT FRESHMART",
                "KEEP RECEIPT FOR RETURNS"],
        date_str=f"{d_dmy_slash(GROCERY.issued)} {GROCERY.time}   TRX 0449",
    )
    rng = rng_for(name)
    img = photo_receipt(render_gray(doc[0], 150), rng, angle=2.2)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=70, optimize=True)
    files[name] = buf.getvalue()
    info[name] = f"photographed-looking JPEG, {img.width}x{img.height} grey"
    truth[name] = GROCERY.ground_truth()

    files["ground_truth.json"] = (json.dumps(truth, indent=2, ensure_ascii=False)
                                  + "\n").encode("utf-8")
    info["ground_truth.json"] = f"expected fields for {len(truth)} documents"

    # 7. A packet, as a scanner's feeder makes one: Acme's invoice, the cafe receipt and Globex's
    # two-page invoice, one after another in one PDF (born-digital pages, so text layers stay).
    # Its labels give each document's pages and class (docpipe run --split; docpipe eval).
    packet = pymupdf.open()
    parts = [("invoice_acme.pdf", "invoice"), ("receipt_cafe.pdf", "receipt"), ("invoice_globex_2p.pdf", "invoice")]
    segments, page = [], 1
    for part, schema in parts:
        with pymupdf.open(stream=files[part], filetype="pdf") as source:
            packet.insert_pdf(source)
            segments.append({"pages": [page, page + len(source) - 1], "schema": schema,
                             "fields": truth[part]["fields"]})
            page += len(source)
    assert len(packet) == 4
    files["packet/scanned_batch.pdf"] = finish_pdf(packet, "Scanned batch")
    info["packet/scanned_batch.pdf"] = "born-digital PDF, 4 pages: invoice (1), receipt (2), invoice (3-4)"
    packet_truth = {"scanned_batch.pdf": {"segments": segments}}
    files["packet/ground_truth.json"] = (json.dumps(packet_truth, indent=2, ensure_ascii=False)
                                         + "\n").encode("utf-8")
    info["packet/ground_truth.json"] = "class and pages of each document in the packet, with its fields"
    return files, info, truth


def main() -> None:
    files, info, _ = build()
    assert tuple(files) == OUTPUT_FILES, tuple(files)
    for name, data in files.items():
        path = OUT_DIR / name
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
        print(f"wrote samples/{name}: {len(data) / 1024:.1f} KiB, {info[name]}")


if __name__ == "__main__":
    main()
