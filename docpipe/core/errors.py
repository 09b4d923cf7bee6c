"""What can go wrong: failure categories, the stage a failure happened in, the Failure value that
carries both to the tables, and the exceptions that carry one between functions.

Every failure that reaches a table has a category from `Category`, so users can group and filter
failures. A category is terminal when retrying the same work cannot help (a corrupt file stays
corrupt); transient failures (a model crash, running out of memory) are retried by the next run.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    CORRUPT = "corrupt"  # the file cannot be parsed as what its bytes claim to be
    ENCRYPTED = "encrypted"  # a password is needed to open it
    EMPTY = "empty"  # zero bytes or zero pages
    UNREADABLE = "unreadable"  # the file could not be read (permissions, vanished, I/O error)
    UNSUPPORTED = "unsupported"  # not a PDF, PNG, JPEG or TIFF
    TOO_LARGE = "too_large"  # beyond a configured limit (pages, pixels, memory)
    TIMEOUT = "timeout"  # rendering took longer than its time limit
    RENDER_ERROR = "render_error"  # the file opened but a page could not be rendered
    MODEL_ERROR = "model_error"  # the engine failed on this request (transient)
    INVALID_OUTPUT = "invalid_output"  # the model answered, but not in the schema's shape
    TRUNCATED = "truncated"  # the answer hit the token limit before it ended
    REPETITION = "repetition"  # the answer looped; the loop was cut and the rest kept
    DUPLICATE = "duplicate"  # same bytes as another file of the run, processed once there
    OUTSIDE_INPUT = "outside_input"  # a symbolic link under INPUT to a file outside it (read with --follow-links)


TRANSIENT = frozenset({Category.MODEL_ERROR})


class Stage(StrEnum):
    """Where in the pipeline a failure happened (the `stage` column of `errors`)."""

    DISCOVER = "discover"
    RENDER = "render"
    INFER = "infer"
    VALIDATE = "validate"


@dataclass(frozen=True)
class Failure:
    """One failure: where, what kind, what happened (for people), and on which page if any."""

    stage: Stage
    category: Category
    message: str
    page_no: int | None = None

    def __str__(self) -> str:
        return f"{self.category}: {self.message}"


class DocpipeException(Exception):
    """The root of every exception docpipe raises on purpose, with a message a person understands.
    Each is terminal (trying again the same way fails the same way: fix the input or the setting)
    or transient (it may pass: try again later), as dlt's exceptions are."""


class TerminalError(DocpipeException):
    """Trying again the same way gives the same failure."""


class TransientError(DocpipeException):
    """It may pass on its own: a server restarting, a lease renewal that failed for a moment."""


class DocpipeError(TerminalError):
    """An expected failure with a category and a message a person understands."""

    def __init__(self, category: Category, message: str):
        super().__init__(message)
        self.category = Category(category)
        self.message = message


class ModelNotAvailable(TerminalError):
    """The requested model's weights are neither cached nor reachable; the message says what to do."""


class EngineUnreachable(TransientError, ConnectionError):
    """Some requests of a call could reach no server, after the served engine's own retries.

    `answered`: the call's generations by request position, None where no server was reached;
    the pipeline keeps them, so that Prefect's retry of the chunk (`--engine-retries`, with its
    back-off) asks only for the others. Raised rather than recorded per document: a server that
    went away for a moment (a restart) must not turn documents into model_error."""

    def __init__(self, message: str, answered: list | None = None):
        super().__init__(message)
        self.answered = answered or []
