"""Helpers for the JSON API tests: a series' id by its code, and the check of the API's JSON error responses.

Used by tests/test_api.py, tests/test_api_registers.py and tests/test_api_search.py.
"""

from __future__ import annotations

from sqlalchemy import select

from docstore.extensions import db
from docstore.models import Series


def series_id(code: str) -> int:
    """Return the id of the series with `code`."""
    return db.session.execute(select(Series.id).where(Series.code == code)).scalar_one()


def assert_error(response, status: int, code: str) -> dict:
    """Check that `response` is the API's JSON error with `status` and `code`; return its "error" object."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    return error
