"""The text-extraction worker: takes pending attachments from the queue and reads their text, one at a time.

It runs in a background thread of each web process (started with the first request) or alone with
`flask --app app extract run`. Claims are atomic in the database, so any number of workers can run without doing
the same file twice, and a claim left by a worker that died is taken up again after a while.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import storage
from docstore import attachments
from docstore.extensions import db

log = logging.getLogger(__name__)

#: Woken when something is queued in this process, so that the embedded worker does not wait for its next poll.
_wake = threading.Event()


@dataclass(frozen=True)
class Limits:
    """The time and memory budget of one extraction."""

    seconds_per_page: float = 1.0
    min_seconds: float = 20.0
    max_seconds: float = 600.0
    memory_mb: int = 1024


def file_store(config: Mapping) -> storage.FileStore:
    """Return the content-addressed store that `config` (the app's settings) names."""
    return storage.FileStore(config["FILES_DIR"], max_bytes=config["MAX_UPLOAD_MB"] << 20)


def limits_from(config: Mapping) -> Limits:
    """Return the extraction budget that `config` (the app's settings) sets."""
    return Limits(
        seconds_per_page=config["EXTRACTION_SECONDS_PER_PAGE"],
        min_seconds=config["EXTRACTION_MIN_SECONDS"],
        max_seconds=config["EXTRACTION_MAX_SECONDS"],
        memory_mb=config["EXTRACTION_MEMORY_MB"],
    )


def start_embedded_worker(app) -> threading.Thread:
    """Start the worker thread of this process (once)."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_forever,
        args=(app, file_store(app.config), limits_from(app.config), stop),
        name="docstore-extraction",
        daemon=True,
    )
    thread.stop = stop  # type: ignore[attr-defined]
    thread.start()
    return thread


def wake() -> None:
    """Tell this process's worker that there is new work."""
    _wake.set()


def process_one(store: storage.FileStore, limits: Limits) -> bool:
    """Extract the text of the next queued attachment; return False when the queue is empty."""
    claim = attachments.claim_next()
    if claim is None:
        return False
    attachment_id, sha256, kind = claim.attachment_id, claim.sha256, claim.kind
    try:
        result = storage.extract_text(store.path(sha256), kind, **asdict(limits))
    except storage.FileMissing:
        result = storage.Extraction(storage.FAILED, reason="the stored file is missing: run the integrity check")
    except storage.StorageError as exc:
        log.exception("extraction of attachment %s could not start", attachment_id)
        result = storage.Extraction(storage.FAILED, reason=f"the extraction could not start: {exc}")
    attachments.record_extraction(attachment_id, result)
    log.info("attachment %s: %s %s", attachment_id, result.state, result.reason)
    return True


def drain(store: storage.FileStore, limits: Limits, max_items: int | None = None) -> int:
    """Process queued attachments until none is left (or `max_items` are done); return how many were done."""
    done = 0
    while (max_items is None or done < max_items) and process_one(store, limits):
        done += 1
    return done


def run_forever(app, store: storage.FileStore, limits: Limits, stop: threading.Event, poll_seconds: float = 2.0):
    """Work through the queue until `stop` is set, sleeping `poll_seconds` whenever it is empty."""
    while not stop.is_set():
        try:
            with app.app_context():
                busy = process_one(store, limits)
                db.session.remove()
        except Exception:  # keep the worker alive: the failure is logged and the claim is retried later
            log.exception("text-extraction worker failed; retrying")
            busy = False
        if not busy:
            _wake.wait(poll_seconds)
            _wake.clear()
