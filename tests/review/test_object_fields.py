"""An object field (a group of values, not a list) on the review page: each of its values shown,
corrected, accepted and marked done like any other, and read back corrected."""

from __future__ import annotations

import json
import shutil

from starlette.testclient import TestClient

from docpipe.output.reading import read_table
from docpipe.review.app import build_review, review_app
from docpipe.run.config import RunConfig
from docpipe.run.progress import NoProgress
from docpipe.run.protocol import execute, plain_stages
from docpipe.schema.load import load_schema
from tests.answers.test_kinds_and_checks import SCHEMA, _answer
from tests.conftest import SAMPLES
from tests.fakes import ConstantEngine


def test_an_objects_values_are_reviewed_one_by_one(tmp_path):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    shutil.copy(SAMPLES / "invoice_acme.pdf", folder / "invoice_acme.pdf")
    path = tmp_path / "supplier_invoice.yaml"
    path.write_text(SCHEMA, encoding="utf-8")
    schema = load_schema(path)
    with plain_stages() as stages:
        execute(RunConfig(input=folder, out=out, schema_name=str(path), budget=70, render_workers=0),
                ConstantEngine(json.dumps(_answer(), ensure_ascii=False)), NoProgress(), schema, stages)
    client = TestClient(review_app(build_review(out, [schema], "ana", "c"), "t", "c", None))
    client.headers.update({"Authorization": "token t", "X-Docpipe-Csrf": "c"})
    doc = read_table(out, schema.name)["doc_id"].iloc[0]
    page = client.get(f"/{schema.name}/doc/{doc}").text
    assert "supplier.vat_id" in page and "DE123456789" in page
    saved = client.post(f"/api/{schema.name}/correct", json={"doc_id": doc, "action": "set", "field": "supplier",
                                                           "item_field": "vat_id", "new_value": "FR12345678901"})
    assert saved.status_code == 200, saved.text
    refused = client.post(f"/api/{schema.name}/correct", json={"doc_id": doc, "action": "set", "field": "supplier",
                                                             "item_field": "vat_id", "new_value": "fr1"})
    assert refused.status_code == 422 and "pattern" in refused.json()["error"]
    whole = client.post(f"/api/{schema.name}/preview", json={"doc_id": doc, "field": "supplier", "new_value": "x"})
    assert whole.status_code == 400 and "object's field" in whole.json()["error"]  # a value is named, not a group
    assert client.post(f"/api/{schema.name}/correct", json={"doc_id": doc, "action": "done"}).status_code == 200
    fixed = read_table(out, schema.name, corrected=True, python_cells=True).iloc[0]
    assert fixed["supplier"]["vat_id"] == "FR12345678901" and fixed["supplier"]["vat_id_confidence"] == 1.0
    assert "supplier.vat_id" in list(fixed["corrected"]) and "supplier.name" in list(fixed["corrected"])
    assert bool(fixed["review_done"])
