"""Every real file of the shared corpus goes through registration: kept byte for byte or refused clearly, and its
text extraction ends in a clear state — never a crash, a hang, or a lost upload."""

from __future__ import annotations

import csv
import hashlib
import io
import os
from datetime import timedelta
from pathlib import Path

import pytest

from docstore import attachments, audit, clock, correspondents, extraction, registry
from docstore.errors import ValidationFailed
from docstore.extensions import db
from docstore.models import Attachment, Series

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
FINAL_STATES = {"done", "no_text", "encrypted", "unsupported", "failed"}


def _manifest() -> list[dict]:
    path = CORPUS / "MANIFEST.tsv"
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the shared corpus is missing at {CORPUS}")
        pytest.skip(f"the shared corpus is not at {CORPUS}")
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.fixture
def policy(app):
    kinds = frozenset(app.config["ALLOWED_FILE_KINDS"].split(","))
    return registry.UploadPolicy(kinds, app.config["MAX_UPLOAD_MB"] << 20, "UTC")


@pytest.fixture
def clerk_and_sender(make_user):
    clerk = make_user("lucia", "clerk")
    sender = correspondents.create_correspondent(audit.SYSTEM, name="Remitente")
    return clerk, sender


def _register(clerk, sender, files, policy, store):
    data = registry.Registration(
        series_id=db.session.query(Series).filter_by(code="IN").one().id, title="Corpus",
        received_at=clock.now() - timedelta(minutes=5), channel="email", correspondent_id=sender.id,
    )
    return registry.register_document(audit.Context(clerk.id), "incoming", data, files, policy, store)


def test_every_corpus_file_is_kept_intact_or_refused_with_a_reason(app, clerk_and_sender, policy):
    clerk, sender = clerk_and_sender
    store = extraction.file_store(app.config)
    kept = refused = 0
    for row in _manifest():
        payload = (CORPUS / "files" / row["file"]).read_bytes()
        upload = registry.Upload(row["file"], io.BytesIO(payload))
        try:
            document = _register(clerk, sender, [upload], policy, store)
        except ValidationFailed as failure:
            message = str(failure.errors["attachments"])
            assert row["file"] in message and ("does not accept" in message or "is empty" in message), message
            refused += 1
            continue
        attachment = document.attachments[0]
        assert attachment.sha256 == row["sha256"] == hashlib.sha256(payload).hexdigest()
        assert store.path(attachment.sha256).read_bytes() == payload
        assert attachment.extraction_state == "pending"
        kept += 1
    assert kept >= 100 and kept + refused == len(_manifest())
    print(f"corpus: {kept} kept, {refused} refused with a reason")


def test_one_file_of_each_category_goes_through_the_extraction_worker(app, clerk_and_sender, policy):
    clerk, sender = clerk_and_sender
    store = extraction.file_store(app.config)
    chosen: dict[str, dict] = {}
    for row in _manifest():
        chosen.setdefault(row["category"].split("(")[0].split(":")[0], row)
    documents = {}
    for category, row in chosen.items():
        upload = registry.Upload(row["file"], io.BytesIO((CORPUS / "files" / row["file"]).read_bytes()))
        try:
            documents[category] = _register(clerk, sender, [upload], policy, store).id
        except ValidationFailed:
            continue
    limits = extraction.Limits(seconds_per_page=0.5, min_seconds=8, max_seconds=60, memory_mb=1024)
    assert extraction.drain(store, limits) == len(documents)
    db.session.expire_all()
    states = {}
    for category, document_id in documents.items():
        attachment = registry.get_document(document_id).attachments[0]
        assert attachment.extraction_state in FINAL_STATES
        if attachment.extraction_state != "done":
            assert attachment.extraction_reason, category
        else:
            assert attachments.extracted_text(attachment.id).strip()
        states[category] = attachment.extraction_state
    assert states["ok"] == "done"
    assert states["ok-empty-text"] == "no_text"
    assert states["unsupported-variant"] == "unsupported"
    assert db.session.query(Attachment).filter(Attachment.extraction_state.in_(("pending", "running"))).count() == 0
