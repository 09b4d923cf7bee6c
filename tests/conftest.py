"""Shared test set-up: an isolated cache (tiny model) and Prefect home, offline, quiet."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
CORPUS = ROOT.parent / "shared" / "corpus"


def pytest_configure(config):
    scratch = Path(tempfile.mkdtemp(prefix="docpipe-tests-"))
    config._docpipe_scratch = scratch
    os.environ["DOCPIPE_CACHE"] = os.environ.get("DOCPIPE_TEST_CACHE", str(scratch / "cache"))
    os.environ["PREFECT_HOME"] = str(scratch / "prefect")
    os.environ["HF_HUB_OFFLINE"] = "1"  # tests never reach for the network
    from docpipe.run.environment import quiet_defaults

    quiet_defaults()


def pytest_unconfigure(config):
    shutil.rmtree(getattr(config, "_docpipe_scratch", ""), ignore_errors=True)


@pytest.fixture(scope="session")
def tiny_model():
    """The tiny random Gemma 4, built once per session through docpipe's own model resolution."""
    from docpipe.engines.checkpoints import resolve_model

    return resolve_model("tiny-random")


@pytest.fixture
def bounded_schemas(tmp_path: Path) -> Path:
    """The built-in schemas with every list capped at one item: the tiny random model, which never
    chooses to end a list, then finishes its answers within a test's token limit."""
    import yaml

    from docpipe.schema.load import default_schema_dir

    folder = tmp_path / "bounded-schemas"
    folder.mkdir()
    for path in default_schema_dir().glob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for spec in data["fields"].values():
            if spec.get("kind") == "list":
                spec["max_items"] = 1
        (folder / path.name).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


@pytest.fixture
def samples_copy(tmp_path: Path) -> Path:
    """A writable copy of samples/ (tests add files to it)."""
    target = tmp_path / "input"
    shutil.copytree(SAMPLES, target)
    return target


def corpus_file(relative: str) -> Path:
    path = CORPUS / relative
    if not path.is_file():
        pytest.skip(f"{path} is not here (../shared/corpus is expected beside the project)")
    return path
