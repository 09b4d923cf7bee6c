"""Prefect flows that run docpipe's pipeline."""
