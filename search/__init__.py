"""Full-text search of Docstore behind a small API; the engine (Whoosh) is not visible outside this package.

- `Entry`: what the application indexes for one document;
- `SearchIndex`: the index folder — `search`, `apply` (the single writer's batches), `start_build` (rebuilds
  beside the live index, resumable), `stamps` (for checking), `healthy`;
- `Request`, `Access`, `Results`, `Hit`: a search, who runs it, and what it found;
- `snippet`, `highlight`: marked passages of the texts of the hits;
- `QueryError`, `IndexUnavailable`: the two ways a search fails; `IndexBusy`: another writer holds the index.

This package imports neither Flask nor docstore (see STYLE.md).
"""

from search.engine import Access, Build, Hit, Request, Results, SearchIndex
from search.errors import IndexBusy, IndexUnavailable, QueryError, SearchError
from search.schema import FACETS, Entry
from search.snippets import highlight, snippet

__all__ = [
    "FACETS",
    "Access",
    "Build",
    "Entry",
    "Hit",
    "IndexBusy",
    "IndexUnavailable",
    "QueryError",
    "Request",
    "Results",
    "SearchError",
    "SearchIndex",
    "highlight",
    "snippet",
]
