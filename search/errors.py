"""The two ways a search can fail (the query cannot be used, or the index cannot be read), and a busy index."""

from __future__ import annotations


class SearchError(Exception):
    """Base of the search package's errors."""


class QueryError(SearchError):
    """What the user typed cannot be searched for; `reason` says why (the application words the message).

    Reasons: ``empty``, ``malformed``, ``too_long``, ``short_prefix``, ``too_broad`` (with `pattern`),
    ``only_not``, ``unknown_field`` (with `field`), ``dangling_operator`` (with `operator`), ``empty_field`` (with
    `field`).
    """

    def __init__(self, reason: str, **params):
        super().__init__(reason)
        self.reason = reason
        self.params = params


class IndexUnavailable(SearchError):
    """The index is missing, being built for the first time, or unreadable; it has to be rebuilt."""


class IndexBusy(SearchError):
    """Another writer holds the index (its lock, or the generation being built): try again later, rebuild nothing."""
