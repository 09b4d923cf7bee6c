"""`docpipe serve-model`'s refusals: each is one message and exit code 2, before vLLM starts."""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

from docpipe.cli.app import app

pytestmark = pytest.mark.usefixtures("prefect_api")  # flow runs use the session's Prefect server


def test_a_missing_vllm_environment_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCPIPE_VLLM_PYTHON", str(tmp_path / "no-such-python"))
    result = CliRunner().invoke(app, ["serve-model", "tiny-random"])
    message = " ".join(result.output.split())
    assert result.exit_code == 2 and "bash install.sh --vllm" in message and "Traceback" not in message


def test_a_taken_port_is_refused_before_vllm_starts(monkeypatch, tmp_path):
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\nexit 1\n")  # never run: the port check comes first
    monkeypatch.setenv("DOCPIPE_VLLM_PYTHON", str(fake))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["serve-model", "tiny-random", "--port", str(port), "--log", str(tmp_path / "log")])
    message = " ".join(result.output.split())
    assert result.exit_code == 2 and f"something already listens on 127.0.0.1:{port}" in message
    assert not (tmp_path / "log").exists()


def test_the_media_folder_is_private_and_only_made_for_this_host(tmp_path):
    from docpipe.cli.serve_model import _media_folder
    from docpipe.engines.served.vllm_launch import ServeOptions, vllm_command

    made, owned = _media_folder(None, "127.0.0.1", 8123)
    try:
        assert owned and made.is_dir() and (made.stat().st_mode & 0o777) == 0o700
        command = vllm_command(tmp_path / "python", ServeOptions("m", "m", media_dir=str(made)))
        assert command[command.index("--allowed-local-media-path") + 1] == str(made)
    finally:
        made.rmdir()
    assert _media_folder(None, "0.0.0.0", 8123) == (None, False)  # clients elsewhere cannot share files
    given, owned = _media_folder(tmp_path / "pages", "0.0.0.0", 8123)
    assert given == (tmp_path / "pages").resolve() and given.is_dir() and not owned
    assert "--allowed-local-media-path" not in vllm_command(tmp_path / "python", ServeOptions("m", "m"))


def test_the_help_offers_each_flag_once_under_its_own_name():
    result = CliRunner().invoke(app, ["serve-model", "--help"], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    assert "--no-media-dir" in result.output and "--no-no-media-dir" not in result.output


def test_a_media_folder_on_an_open_host_needs_an_api_key(monkeypatch, tmp_path):
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\nexit 1\n")  # never run: the refusal comes first
    monkeypatch.setenv("DOCPIPE_VLLM_PYTHON", str(fake))
    monkeypatch.delenv("DOCPIPE_API_KEY", raising=False)
    result = CliRunner().invoke(app, ["serve-model", "tiny-random", "--host", "0.0.0.0", "--media-dir",
                                      str(tmp_path / "pages"), "--log", str(tmp_path / "log")])
    message = " ".join(result.output.split())
    assert result.exit_code == 2 and "DOCPIPE_API_KEY" in message and "0.0.0.0" in message, message
    assert not (tmp_path / "log").exists() and not (tmp_path / "pages").exists()


def test_lora_adapters_are_served_under_their_names_and_checked_against_the_model(monkeypatch, tmp_path):
    from docpipe.engines.served.vllm_launch import ServeOptions, vllm_command
    from docpipe.run.adapters import Manifest, write_manifest

    command = vllm_command(tmp_path / "python", ServeOptions("m", "m", loras=(("a", "/ad/a", 16), ("b", "/ad/b", 24))))
    at = command.index("--enable-lora")
    assert command[at:] == ["--enable-lora", "--max-lora-rank", "32", "--max-loras", "2", "--lora-modules",
                            "a=/ad/a", "b=/ad/b"]  # the largest rank, rounded up to one vLLM takes
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_model.safetensors").write_bytes(b"")
    write_manifest(adapter, Manifest("google/gemma-4-E4B-it", None, "invoice", 2, "3", [560], [], [], {"rank": 16},
                                     [], "x", "2026-12-07T00:00:00+00:00"))
    monkeypatch.setattr("docpipe.engines.served.vllm_launch.vllm_python", lambda: tmp_path / "python")
    result = CliRunner().invoke(app, ["serve-model", "tiny-random", "--lora", f"tuned={adapter}"])
    assert result.exit_code == 2 and "trained on google/gemma-4-E4B-it, not tiny-random" in " ".join(result.output.split())
    result = CliRunner().invoke(app, ["serve-model", "tiny-random", "--lora", str(adapter)])
    assert result.exit_code == 2 and "give NAME=DIR" in " ".join(result.output.split())
