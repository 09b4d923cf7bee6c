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
