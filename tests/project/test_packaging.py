"""A built wheel works as the editable install does: it claims no top-level name but `docpipe`,
ships the schemas, and runs the offline smoke job from a fresh environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ROOT, SAMPLES


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built once for the module's tests."""
    return _build_wheel(tmp_path_factory.mktemp("wheel"))


def _build_wheel(tmp_path: Path) -> Path:
    source = tmp_path / "source"  # build from a copy: the checkout gets no build/ or egg-info
    source.mkdir()
    for name in ("docpipe", "flows", "schemas"):
        shutil.copytree(ROOT / name, source / name, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(tmp_path / "dist"), str(source)], check=True, timeout=300)
    (wheel,) = (tmp_path / "dist").glob("docpipe-*.whl")
    return wheel


def _fresh_env(tmp_path: Path, wheel: Path) -> Path:
    """A new venv holding only the wheel; its dependencies are borrowed from this environment
    through a .pth line (a path entry, so this environment's editable docpipe is not seen)."""
    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    # the wheel first: with the borrowed path already there, pip would find this environment's
    # docpipe and uninstall it from here
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    str(wheel)], check=True, timeout=300)
    purelib = Path(subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip())
    (purelib / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def _installed_docpipe() -> list[str]:
    return sorted(p.name for p in Path(sysconfig.get_paths()["purelib"]).glob("*docpipe*"))


def test_the_wheel_holds_only_docpipe_with_its_flows_and_schemas(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names if not name.startswith("docpipe-")}
    assert tops == {"docpipe"}
    assert "docpipe/flows/ingest.py" in names
    for schema in ("invoice", "receipt", "form"):
        assert f"docpipe/schema/builtin/{schema}.yaml" in names


@pytest.mark.slow
@pytest.mark.processes
def test_the_installed_wheel_runs_the_smoke_job(prefect_api, tiny_model, wheel, tmp_path):
    before = _installed_docpipe()
    venv = _fresh_env(tmp_path, wheel)
    assert _installed_docpipe() == before  # this environment's own install is left alone
    work = tmp_path / "elsewhere"  # not the checkout: nothing can be imported from the source tree
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the session's Prefect server
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import docpipe; print(docpipe.__file__)"],
                           cwd=work, env=env, capture_output=True, text=True, check=True).stdout
    assert str(venv) in where and str(ROOT) not in where
    docpipe = str(venv / "bin" / "docpipe")
    schemas = subprocess.run([docpipe, "schemas"], cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert schemas.returncode == 0 and "invoice@" in schemas.stdout, schemas.stdout + schemas.stderr
    run = subprocess.run(
        [docpipe, "run", str(SAMPLES), "--schema", "invoice", "--out", "out", "--model", "tiny-random",
         "--budget", "70", "--max-new-tokens", "16", "--batch-size", "4"],
        cwd=work, env=env, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    documents = pd.read_parquet(work / "out" / "documents")
    assert len(documents) == len([p for p in SAMPLES.rglob("*") if p.is_file()])
    # the six samples and packet/scanned_batch.pdf, read whole as one invoice (no --split)
    assert len(pd.read_parquet(work / "out" / "records" / "invoice")) == 7
