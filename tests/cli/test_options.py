"""`docpipe run`'s options come from RunConfig: each setting's default, range and help are written
once, and a bad value gets one clear message and exit code 2, never a traceback."""

from __future__ import annotations

import contextlib
import re

import pytest
from typer.testing import CliRunner

from docpipe.cli.app import app
from docpipe.cli.options import flag_of
from docpipe.run.config import RunConfig
from tests.conftest import SAMPLES

pytestmark = pytest.mark.usefixtures("prefect_api")  # flow runs use the session's Prefect server


def _run(*args: str):
    return CliRunner().invoke(app, ["run", str(SAMPLES), *args])


def test_every_offered_setting_is_an_option_with_its_help_and_default():
    result = CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    offered = {name: flag_of(name, field) for name, field in RunConfig.model_fields.items()}
    assert offered["schemas"] == "--schema" and offered["passwords"] is None
    for name, flag in offered.items():
        if flag is not None:
            assert flag in result.output, flag
            assert RunConfig.model_fields[name].description.split(" (")[0][:30] in " ".join(result.output.split())


def test_an_out_that_is_a_file_gets_one_clear_message(tmp_path):
    target = tmp_path / "tables.parquet"
    target.write_bytes(b"not a folder")
    result = _run("--out", str(target), "--model", "tiny-random")
    assert result.exit_code == 2
    text = " ".join(result.output.split())  # rich wraps long lines
    assert "--out:" in text and "is a file" in text
    assert "Traceback" not in text


def test_bad_values_are_named_by_their_option():
    result = _run("--budget", "300", "--batch-size", "0", "--max-pages", "0", "--model", "tiny-random")
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "--budget: budget must be one of" in text
    assert "--batch-size: batch size must be a positive number" in text
    assert "--max-pages: Input should be greater than or equal to 1" in text


def test_the_same_checks_hold_for_python_callers(tmp_path):
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="budget must be one of"):
        RunConfig(input=SAMPLES, out=tmp_path, budget=300)
    assert RunConfig(input=SAMPLES, out=tmp_path, budget="560", batch_size="auto").budget == 560


@pytest.mark.parametrize(("given", "expected"), [([], 30.0), (["--settle-seconds", "0"], 0.0),
                                                 (["--settle-seconds", "5"], 5.0)])
def test_serve_waits_30_s_for_files_being_written_unless_told_otherwise_zero_included(monkeypatch, given, expected):
    import docpipe.flows.deployments
    import docpipe.flows.local_server

    served = []
    monkeypatch.setattr(docpipe.flows.deployments, "serve", lambda config, *rest: served.append(config))
    monkeypatch.setattr(docpipe.flows.local_server, "owned_server", lambda **kw: contextlib.nullcontext())
    result = CliRunner().invoke(app, ["serve", str(SAMPLES), "--interval", "60", "--model", "tiny-random", *given])
    assert result.exit_code == 0, result.output
    assert [config.settle_seconds for config in served] == [expected]


def test_serve_help_shows_its_own_settle_default():
    result = CliRunner().invoke(app, ["serve", "--help"], env={"COLUMNS": "250"})
    line = next(line for line in result.output.splitlines() if "--settle-seconds" in line)
    assert "[default: 30.0]" in line


def test_help_says_what_to_give_not_the_python_type():
    """Every command's and group's help, --help included: no option shows a Python type."""
    import typer.main
    from typer.testing import CliRunner

    from docpipe.cli.app import app

    def commands(group, path: tuple[str, ...] = ()):
        yield path
        for name, command in group.commands.items():
            if hasattr(command, "commands"):  # a group (typer's own copy of click's)
                yield from commands(command, (*path, name))
            else:
                yield (*path, name)

    shown_commands = list(commands(typer.main.get_command(app)))
    assert len(shown_commands) >= 15 and ("schemas", "check") in shown_commands
    for path in shown_commands:
        shown = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
        assert shown.exit_code == 0, (path, shown.output)
        options = [line for line in shown.output.splitlines() if re.match(r"│ [ *]*-", line)]
        assert any("--help" in line for line in options), (path, shown.output)
        typed = [line for line in options if re.search(r"<(bool|str|int|float|list\[str\]|path)>", line)]
        assert not typed, (path, typed)
