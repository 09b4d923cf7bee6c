"""Engines turn ModelRequests into RawGenerations; the pipeline only knows `Engine`."""
