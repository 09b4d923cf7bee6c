"""The closed vocabularies that travel between stages and land in table columns.

They are string enums: a value compares equal to its string and is written to Parquet as that
string, so the tables keep plain string columns.
"""

from __future__ import annotations

from enum import StrEnum


class DocumentKind(StrEnum):
    """What a file is, recognised by its content (never by its name): ingest/kinds.py says how
    each is recognised and what it becomes (pages, a converted PDF, or documents of its own)."""

    PDF = "pdf"
    PNG = "png"
    JPEG = "jpeg"
    TIFF = "tiff"
    WEBP = "webp"
    BMP = "bmp"
    GIF = "gif"
    HEIC = "heic"  # HEIF/HEIC photos (iPhones)
    # containers: their members or attachments are documents of their own
    ZIP = "zip"
    TAR = "tar"
    GZIP = "gzip"
    EML = "eml"  # an e-mail (RFC 5322, MIME)
    MSG = "msg"  # an Outlook message (OLE2)
    # converted to PDF by LibreOffice, then read as PDFs
    DOCX = "docx"
    XLSX = "xlsx"
    PPTX = "pptx"
    ODT = "odt"
    ODS = "ods"
    ODP = "odp"
    RTF = "rtf"
    DOC = "doc"
    XLS = "xls"
    PPT = "ppt"
    HTML = "html"
    ENCRYPTED_OFFICE = "encrypted_office"  # a password-protected DOCX/XLSX/PPTX (an OLE2 EncryptedPackage)
    UNKNOWN = "unknown"  # none of the above: recorded as unsupported
    EMPTY = "empty"  # zero bytes
    UNREADABLE = "unreadable"  # could not be read at all

    @property
    def is_raster(self) -> bool:
        return self in RASTER


RASTER = frozenset({DocumentKind.PNG, DocumentKind.JPEG, DocumentKind.TIFF, DocumentKind.WEBP, DocumentKind.BMP,
                    DocumentKind.GIF, DocumentKind.HEIC})


class PageStatus(StrEnum):
    OK = "ok"
    SKIPPED = "skipped"  # beyond the page limit
    FAILED = "failed"  # could not be rendered


class DocumentStatus(StrEnum):
    OK = "ok"
    PARTIAL = "partial"  # a record, with some fields or pages failed
    FAILED = "failed"
    SKIPPED = "skipped"  # not read: unsupported, or a duplicate of another file
    UNPACKED = "unpacked"  # a container (archive, e-mail): its members are documents of their own rows


class FinishReason(StrEnum):
    """Why an answer ended."""

    STOP = "stop"  # the model ended it
    LENGTH = "length"  # the token limit cut it
    REPETITION = "repetition"  # it looped (the same text over and over): the loop was cut
    ERROR = "error"  # the engine failed on this request


class Task(StrEnum):
    """What a run asks of each document."""

    EXTRACT = "extract"  # the fields of a schema, as records/<schema>
    TRANSCRIBE = "transcribe"  # the text of every page, as transcripts


class RunStatus(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"


class ReviewAction(StrEnum):
    """What one row of the corrections table says (docpipe review)."""

    SET = "set"  # the value is `new_value` (as printed; null: the document has no such value)
    ACCEPT = "accept"  # the record's value is right
    ADD_ITEM = "add_item"  # a list item the model missed (its cells come as `set` rows)
    REMOVE_ITEM = "remove_item"  # a list item the model invented
    DONE = "done"  # every value of the document was reviewed
