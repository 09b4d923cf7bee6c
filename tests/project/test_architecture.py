"""The stage layering of docs/architecture.md, as import-linter contracts (pyproject.toml): each
package imports only the packages below it, Prefect stays in the flows, torch in the engines."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

LINT = Path(sys.executable).parent / "lint-imports"


def _lint(package_parent: Path) -> subprocess.CompletedProcess:
    env = os.environ | {"PYTHONPATH": str(package_parent)}
    return subprocess.run([str(LINT), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
                          cwd=package_parent, env=env, capture_output=True, text=True, timeout=120)


def test_every_import_contract_is_kept():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 kept, 0 broken" in result.stdout


def test_an_upward_import_breaks_the_layering(tmp_path):
    # the same check on a copy of the package with one stage importing a later one
    shutil.copytree(ROOT / "docpipe", tmp_path / "docpipe", symlinks=False)
    with (tmp_path / "docpipe" / "core" / "budget.py").open("a") as handle:
        handle.write("\nfrom docpipe.output import tables  # noqa: E402,F401\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "docpipe.core.budget -> docpipe.output.tables" in result.stdout
