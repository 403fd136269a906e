"""The archive: file plan, filing, records, holds, disposal, fixity and exchange packages.

- `scheme`: the file plan (fonds, classes, sub-classes) with default retention and disposal action.
- `filing`: closed documents become records (件) with an archival code (档号); their metadata is captured once.
- `records`: finding, reading and annotating records; every view and download is logged.
- `holds`: legal holds on records or whole classes, which block disposal.
- `disposal`: records past retention, proposals, approval, destruction with a residual entry and a certificate.
- `fixity`: re-hashing stored files and recording each check.
- `catalogue`: the printable catalogue (Word, XLSX) and the destruction certificate.
- `bagit`, `exchange`: BagIt (RFC 8493) export and import of records.
"""
