"""The Parquet tables: their Arrow schemas and typed rows, a document's outcome as rows, atomic
appends and readers, recovery after a killed run, and the output folder's lock."""
