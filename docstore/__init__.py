"""Docstore: an office's official documents, from registration to archive."""
