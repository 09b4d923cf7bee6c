"""What an output folder holds, by what it was read with: `docpipe status OUT`.

One row per table (a schema's records, or transcripts) and reading settings (model, budget policy,
prompt version, schema version), counting the documents whose latest reading was done so, their
pages, the failures among them, and when the last of them was read. A folder read with several
settings (an upgrade, a budget change) shows each part; `--reread older` reads the older parts again.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from docpipe.core.vocab import DocumentStatus
from docpipe.run.planning import READING, earlier_readings


def read_with(out: Path) -> pd.DataFrame:
    """table, model, budget_policy, prompt_version, task_key, documents, pages, failed, last_read."""
    frame, _ = earlier_readings(Path(out))
    columns = ["table", *READING, "documents", "pages", "failed", "last_read"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    latest = frame.drop_duplicates(["doc_id", "schema"], keep="last").rename(columns={"schema": "table"})
    latest = latest.assign(failed=latest["status"] == str(DocumentStatus.FAILED),
                           pages=pd.to_numeric(latest["pages"]).fillna(0).astype(int),
                           **{c: latest[c].fillna("(not recorded)") for c in READING})
    grouped = latest.groupby(["table", *READING], sort=True).agg(
        documents=("doc_id", "size"), pages=("pages", "sum"), failed=("failed", "sum"), last_read=("finished_at", "max"))
    return grouped.reset_index()[columns]


def failures(out: Path) -> pd.DataFrame:
    """table, category, documents: the documents whose latest reading failed or was skipped, by why."""
    frame, _ = earlier_readings(Path(out))
    if frame.empty:
        return pd.DataFrame(columns=["table", "category", "documents"])
    latest = frame.drop_duplicates(["doc_id", "schema"], keep="last")
    unread = latest.loc[latest["status"].isin([str(DocumentStatus.FAILED), str(DocumentStatus.SKIPPED)])
                        & latest["error_category"].notna()]
    counted = unread.groupby(["schema", "error_category"], sort=True).size()
    return counted.rename("documents").reset_index().rename(columns={"schema": "table", "error_category": "category"})
