"""Model answers to typed records: find the JSON and where each value is written (json_spans),
type it against the schema (validate), per-value confidence and source page, and merging
per-page answers into one record per document (merge)."""
