"""Every Docstore setting, once, with its default and what it is for.

A setting is read, in order of precedence, from:

1. the environment, as ``DOCSTORE_<NAME>`` (for example ``DOCSTORE_DATABASE_URL``);
2. ``instance/config.py`` (plain ``NAME = value`` lines);
3. the defaults below.

Paths that are left empty are placed under the instance folder. The README lists these settings; keep the two
in step (``tests/test_config.py`` checks it).
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Any

#: The values SMTP_SECURITY accepts.
SMTP_SECURITY_MODES = ("starttls", "ssl", "none")

#: name -> (default, description). The type of the default is the type the environment value is parsed into.
SETTINGS: dict[str, tuple[Any, str]] = {
    "SECRET_KEY": (
        "",
        "Key that signs sessions and CSRF tokens. Empty: one is generated once and kept in instance/secret_key.",
    ),
    "DATABASE_URL": (
        "",
        "SQLAlchemy URL of the database. Empty: SQLite file instance/docstore.sqlite3. "
        "PostgreSQL: postgresql+psycopg://user@host/dbname.",
    ),
    "INDEX_DIR": ("", "Folder of the full-text index. Empty: instance/index."),
    "FILES_DIR": ("", "Folder of stored document files. Empty: instance/files."),
    "OFFICE_TIMEZONE": ("UTC", "IANA time zone of the office: dates are shown in it and yearly numbering follows it."),
    "WORK_WEEK": (
        "mon,tue,wed,thu,fri",
        "The office's working weekdays, comma-separated: mon, tue, wed, thu, fri, sat, sun (at least one). "
        "Holidays and make-up working days are kept per date in the calendar (Administration -> Calendar).",
    ),
    "DEADLINE_DAYS_NORMAL": (15, "Default deadline of a normal document, in working days (0 to 3650)."),
    "DEADLINE_DAYS_URGENT": (5, "Default deadline of an urgent document, in working days (0 to 3650)."),
    "DEADLINE_DAYS_EXTRA_URGENT": (1, "Default deadline of an extra-urgent document, in working days (0 to 3650)."),
    "DEFAULT_LOCALE": ("en", "Language used when neither the user nor the browser chooses one (en, es or zh_Hans)."),
    "CLEARANCE_NAMES": (
        "",
        "Names of the four clearance levels, lowest first, separated by '|'. "
        "Empty: None | Confidential | Secret | Top secret, translated.",
    ),
    "SECURE_COOKIES": (
        True,
        "Send session and remember-me cookies over HTTPS only. Turn off only for plain-HTTP testing.",
    ),
    "SESSION_HOURS": (12, "How long a sign-in lasts without 'remember me', in hours."),
    "REMEMBER_DAYS": (14, "How long 'remember me' keeps a user signed in, in days."),
    "LOGIN_MAX_FAILURES": (5, "Failed sign-ins allowed per username within LOGIN_WINDOW_MINUTES before it is locked."),
    "LOGIN_MAX_FAILURES_PER_ADDRESS": (20, "Failed sign-ins allowed per client address within the window."),
    "LOGIN_WINDOW_MINUTES": (15, "Length of the failed sign-in window and of the lock that follows, in minutes."),
    "PASSWORD_MIN_LENGTH": (10, "Shortest password accepted."),
    "PAGE_SIZE": (25, "Rows per page in lists and API responses (the API accepts per_page up to 200)."),
    "TOKEN_DAYS": (90, "Default lifetime of a new API token, in days (0: no expiry)."),
    "PROXY_HOPS": (0, "Number of reverse proxies in front of the app whose X-Forwarded-* headers are trusted."),
    "SQLITE_BUSY_TIMEOUT_MS": (15000, "How long a SQLite writer waits for the lock before failing, in milliseconds."),
    "ALLOWED_FILE_KINDS": (
        "pdf,docx,docx-strict,docm,dotx,dotm,ooxml-encrypted,odt,text,png,jpeg,tiff,gif",
        "Attachment types accepted, as sniffed from the content, comma-separated. Known: pdf, docx, docx-strict, "
        "docm, dotx, dotm, ooxml-encrypted (password-protected Word), odt, text, png, jpeg, tiff, gif, doc, xls, "
        "ppt, xlsx, pptx, zip.",
    ),
    "MAX_UPLOAD_MB": (100, "Largest attachment accepted, in megabytes."),
    "EXTRACTION_WORKER": (
        True,
        "Run the text-extraction worker inside each web process. Turn off when `flask extract run` runs apart.",
    ),
    "EXTRACTION_SECONDS_PER_PAGE": (1, "Time budget of text extraction per page, in seconds."),
    "EXTRACTION_MIN_SECONDS": (20, "Time budget of text extraction for any file, however short, in seconds."),
    "EXTRACTION_MAX_SECONDS": (600, "Longest any one text extraction may take, in seconds."),
    "EXTRACTION_MEMORY_MB": (1024, "Memory cap of the process that extracts a file's text, in megabytes."),
    "SEARCH_WRITER": (
        True,
        "Run the search index writer inside each web process (one at a time writes). Turn off when "
        "`flask search run` runs apart.",
    ),
    "SEARCH_POLL_MS": (500, "How often an idle search index writer looks for queued changes, in milliseconds."),
    "SEARCH_BATCH": (200, "Queued document changes the search index writer applies in one commit."),
    "SEARCH_REBUILD_CHUNK": (
        10000,
        "Documents a rebuild reads and commits to the index at a time (each commit merges segments: fewer is faster).",
    ),
    "SEARCH_REBUILD_PROCS": (
        2,
        "Processes `flask search reindex` indexes with (Whoosh's multi-segment writer); writers inside web "
        "processes always use one.",
    ),
    "SEARCH_MAX_TEXT_CHARS": (
        200000,
        "Characters of a document's attachment texts that are indexed (the rest is stored but not searchable).",
    ),
    "SEARCH_WRITER_MB": (128, "Memory the index writer may use for buffering before it writes a segment, in MB."),
    "SEARCH_PAGE_SIZE": (20, "Results per page of a search."),
    "SMTP_HOST": (
        "",
        "SMTP server that sends notification e-mails. Empty: no e-mail is sent or queued (notifications stay in the "
        "app).",
    ),
    "SMTP_PORT": (0, "Port of the SMTP server (0: 25, or 587 with SMTP_SECURITY starttls, 465 with ssl)."),
    "SMTP_SECURITY": (
        "starttls",
        "How the connection to the SMTP server is protected: starttls (upgrade a plain connection), ssl (TLS from "
        "the start) or none (plain text: only for a relay on the same machine or a trusted network).",
    ),
    "SMTP_USER": ("", "Account to log in to the SMTP server with. Empty: no login."),
    "SMTP_PASSWORD": ("", "Password of SMTP_USER."),
    "SMTP_TIMEOUT_SECONDS": (30, "How long to wait for the SMTP server before an attempt counts as failed."),
    "MAIL_FROM": ("", "Sender address of notification e-mails. Empty: docstore@ followed by this machine's name."),
    "BASE_URL": (
        "",
        "Public address of Docstore (for example https://docstore.example.org), for the links in e-mails. "
        "Empty: e-mails name the document but carry no link.",
    ),
    "MAIL_SENDER": (
        True,
        "Run the e-mail sender inside each web process (when SMTP_HOST is set). Turn off when "
        "`flask notifications send` runs apart (from cron with --once, or as a service).",
    ),
    "MAIL_POLL_SECONDS": (
        30,
        "How often the e-mail sender looks for mails that are due (a notification saved in the same process wakes "
        "it at once).",
    ),
    "MAIL_MAX_ATTEMPTS": (
        8,
        "Attempts to send one e-mail before it is marked failed; the waits between them double from one minute, "
        "up to an hour.",
    ),
    "REMINDERS": (
        True,
        "Send the automatic reminders of tasks (due soon, overdue) and the escalations of overdue extra-urgent tasks "
        "from a scheduler inside each web process. Turn off when `flask routing remind` runs apart (from cron with "
        "--once, or as a service). Running both never sends a reminder twice.",
    ),
    "REMINDER_POLL_SECONDS": (300, "How often the reminder scheduler looks for reminders that fall due, in seconds."),
    "REMINDER_DAYS_BEFORE": (
        2,
        "Working days before a task's deadline when its people are reminded that it is due soon (0: on the day).",
    ),
    "DIRECTIVE_ISSUER": (
        "",
        "The organisation's name, offered as the issuing body (发文机关 / órgano emisor) of a new directive. "
        "Empty: the name of the drafter's top-level department.",
    ),
    "DIRECTIVE_PLACE": ("", "The place written before the date of Spanish directives (Madrid, 1 de julio de 2026)."),
    "ARCHIVE_CODE_PATTERN": (
        "{fonds}-{category}·{year}-{retention}-{department}-{item}",
        "Archival code (档号) of a filed record. Parts: {fonds}, {category} (the class), {subclass}, {year}, "
        "{retention} (Y, D30, D10…), {department} and {item} (4 digits, consecutive per everything before it).",
    ),
    "ARCHIVE_DEFAULT_DEPARTMENT": (
        "BGS",
        "Department code written in the archival code of a document that has no department (nor its register).",
    ),
    "ARCHIVE_FILING_INLINE_LIMIT": (
        1000,
        "Above this many closed documents, filing a whole year from the archive page runs in the background "
        "(the page shows its progress) instead of within the request.",
    ),
    "ARCHIVE_TRANSFER_DIR": (
        "",
        "Folder where an approved transfer writes its records as a BagIt package for the receiving archive, before "
        "their files are removed. Empty: instance/transfers.",
    ),
    "LOG_LEVEL": ("INFO", "Logging level of the application log (DEBUG, INFO, WARNING, ERROR)."),
}


def _parse(raw: str, default: Any) -> Any:
    """Return `raw` converted to the type of `default`."""
    if isinstance(default, bool):
        value = raw.strip().lower()
        if value in {"1", "true", "yes", "on"}:
            return True
        if value in {"0", "false", "no", "off"}:
            return False
        raise ValueError(f"expected a yes/no value, got {raw!r}")
    if isinstance(default, int):
        return int(raw)
    return raw


def read_settings(instance_path: str | os.PathLike, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Return the effective settings for an instance folder (defaults < instance/config.py < environment)."""
    environ = os.environ if environ is None else environ
    instance = Path(instance_path)
    values = {name: default for name, (default, _) in SETTINGS.items()}
    config_file = instance / "config.py"
    if config_file.exists():
        namespace: dict[str, Any] = {}
        exec(compile(config_file.read_text(encoding="utf-8"), str(config_file), "exec"), namespace)
        for name in SETTINGS:
            if name in namespace:
                values[name] = namespace[name]
    for name, (default, _) in SETTINGS.items():
        raw = environ.get(f"DOCSTORE_{name}")
        if raw is not None:
            try:
                values[name] = _parse(raw, default)
            except ValueError as exc:
                raise ValueError(f"DOCSTORE_{name}: {exc}") from exc
    if not values["DATABASE_URL"]:
        values["DATABASE_URL"] = f"sqlite:///{instance / 'docstore.sqlite3'}"
    for name, folder in (("INDEX_DIR", "index"), ("FILES_DIR", "files")):
        if not values[name]:
            values[name] = str(instance / folder)
    if values["SMTP_SECURITY"] not in SMTP_SECURITY_MODES:
        modes = ", ".join(SMTP_SECURITY_MODES)
        raise ValueError(f"SMTP_SECURITY: use one of {modes}, not {values['SMTP_SECURITY']!r}")
    if not 0 <= values["REMINDER_DAYS_BEFORE"] <= 3650:
        raise ValueError(f"REMINDER_DAYS_BEFORE: use 0 to 3650 working days, not {values['REMINDER_DAYS_BEFORE']}")
    if values["REMINDER_POLL_SECONDS"] < 1:
        raise ValueError(f"REMINDER_POLL_SECONDS: use 1 or more, not {values['REMINDER_POLL_SECONDS']}")
    if not values["SECRET_KEY"]:
        values["SECRET_KEY"] = load_or_create_secret_key(instance)
    return values


def load_or_create_secret_key(instance: Path) -> str:
    """Return the key kept in `instance`/secret_key, creating it once (safe when several workers start together)."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another worker may be writing it this very moment
            key = path.read_text(encoding="ascii").strip()
            if key:
                return key
            time.sleep(0.02)
        raise RuntimeError(f"{path} is empty: delete it or set DOCSTORE_SECRET_KEY") from None
    key = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
        handle.flush()
        os.fsync(handle.fileno())
    return key
