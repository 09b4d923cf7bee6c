"""Extraction schemas: YAML definitions (load.py) -> field specs with their JSON, Arrow and
pydantic forms (spec.py) -> the prompt (prompt.py)."""
