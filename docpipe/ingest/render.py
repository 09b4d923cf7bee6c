"""Pages to images at exactly the size Gemma 4's processor will use (see budget.py).

PDFs are rendered by PyMuPDF straight to the target pixel size, with the page's /Rotate applied
(PyMuPDF's page.rect is the rotated, visible page) and the text layer kept. Raster images (PNG,
JPEG, TIFF frames) are EXIF-transposed and resized once with Pillow.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

import pymupdf
from PIL import Image, ImageOps, ImageSequence

from docpipe.core.budget import render_size
from docpipe.core.errors import Category, DocpipeError, Failure, Stage
from docpipe.core.page_image import PageImage, encoding
from docpipe.core.types import RenderedDocument, RenderedPage, SourceDocument, Word
from docpipe.core.vocab import DocumentKind, PageStatus
from docpipe.ingest.convert import converted_pdf, decrypted, kept_pdf
from docpipe.ingest.discover import sniff
from docpipe.ingest.kinds import shape
from docpipe.ingest.limits import RenderOptions


def render_document(source: SourceDocument, budget: int, options: RenderOptions) -> RenderedDocument:
    """Render every page up to the page limit; a failure becomes the document's error, never a raise."""
    started = time.perf_counter()
    try:
        if source.failure is not None:  # found unreadable by discovery
            return RenderedDocument(source, failure=source.failure)
        pages, count = _render_kind(source, budget, options)
    except DocpipeError as exc:
        return RenderedDocument(
            source, failure=Failure(Stage.RENDER, exc.category, exc.message),
            render_seconds=time.perf_counter() - started,
        )
    except Exception as exc:  # noqa: BLE001 - a file that vanished, a library bug: this file fails alone
        return RenderedDocument(
            source, failure=Failure(Stage.RENDER, Category.RENDER_ERROR, f"{type(exc).__name__}: {exc}"),
            render_seconds=time.perf_counter() - started,
        )
    if count == 0:
        return RenderedDocument(
            source, failure=Failure(Stage.RENDER, Category.EMPTY, "the document has no pages"),
            render_seconds=time.perf_counter() - started,
        )
    if options.encoding is not None:  # kept as the bytes a served request carries, not as pixels
        how = encoding(options.encoding)
        pages = [page if page.image is None else dataclasses.replace(page, image=PageImage.encoded(page.image, how))
                 for page in pages]
    return RenderedDocument(
        source, pages=tuple(pages), page_count=count, render_seconds=time.perf_counter() - started
    )


def _render_kind(source: SourceDocument, budget: int, options: RenderOptions):
    """Pages of a file by its kind (ingest/kinds.py): a PDF, an image, or an Office or HTML file
    converted to a PDF first."""
    kind = source.kind
    if kind == DocumentKind.PDF:
        return _render_pdf(source, budget, options)
    if kind.is_raster:
        return _render_raster(source, budget, options)
    if shape(kind) == "converted":
        pdf = converted_pdf(source, Path(options.converted) if options.converted else None, options.convert_timeout)
        return _render_pdf(dataclasses.replace(source, path=pdf), budget, options)
    if kind == DocumentKind.EMPTY:
        raise DocpipeError(Category.EMPTY, "the file is empty (0 bytes)")
    if kind == DocumentKind.ENCRYPTED_OFFICE:  # opened with a given password, then converted as it is
        folder = Path(options.converted) if options.converted else None
        if (kept := kept_pdf(folder, source.doc_id)) is not None:  # opened and converted by an earlier run
            return _render_pdf(dataclasses.replace(source, path=kept), budget, options)
        with tempfile.TemporaryDirectory(prefix="docpipe-decrypted-") as work:
            plain = decrypted(source, options.passwords, Path(work))
            if shape(plain.kind) != "converted":
                raise DocpipeError(Category.CORRUPT, "the password opens it, but what it holds is not an Office file")
            pdf = converted_pdf(plain, folder, options.convert_timeout)
            return _render_pdf(dataclasses.replace(source, path=pdf), budget, options)
    raise DocpipeError(Category.UNSUPPORTED, (
        "not a kind of file docpipe reads (recognised by content): PDF, images (PNG, JPEG, TIFF, WebP, BMP, GIF, "
        "HEIC), Office and HTML files, e-mails and archives"))


def _open_pdf(path: Path, passwords: tuple[str, ...] = ()) -> pymupdf.Document:
    # MuPDF prints repair notes to stderr; keep them (mupdf_warnings) instead of printing them
    pymupdf.TOOLS.mupdf_display_errors(False)
    pymupdf.TOOLS.mupdf_display_warnings(False)
    pymupdf.TOOLS.mupdf_warnings(reset=True)
    try:
        doc = pymupdf.open(path, filetype="pdf")
    except (pymupdf.FileDataError, pymupdf.EmptyFileError, RuntimeError, ValueError) as exc:
        raise DocpipeError(Category.CORRUPT, f"PyMuPDF cannot open this PDF: {exc}") from exc
    if doc.needs_pass and not any(doc.authenticate(p) for p in ("", *passwords)):
        doc.close()
        tried = f" (none of the {len(passwords)} given passwords opens it)" if passwords else ""
        raise DocpipeError(
            Category.ENCRYPTED,
            f"the PDF is encrypted and needs a password{tried}; pass it with --password or --password-file",
        )
    if doc.page_count == 0:
        notes = pymupdf.TOOLS.mupdf_warnings(reset=True).strip()
        damaged = doc.is_repaired or notes
        doc.close()
        if damaged:
            first = notes.splitlines()[0] if notes else "broken cross-reference table"
            raise DocpipeError(Category.CORRUPT, f"the PDF is damaged and no page could be recovered ({first})")
        raise DocpipeError(Category.EMPTY, "the PDF has no pages")
    return doc


def _render_pdf(source: SourceDocument, budget: int, options: RenderOptions):
    doc = _open_pdf(source.path, options.passwords)
    try:
        count = doc.page_count
        pages = []
        for index in range(count):
            page_no = index + 1
            if index >= options.max_pages:
                pages.append(_skipped(source, page_no, budget, options.max_pages))
                continue
            pages.append(_render_pdf_page(doc, index, source, budget))
        return pages, count
    finally:
        doc.close()


def _render_pdf_page(doc: pymupdf.Document, index: int, source: SourceDocument, budget: int):
    page_no = index + 1
    try:
        page = doc.load_page(index)
        rect = page.rect  # the visible page, rotation applied
        height, width = render_size(rect.height, rect.width, budget)
        image = _pdf_page_image(page, width, height)
        return RenderedPage(
            source.doc_id, page_no, rect.width, rect.height, page.rotation, budget,
            image, page.get_text("text"), words=page_words(page),
        )
    except Exception as exc:  # noqa: BLE001 - a bad page must not stop the document
        return RenderedPage(
            source.doc_id, page_no, 0.0, 0.0, 0, budget, None, None, status=PageStatus.FAILED,
            failure=Failure(Stage.RENDER, Category.RENDER_ERROR, f"{type(exc).__name__}: {exc}", page_no),
        )


def _pdf_page_image(page: pymupdf.Page, width: int, height: int) -> Image.Image:
    """The page as shown (its /Rotate applied: page.rect is the visible page), at exactly width x height."""
    rect = page.rect
    matrix = pymupdf.Matrix(width / rect.width, height / rect.height)
    pix = page.get_pixmap(matrix=matrix, colorspace=pymupdf.csRGB, alpha=False)
    image = Image.frombytes("RGB", (pix.width, pix.height), pix.samples)
    return image if image.size == (width, height) else _fit(image, width, height)  # PyMuPDF rounds the box


def _upright(frame: Image.Image) -> Image.Image:
    """A raster frame as people see it: RGB, turned as its EXIF orientation says (phone photos)."""
    return ImageOps.exif_transpose(frame.convert("RGB"))


def display_page(path: Path, page_no: int, width: int, options: RenderOptions = RenderOptions(),
                 doc_id: str | None = None) -> Image.Image:
    """Page `page_no` of a file `width` pixels wide, turned and rendered as ingest renders it for
    the model (so boxes, fractions of that page, fall where the model saw the values): the
    review page's picture, through the same kinds (an Office file: its converted PDF, kept in
    `options.converted` under `doc_id`, the file's content hash: computed when not given).
    DocpipeError says why it cannot be shown."""
    with path.open("rb") as handle:
        kind = sniff(handle.read(1024), path)
    if shape(kind) == "converted":
        from docpipe.ingest.discover import sha256_file

        source = SourceDocument(path, doc_id or sha256_file(path), kind, path.stat().st_size)
        path = converted_pdf(source, Path(options.converted) if options.converted else None, options.convert_timeout)
        kind = DocumentKind.PDF
    if kind == DocumentKind.PDF:
        doc = _open_pdf(path, options.passwords)
        try:
            if not 1 <= page_no <= doc.page_count:
                raise DocpipeError(Category.EMPTY, f"the PDF has no page {page_no}")
            page = doc.load_page(page_no - 1)
            return _pdf_page_image(page, width, max(1, round(page.rect.height * width / page.rect.width)))
        finally:
            doc.close()
    if not kind.is_raster:
        raise DocpipeError(Category.UNSUPPORTED, f"a {kind} file has no pages to show")
    if kind == DocumentKind.HEIC:
        _heif()
    try:
        with Image.open(path) as img:
            img.seek(page_no - 1)
            if img.width * img.height > options.max_pixels:
                raise DocpipeError(Category.TOO_LARGE, f"page {page_no} is over --max-pixels")
            upright = _upright(img)
            return upright.resize((width, max(1, round(upright.height * width / upright.width))),
                                  Image.Resampling.BICUBIC)
    except EOFError as exc:
        raise DocpipeError(Category.EMPTY, f"the image has no frame {page_no}") from exc
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise DocpipeError(Category.CORRUPT, f"the image cannot be decoded: {exc}") from exc


def page_words(page: pymupdf.Page) -> tuple[Word, ...]:
    """The page's text-layer words in reading order (PyMuPDF's blocks, their lines, their words),
    boxed in the frame of the page as shown
    (rotation applied, 0-1, origin top-left), where the rendered image has them too."""
    rect, rotate = page.rect, page.rotation_matrix
    if rect.width <= 0 or rect.height <= 0:
        return ()
    words = []
    # block by block, line by line: a block's lines stay together (an address beside a column of
    # labels), where sorting every word by its position would interleave the two columns
    for x0, y0, x1, y1, text, *_ in sorted(page.get_text("words"), key=lambda w: (w[5], w[6], w[7])):
        box = pymupdf.Rect(x0, y0, x1, y1) * rotate
        words.append(Word(text, _unit(box.x0 / rect.width), _unit(box.y0 / rect.height),
                          _unit(box.x1 / rect.width), _unit(box.y1 / rect.height)))
    return tuple(words)


def _unit(value: float) -> float:
    return round(min(1.0, max(0.0, value)), 5)


def _fit(image: Image.Image, width: int, height: int) -> Image.Image:
    """Crop or pad by the odd pixel that PyMuPDF's rounding can add or drop."""
    canvas = Image.new("RGB", (width, height), "white")
    canvas.paste(image.crop((0, 0, min(width, image.width), min(height, image.height))))
    return canvas


def _render_raster(source: SourceDocument, budget: int, options: RenderOptions):
    if source.kind == DocumentKind.HEIC:
        _heif()
    try:
        with Image.open(source.path) as img:
            pages = []
            count = 0
            for index, frame in enumerate(ImageSequence.Iterator(img)):
                count += 1
                page_no = index + 1
                if index >= options.max_pages:
                    pages.append(_skipped(source, page_no, budget, options.max_pages))
                    continue
                if frame.width * frame.height > options.max_pixels:
                    raise DocpipeError(
                        Category.TOO_LARGE,
                        f"page {page_no} is {frame.width} x {frame.height} pixels, over the limit of "
                        f"{options.max_pixels:,} (--max-pixels); a decompression bomb is refused unread",
                    )
                upright = _upright(frame)
                height, width = render_size(upright.height, upright.width, budget)
                resized = upright.resize((width, height), Image.Resampling.BICUBIC)
                pages.append(
                    RenderedPage(
                        source.doc_id, page_no, float(frame.width), float(frame.height), 0,
                        budget, resized, None,
                    )
                )
            return pages, count
    except Image.DecompressionBombError as exc:
        raise DocpipeError(Category.TOO_LARGE, f"the image is too large to decode safely: {exc}") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise DocpipeError(Category.CORRUPT, f"the image cannot be decoded: {exc}") from exc


def _heif() -> None:
    """Teach Pillow HEIC/HEIF (pillow-heif), once per process."""
    from pillow_heif import register_heif_opener

    register_heif_opener()


def _skipped(source: SourceDocument, page_no: int, budget: int, max_pages: int) -> RenderedPage:
    return RenderedPage(
        source.doc_id, page_no, 0.0, 0.0, 0, budget, None, None, status=PageStatus.SKIPPED,
        failure=Failure(
            Stage.RENDER, Category.TOO_LARGE, f"beyond the page limit of {max_pages} pages per document", page_no
        ),
    )
