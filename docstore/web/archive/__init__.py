"""The archive in the browser: records, the file plan, filing, the catalogue, holds, disposal, integrity, export.

Archivists (and administrators) keep the archive; leaders (and administrators) decide on disposals and see the
records, the plan, the holds and the catalogue. Anyone may open a record whose document they may open. Each view
parses, calls one service in a writing transaction and says what happened; a refused step says why and changes
nothing. One blueprint, `archive`, whose views are grouped by page in the modules below.
"""

from docstore.web.archive import catalogue_pages, disposal_pages, filing_pages, holds_pages, plan_pages, records_pages
from docstore.web.archive.common import bp

__all__ = ["bp", "catalogue_pages", "disposal_pages", "filing_pages", "holds_pages", "plan_pages", "records_pages"]
