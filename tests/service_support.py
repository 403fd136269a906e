"""What the service tests share: acting as a request does, and expecting a refusal."""

from __future__ import annotations

import pytest

from docstore import audit, database
from docstore.extensions import db


def ctx(user) -> audit.Context:
    """Return the audit context of `user` acting in their own right."""
    return audit.Context(user.id)


def act(function, *args, **kwargs):
    """Call a service in a writing transaction and commit, as a POST request does (rolling back on error)."""
    with database.writing():
        try:
            result = function(*args, **kwargs)
        except Exception:
            db.session.rollback()
            raise
        db.session.commit()
    return result


def refused(error, function, *args, **kwargs):
    """Assert that the service refuses with `error`; return the exception."""
    with pytest.raises(error) as caught:
        act(function, *args, **kwargs)
    return caught.value
