"""Prefect flows over docpipe's pipeline; importable as `docpipe.flows` (docpipe/flows links here)."""
