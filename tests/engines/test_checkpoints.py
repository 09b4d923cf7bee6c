"""A model that cannot be had gives one clear message, not a traceback."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from docpipe.cli.app import app
from docpipe.core.errors import ModelNotAvailable
from docpipe.engines.checkpoints import GEMMA4_E2B, resolve_model
from tests.conftest import SAMPLES

pytestmark = pytest.mark.usefixtures("prefect_api")  # flow runs use the session's Prefect server


def test_uncached_hub_model_offline_says_how_to_get_it():
    with pytest.raises(ModelNotAvailable) as info:
        resolve_model(GEMMA4_E2B)
    message = str(info.value)
    assert "hf download google/gemma-4-E2B-it" in message
    assert "--model /path/to/checkpoint" in message


def test_folder_without_a_checkpoint_is_explained(tmp_path):
    with pytest.raises(ModelNotAvailable, match="no config.json"):
        resolve_model(str(tmp_path))


def test_cli_prints_the_message_and_exits_2(tmp_path):
    result = CliRunner().invoke(app, ["run", str(SAMPLES), "--out", str(tmp_path / "out"), "--model", "google/gemma-4-E4B-it"])
    assert result.exit_code == 2
    output = " ".join(result.output.split())
    assert "not in the local Hugging Face cache" in output
    assert "Traceback" not in output
    assert not (tmp_path / "out").exists()


def test_cli_refuses_an_unknown_budget(tmp_path):
    result = CliRunner().invoke(app, ["run", str(SAMPLES), "--out", str(tmp_path), "--budget", "300"])
    assert result.exit_code == 2 and "budget must be one of" in result.output


def test_tiny_random_loads_through_from_pretrained(tiny_model):
    from transformers import AutoModelForImageTextToText, AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny_model.path, local_files_only=True)
    model = AutoModelForImageTextToText.from_pretrained(tiny_model.path, local_files_only=True)
    assert type(processor).__name__ == "Gemma4Processor"
    assert type(model).__name__ == "Gemma4ForConditionalGeneration"
