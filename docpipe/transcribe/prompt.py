"""The prompt that asks Gemma 4 for a page's text, and its version (part of the work key)."""

from __future__ import annotations

TRANSCRIBE_PROMPT_VERSION = "2"  # 2: the instructions in the system turn
TRANSCRIBE_TASK = "transcripts"  # the table, and the task's name in the documents table
DEFAULT_TRANSCRIBE_BUDGET = 1120  # small print wants the most detail

TRANSCRIBE_PROMPT = (
    "Transcribe this page into Markdown, in reading order. Keep headings as headings, paragraphs "
    "as paragraphs, lists as lists, and tables as Markdown tables. Write only the text that is on "
    "the page, exactly as printed: do not summarise, translate, correct or add anything. For a "
    "page with no text, answer with nothing."
)
TRANSCRIBE_ASK = "Transcribe this page."  # the user turn, after the page image


def transcribe_key() -> str:
    """What stands for the schema in a transcription's work key."""
    return f"{TRANSCRIBE_TASK}@{TRANSCRIBE_PROMPT_VERSION}"
