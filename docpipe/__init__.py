"""docpipe: folders of documents in, Parquet tables out, read by Gemma 4."""

from docpipe.tables import read_table

__version__ = "0.1.0"
__all__ = ["read_table", "__version__"]
