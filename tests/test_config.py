"""Settings: defaults, instance/config.py, DOCSTORE_* environment variables, and the README listing them all."""

from __future__ import annotations

from pathlib import Path

import pytest

from docstore.config import SETTINGS, read_settings

README = Path(__file__).resolve().parent.parent / "README.md"


def test_defaults_put_runtime_data_under_the_instance_folder(tmp_path):
    values = read_settings(tmp_path, environ={})
    assert values["DATABASE_URL"] == f"sqlite:///{tmp_path / 'docstore.sqlite3'}"
    assert values["INDEX_DIR"] == str(tmp_path / "index")
    assert values["FILES_DIR"] == str(tmp_path / "files")
    assert values["SECURE_COOKIES"] is True


def test_environment_overrides_instance_config_which_overrides_defaults(tmp_path):
    (tmp_path / "config.py").write_text('OFFICE_TIMEZONE = "Europe/Madrid"\nPAGE_SIZE = 50\n', encoding="utf-8")
    values = read_settings(tmp_path, environ={"DOCSTORE_PAGE_SIZE": "10", "DOCSTORE_SECURE_COOKIES": "off"})
    assert values["OFFICE_TIMEZONE"] == "Europe/Madrid"
    assert values["PAGE_SIZE"] == 10
    assert values["SECURE_COOKIES"] is False


def test_a_malformed_environment_value_names_the_variable(tmp_path):
    with pytest.raises(ValueError, match="DOCSTORE_PAGE_SIZE"):
        read_settings(tmp_path, environ={"DOCSTORE_PAGE_SIZE": "many"})


def test_generated_secret_key_is_kept_across_restarts(tmp_path):
    first = read_settings(tmp_path, environ={})["SECRET_KEY"]
    second = read_settings(tmp_path, environ={})["SECRET_KEY"]
    assert len(first) == 64 and first == second
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_readme_documents_every_setting():
    text = README.read_text(encoding="utf-8")
    missing = [name for name in SETTINGS if f"DOCSTORE_{name}" not in text]
    assert missing == []
