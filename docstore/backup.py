"""Backup and restore of a whole instance: the database as a logical dump, the stored files, the settings.

A backup is one tar file (compressed with gzip when its name ends in ``.gz`` or ``.tgz``) holding, in this order:

- ``database/<table>.jsonl``, one per table in dependency order: a header line ``{"table": ..., "columns": [...]}``,
  then one JSON array per row in primary-key order. Dates and times are ISO 8601 (aware ones in UTC), JSON columns
  are nested as they are, bytes are base64: the dump does not depend on the database, so a backup made on SQLite
  restores into PostgreSQL and the other way round.
- ``files/ab/cd/<sha256>``: every object of the file store, under the name it is stored by.
- ``settings/config.py`` and ``settings/secret_key``: the instance's settings file and its generated key, if any.
- ``manifest.json``, last: format, Alembic revision, time, row counts, the SHA-256 and size of every member, and
  a checksum of its own.

The database is read in one transaction (a read transaction on SQLite, REPEATABLE READ on PostgreSQL) before the
files are listed: the store is write-once, so every file the snapshot refers to is there (only an approved disposal
removes files), and a file stored meanwhile is merely carried along unused.

A restore goes into an empty instance only. The backup is read twice: first every member is checked against the
manifest, before anything is written; then the files go into the store (write-once: a failure leaves at most unused
objects there) while the rows are inserted in one transaction, committed last; the settings are written after it.
The search index is not in the backup: the restore asks the index writer to rebuild it from the restored database.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import io
import json
import os
import re
import secrets
import tarfile
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as time_of_day
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from alembic.script import ScriptDirectory

import storage
from docstore import clock, database
from docstore.errors import N_, Conflict, DocstoreError, Msg, NotFound

FORMAT = "docstore-backup"
VERSION = 1
MANIFEST = "manifest.json"
#: The settings files of an instance folder that a backup carries: member name -> file name in the instance folder.
SETTINGS_FILES = {"settings/config.py": "config.py", "settings/secret_key": "secret_key"}
#: Tables the migrations fill (the audit chain's head, the document types, the three default registers): an empty
#: instance has these rows, and a restore replaces them.
SEEDED_TABLES = frozenset({"audit_head", "document_type", "series"})
#: The search index's queue and writer lease: state of one instance's index, which a restore rebuilds; not backed up.
INDEX_TABLES = frozenset({"search_queue", "search_writer"})

ROWS_PER_BATCH = 1000
CHUNK_SIZE = 1024 * 1024
_FILE_MEMBER = re.compile(r"files/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})")
_TABLE_MEMBER = re.compile(r"database/([A-Za-z0-9_]+)\.jsonl")

Progress = Callable[[str], None]


class BackupInvalid(DocstoreError):
    """A backup that cannot be restored: unreadable, incomplete, damaged, or not a Docstore backup."""

    code = "backup_invalid"


@dataclass
class BackupSummary:
    """What `create_backup` wrote."""

    path: Path
    size: int = 0
    revision: str = ""
    tables: dict[str, int] = field(default_factory=dict)
    files: int = 0
    file_bytes: int = 0
    settings: list[str] = field(default_factory=list)
    #: Stored files whose bytes no longer match their name: carried, listed in the manifest, and left out on restore.
    damaged: list[str] = field(default_factory=list)
    #: Stored files removed while the backup ran (by a disposal): not in the backup.
    vanished: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


@dataclass
class RestoreSummary:
    """What `restore_backup` restored."""

    revision: str = ""
    created_at: str = ""
    tables: dict[str, int] = field(default_factory=dict)
    files: int = 0
    file_bytes: int = 0
    #: Files that were in the target store already (a store is shared by content: they are kept as they are).
    files_present: int = 0
    settings: list[str] = field(default_factory=list)
    #: What the operator should look at (a settings file kept beside the instance's own, damaged files left out).
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


# --- values ---------------------------------------------------------------------------------------------------------


def encode_value(value: Any) -> Any:
    """Return a column value as JSON can hold it (`decode_value` turns it back given the column)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo is not None else value.isoformat()
    if isinstance(value, date | time_of_day):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Decimal):
        return str(value)
    return value


def _utc_moment(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    # naive values, as SQLite keeps them, are UTC (clock.as_utc); PostgreSQL would read them in its own zone
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def decoder(column: sa.Column) -> Callable[[Any], Any] | None:
    """Return the function that turns what `encode_value` wrote back into a value of `column` (None: as it is)."""
    if isinstance(column.type, sa.JSON):
        return None
    try:
        kind = column.type.python_type
    except NotImplementedError:
        return None
    if kind is datetime:
        return _utc_moment if getattr(column.type, "timezone", False) else datetime.fromisoformat
    return {
        date: date.fromisoformat,
        time_of_day: time_of_day.fromisoformat,
        bytes: base64.b64decode,
        Decimal: Decimal,
    }.get(kind)


def decode_value(column: sa.Column, value: Any) -> Any:
    """Return the value of `column` that `encode_value` wrote as `value`."""
    decode = decoder(column)
    return value if value is None or decode is None else decode(value)


# --- creating -------------------------------------------------------------------------------------------------------


class _HashingReader:
    """A file's reader that hashes what is read through it (tarfile copies a member's bytes with `read`)."""

    def __init__(self, stream: IO[bytes]):
        self.stream = stream
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.digest.update(chunk)
        return chunk


def _is_compressed(path: Path) -> bool:
    return path.name.endswith((".gz", ".tgz"))


def migrations_head(migrations_dir: str | os.PathLike) -> str:
    """Return the Alembic revision the code's migrations end at."""
    return ScriptDirectory(str(migrations_dir)).get_current_head() or ""


def create_backup(
    path: str | os.PathLike,
    *,
    engine: sa.Engine,
    metadata: sa.MetaData,
    store_root: str | os.PathLike,
    instance_path: str | os.PathLike,
    replace: bool = False,
    progress: Progress | None = None,
) -> BackupSummary:
    """Write a backup of the instance (database, stored files, settings files) to `path`; return what it holds.

    The backup is written beside `path` and renamed to it at the end: a failed backup leaves nothing. Raise
    `Conflict` when `path` exists (unless `replace`) and `DocstoreError` when the database has no schema or the
    file cannot be written.
    """
    started = time.monotonic()
    say = progress or (lambda _text: None)
    target = Path(path)
    if target.exists() and not replace:
        raise Conflict(Msg(N_("%(path)s exists already: choose another name or replace it"), path=str(target)))
    summary = BackupSummary(path=target)
    members: dict[str, dict] = {}
    created_at = clock.now()
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")
    try:
        raw = open(partial, "xb")  # closed below, after the tar and gzip layers on it
    except OSError as e:
        raise DocstoreError(Msg(N_("cannot write %(path)s: %(reason)s"), path=str(target), reason=e.strerror)) from e
    compressed = None
    try:
        os.chmod(partial, 0o600)  # it holds the secret key and every record
        compressed = (
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=int(created_at.timestamp()))
            if _is_compressed(target)
            else None
        )
        with tarfile.open(fileobj=compressed or raw, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            mtime = int(created_at.timestamp())
            summary.revision = _dump_database(engine, metadata, tar, members, summary, mtime, target.parent, say)
            _add_files(Path(store_root), tar, members, summary, mtime, say)
            for member, filename in SETTINGS_FILES.items():
                source = Path(instance_path) / filename
                if source.is_file():
                    with open(source, "rb") as stream:
                        _add_stream(tar, member, stream, os.fstat(stream.fileno()).st_size, mtime, members)
                    summary.settings.append(filename)
            manifest = {
                "format": FORMAT,
                "version": VERSION,
                "created_at": created_at.isoformat(),
                "revision": summary.revision,
                "database": engine.dialect.name,
                "tables": summary.tables,
                "excluded_tables": sorted(INDEX_TABLES),
                "files": {"count": summary.files, "bytes": summary.file_bytes},
                "damaged_files": summary.damaged,
                "settings": summary.settings,
                "members": members,
            }
            manifest["checksum"] = manifest_checksum(manifest)
            body = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(body), mtime, 0o644
            tar.addfile(info, io.BytesIO(body))
        if compressed is not None:
            compressed.close()
        raw.flush()
        os.fsync(raw.fileno())
        raw.close()
        os.replace(partial, target)
    except BaseException as e:
        if compressed is not None:
            with contextlib.suppress(Exception):  # the original failure is the one to report
                compressed.close()
        raw.close()
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        if isinstance(e, OSError):
            reason = e.strerror or str(e)
            raise DocstoreError(Msg(N_("cannot write %(path)s: %(reason)s"), path=str(target), reason=reason)) from e
        if isinstance(e, sa.exc.DBAPIError):
            raise DocstoreError(
                Msg(N_("the database could not be read: %(reason)s"), reason=_first_line(e.orig))
            ) from e
        raise
    summary.size = target.stat().st_size
    summary.seconds = time.monotonic() - started
    return summary


def _snapshot(engine: sa.Engine) -> sa.Connection:
    """Return a connection whose transaction sees the database as it was at its first read, and nothing after."""
    connection = engine.connect()
    if engine.dialect.name == "postgresql":
        connection = connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    # SQLite: a deferred transaction (docstore.database) holds one read snapshot from its first SELECT until it ends
    return connection


def _dump_database(
    engine: sa.Engine,
    metadata: sa.MetaData,
    tar: tarfile.TarFile,
    members: dict[str, dict],
    summary: BackupSummary,
    mtime: int,
    scratch: Path,
    say: Progress,
) -> str:
    """Write one member per table from one snapshot of the database; return the database's Alembic revision."""
    with _snapshot(engine) as connection, connection.begin():
        try:
            revision = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
        except sa.exc.DBAPIError as e:
            raise DocstoreError(
                Msg(
                    N_("the database has no Docstore schema (%(url)s): run `flask --app app init` first"),
                    url=_url(engine),
                )
            ) from e
        if not revision:
            raise DocstoreError(Msg(N_("the database has no Alembic revision: run `flask --app app init` first")))
        for name, table, query in _tables_as_stored(connection, metadata):
            rows = 0
            with tempfile.TemporaryFile(dir=scratch) as dump:
                header = {"table": name, "columns": [column.name for column in table.columns]}
                dump.write(json.dumps(header).encode("utf-8") + b"\n")
                for row in connection.execution_options(yield_per=ROWS_PER_BATCH).execute(query):
                    values = [encode_value(value) for value in row]
                    try:
                        line = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
                    except TypeError as e:
                        raise DocstoreError(
                            Msg(
                                N_("a value of table %(table)s cannot be written: %(reason)s"),
                                table=name,
                                reason=e,
                            )
                        ) from e
                    dump.write(line.encode("utf-8") + b"\n")
                    rows += 1
                size = dump.tell()
                dump.seek(0)
                _add_stream(tar, f"database/{name}.jsonl", dump, size, mtime, members)
            summary.tables[name] = rows
            say(f"database: {name}: {rows} row(s)")
    return revision


def _tables_as_stored(
    connection: sa.Connection, metadata: sa.MetaData
) -> Iterator[tuple[str, sa.TableClause, sa.Select]]:
    """Yield (name, table, query in primary-key order) for every table of the database but the index's.

    The tables and columns are those the database has, which are the models' unless the code was upgraded before
    the database (a backup before `flask init` migrates it must still work); each column is read with its model's
    type where there is one. The order is the models' dependency order, then any table the models lack.
    """
    stored = sa.MetaData()
    stored.reflect(bind=connection)
    known = [table.name for table in metadata.sorted_tables if table.name in stored.tables]
    names = known + sorted(set(stored.tables) - set(known) - {"alembic_version"})
    for name in names:
        if name in INDEX_TABLES:
            continue
        actual, model = stored.tables[name], metadata.tables.get(name)
        columns = [
            sa.column(c.name, model.c[c.name].type if model is not None and c.name in model.c else c.type)
            for c in actual.columns
        ]
        table = sa.table(name, *columns)
        order = [table.c[c.name] for c in actual.primary_key.columns] or list(table.c)
        yield name, table, sa.select(*table.c).order_by(*order)


def _stored_files(root: Path) -> Iterator[tuple[str, Path]]:
    """Yield (sha256, path) of every object under `root` laid out as `ab/cd/<sha256>`, in name order."""
    if not root.is_dir():
        return
    for first in sorted(entry.name for entry in os.scandir(root) if entry.is_dir()):
        for second in sorted(entry.name for entry in os.scandir(root / first) if entry.is_dir()):
            folder = root / first / second
            for name in sorted(entry.name for entry in os.scandir(folder) if entry.is_file()):
                if (
                    _FILE_MEMBER.fullmatch(f"files/{first}/{second}/{name}")
                    and name[:2] == first
                    and name[2:4] == second
                ):
                    yield name, folder / name


def _add_files(
    root: Path, tar: tarfile.TarFile, members: dict[str, dict], summary: BackupSummary, mtime: int, say: Progress
) -> None:
    for sha256, path in _stored_files(root):
        name = f"files/{sha256[:2]}/{sha256[2:4]}/{sha256}"
        try:
            stream = open(path, "rb")  # a failure to open it is told apart from one to write
        except FileNotFoundError:
            # removed since the folder was listed (an approved disposal): the snapshot may still name it
            summary.vanished.append(sha256)
            say(f"warning: stored file {sha256} was removed while the backup ran")
            continue
        except OSError as e:
            raise DocstoreError(
                Msg(N_("cannot read the stored file %(path)s: %(reason)s"), path=str(path), reason=e.strerror or e)
            ) from e
        with stream:
            size = os.fstat(stream.fileno()).st_size
            digest = _add_stream(tar, name, stream, size, mtime, members)
        if digest != sha256:
            summary.damaged.append(sha256)
            say(f"warning: stored file {sha256} is damaged (its bytes no longer match its name)")
        summary.files += 1
        summary.file_bytes += size
        if summary.files % 1000 == 0:
            say(f"files: {summary.files} ({_megabytes(summary.file_bytes)})")
    say(f"files: {summary.files} ({_megabytes(summary.file_bytes)})")


def _add_stream(
    tar: tarfile.TarFile, name: str, stream: IO[bytes], size: int, mtime: int, members: dict[str, dict]
) -> str:
    """Add `size` bytes of `stream` to `tar` as the member `name`, note its checksum in `members`, and return it."""
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, mtime, 0o644
    reader = _HashingReader(stream)
    tar.addfile(info, reader)
    digest = reader.digest.hexdigest()
    members[name] = {"sha256": digest, "size": size}
    return digest


# --- reading --------------------------------------------------------------------------------------------------------


@dataclass
class Manifest:
    """The manifest of a backup whose members were all checked against it."""

    data: dict

    @property
    def revision(self) -> str:
        return self.data["revision"]

    @property
    def tables(self) -> dict[str, int]:
        return self.data["tables"]

    @property
    def members(self) -> dict[str, dict]:
        return self.data["members"]

    @property
    def damaged(self) -> set[str]:
        return set(self.data["damaged_files"])


@contextlib.contextmanager
def _members(path: Path) -> Iterator[Iterator[tuple[str, IO[bytes]]]]:
    """Yield an iterator of (name, stream) over the regular-file members of the tar at `path`, in order.

    Every way a tar can be broken (truncated, not a tar, bad gzip data) is raised as `BackupInvalid`.
    """
    if not path.is_file():
        raise NotFound(Msg(N_("no backup at %(path)s"), path=str(path)))

    def walk(tar: tarfile.TarFile) -> Iterator[tuple[str, IO[bytes]]]:
        for member in tar:
            if not member.isreg():
                raise BackupInvalid(Msg(N_("the backup holds an unexpected entry %(name)s"), name=member.name))
            stream = tar.extractfile(member)
            assert stream is not None  # a regular file always has one
            yield member.name, stream

    try:
        tar = tarfile.open(path, mode="r|*")  # a stream: read once, front to back, whatever the size
    except (tarfile.TarError, EOFError, zlib.error, OSError) as e:
        raise BackupInvalid(
            Msg(N_("%(path)s is not a readable backup: %(reason)s"), path=str(path), reason=_first_line(e))
        ) from e
    try:
        with tar:
            yield walk(tar)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as e:  # raised by reading the members too
        raise BackupInvalid(
            Msg(N_("%(path)s is not a readable backup (%(reason)s): it may be truncated"), path=str(path), reason=e)
        ) from e


def manifest_checksum(data: dict) -> str:
    """Return the SHA-256 of the manifest `data` without its own checksum, in a canonical form."""
    body = {key: value for key, value in data.items() if key != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def _read_manifest(stream: IO[bytes]) -> dict:
    """Return the manifest read from `stream`, checked against its own checksum and for the shape it must have."""
    try:
        data = json.loads(stream.read().decode("utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BackupInvalid(Msg(N_("the backup's manifest is not a Docstore manifest")))
        shaped = (
            isinstance(data["version"], int)
            and isinstance(data["revision"], str)
            and all(isinstance(k, str) and isinstance(v, int) for k, v in data["tables"].items())
            and all(
                isinstance(entry["sha256"], str) and isinstance(entry["size"], int)
                for entry in data["members"].values()
            )
            and all(isinstance(sha, str) for sha in data["damaged_files"])
        )
        intact = shaped and data["checksum"] == manifest_checksum(data)
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as e:
        raise BackupInvalid(Msg(N_("the backup's manifest is damaged: it cannot be read"))) from e
    if not intact:
        raise BackupInvalid(Msg(N_("the backup's manifest is damaged: its checksum does not match")))
    return data


def _hash_stream(stream: IO[bytes]) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK_SIZE):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def verify_backup(path: str | os.PathLike, progress: Progress | None = None) -> Manifest:
    """Read the whole backup at `path` and check every member against its manifest; return the manifest.

    Raise `NotFound` when there is no such file and `BackupInvalid` when it is unreadable, incomplete or damaged.
    """
    say = progress or (lambda _text: None)
    found: dict[str, tuple[str, int]] = {}
    data: dict | None = None
    with _members(Path(path)) as members:
        for name, stream in members:
            if data is not None:
                raise BackupInvalid(Msg(N_("the backup has entries after its manifest: %(name)s"), name=name))
            if name in found:
                raise BackupInvalid(Msg(N_("the backup holds %(name)s twice"), name=name))
            if name == MANIFEST:
                data = _read_manifest(stream)
                continue
            found[name] = _hash_stream(stream)
            if len(found) % 1000 == 0:
                say(f"checked: {len(found)} entries")
    if data is None:
        raise BackupInvalid(
            Msg(N_("%(path)s has no Docstore manifest: it is incomplete or not a Docstore backup"), path=str(path))
        )
    if data["version"] != VERSION:
        raise BackupInvalid(
            Msg(
                N_("the backup is in format version %(version)s; this Docstore reads %(ours)s"),
                version=data["version"],
                ours=VERSION,
            )
        )
    listed: dict[str, dict] = data["members"]
    for name, entry in listed.items():
        if name not in found:
            raise BackupInvalid(
                Msg(N_("the backup lacks %(name)s, which its manifest lists: it is incomplete"), name=name)
            )
        if found[name] != (entry["sha256"], entry["size"]):
            raise BackupInvalid(
                Msg(N_("%(name)s in the backup is damaged: its checksum does not match the manifest"), name=name)
            )
    damaged = set(data["damaged_files"])
    for name in found:
        if name not in listed:
            raise BackupInvalid(Msg(N_("%(name)s in the backup is not in its manifest"), name=name))
        matched = _FILE_MEMBER.fullmatch(name)
        if matched:
            if matched[3] not in damaged and found[name][0] != matched[3]:
                raise BackupInvalid(
                    Msg(N_("%(name)s in the backup is damaged: its bytes do not match its name"), name=name)
                )
        elif not (_TABLE_MEMBER.fullmatch(name) or name in SETTINGS_FILES):
            raise BackupInvalid(Msg(N_("the backup holds an unexpected entry %(name)s"), name=name))
    say(f"checked: {len(found)} entries, all match the manifest")
    return Manifest(data)


# --- restoring ------------------------------------------------------------------------------------------------------


def check_empty(engine: sa.Engine, metadata: sa.MetaData) -> None:
    """Raise `Conflict` unless the database holds no Docstore data (it may lack the schema, or hold what the
    migrations put in: the default registers and document types)."""
    with engine.connect() as connection:
        _refuse_unless_empty(connection, metadata)


def _refuse_unless_empty(connection: sa.Connection, metadata: sa.MetaData) -> None:
    existing = set(sa.inspect(connection).get_table_names())
    for table in metadata.sorted_tables:
        if table.name not in existing or table.name in SEEDED_TABLES | INDEX_TABLES:
            continue
        if connection.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() is not None:
            raise Conflict(
                Msg(
                    N_("the instance is not empty (table %(table)s has rows): restore into a new database"),
                    table=table.name,
                )
            )
    head = metadata.tables.get("audit_head")
    if head is not None and head.name in existing:
        # every change Docstore makes, also to the registers and document types the migrations add, is audited
        if connection.execute(sa.select(sa.func.max(head.c.last_seq))).scalar():
            raise Conflict(
                Msg(N_("the instance is not empty (its audit log was written): restore into a new database"))
            )


def restore_backup(
    path: str | os.PathLike,
    *,
    engine: sa.Engine,
    metadata: sa.MetaData,
    store_root: str | os.PathLike,
    instance_path: str | os.PathLike,
    migrations_dir: str | os.PathLike,
    migrate: Callable[[], None],
    settings: bool = True,
    progress: Progress | None = None,
) -> RestoreSummary:
    """Restore the backup at `path` into this empty instance; return what was restored.

    `migrate` brings the database's schema to the code's head (it runs after the backup was checked, and before
    anything else is written). The search index is asked to rebuild. Raise `NotFound` for a missing backup,
    `BackupInvalid` for a damaged one, and `Conflict` when the instance is not empty or the backup was made at
    another revision of the database than this code's: in each case nothing was changed.
    """
    started = time.monotonic()
    say = progress or (lambda _text: None)
    source = Path(path)
    check_empty(engine, metadata)
    manifest = verify_backup(source, say)
    head = migrations_head(migrations_dir)
    if manifest.revision != head:
        raise Conflict(
            Msg(
                N_(
                    "the backup was made at database revision %(backup)s and this Docstore is at %(head)s: restore it "
                    "with the Docstore version that made it"
                ),
                backup=manifest.revision,
                head=head,
            )
        )
    wanted = {table.name for table in metadata.sorted_tables} - INDEX_TABLES
    missing = sorted(wanted - set(manifest.tables))
    if missing:
        raise BackupInvalid(Msg(N_("the backup lacks the tables %(tables)s"), tables=", ".join(missing)))
    migrate()
    summary = RestoreSummary(revision=manifest.revision, created_at=manifest.data.get("created_at", ""))
    # a table the models do not know, at the same revision, is not Docstore's (another program's, in a shared
    # database): it was carried along, and is left out
    foreign = sorted(set(manifest.tables) - wanted - INDEX_TABLES)
    summary.notes += [f"table {name} of the backup is not Docstore's and was left out" for name in foreign]
    store = storage.FileStore(store_root)  # no size limit: the files were accepted once already
    found_settings: dict[str, bytes] = {}
    try:
        with database.writing(), engine.begin() as connection:
            _refuse_unless_empty(connection, metadata)  # again, now inside the transaction that restores
            loader = _Loader(connection, metadata, say)
            loader.clear_seeded()
            with _members(source) as members:
                for name, stream in members:
                    expected = manifest.members.get(name)
                    if name == MANIFEST:
                        continue
                    if expected is None:
                        raise BackupInvalid(Msg(N_("the backup changed while it was being restored")))
                    table_match, file_match = _TABLE_MEMBER.fullmatch(name), _FILE_MEMBER.fullmatch(name)
                    if table_match:
                        digest = loader.load(table_match[1], stream, manifest.tables[table_match[1]])
                    elif file_match:
                        digest = _restore_file(store, file_match[3], stream, manifest, summary, say)
                    else:
                        body = stream.read()
                        digest = hashlib.sha256(body).hexdigest()
                        found_settings[name] = body
                    if digest != expected["sha256"]:
                        raise BackupInvalid(Msg(N_("the backup changed while it was being restored")))
            loader.finish()
            summary.tables = loader.counts
            say(f"files: {summary.files} ({_megabytes(summary.file_bytes)}), {summary.files_present} there already")
            say("committing the database")
    except sa.exc.DBAPIError as e:
        raise DocstoreError(
            Msg(N_("the rows could not be restored, and none was kept: %(reason)s"), reason=_first_line(e.orig))
        ) from e
    except storage.StorageError as e:
        raise DocstoreError(Msg(N_("a file could not be stored, and no row was kept: %(reason)s"), reason=e)) from e
    if settings:
        _restore_settings(Path(instance_path), found_settings, summary)
    summary.notes += [
        f"stored file {sha} was damaged in the backup and is left out" for sha in sorted(manifest.damaged)
    ]
    summary.seconds = time.monotonic() - started
    return summary


def _restore_file(
    store: storage.FileStore, sha256: str, stream: IO[bytes], manifest: Manifest, summary: RestoreSummary, say: Progress
) -> str:
    """Put one file member into the store; return the SHA-256 of the member's bytes."""
    if sha256 in manifest.damaged:
        return _hash_stream(stream)[0]
    if store.exists(sha256):
        if not store.verify(sha256):
            raise Conflict(
                Msg(N_("the file store already holds a damaged copy of %(sha)s: move it away first"), sha=sha256)
            )
        digest, size = _hash_stream(stream)
        summary.files_present += 1
    else:
        stored = store.put(stream)
        digest, size = stored.sha256, stored.size
    summary.files += 1
    summary.file_bytes += size
    if summary.files % 1000 == 0:
        say(f"files: {summary.files} ({_megabytes(summary.file_bytes)})")
    return digest


class _Loader:
    """Insert the rows of table members, in the order they come, inside one transaction.

    A row may refer to a row not inserted yet: to a row of its own table further on (a department moved under a
    newer one), or to a table that comes later (a department's head is a user). Such references are inserted as
    NULL and set once every row is in.
    """

    def __init__(self, connection: sa.Connection, metadata: sa.MetaData, say: Progress):
        self.connection = connection
        self.metadata = metadata
        self.say = say
        self.done: set[str] = set()
        self.counts: dict[str, int] = {}
        #: (table, constraint column names) -> [(primary key values, reference values)] to set at the end.
        self.later: dict[tuple[str, tuple[str, ...]], list[tuple[tuple, tuple]]] = {}

    def clear_seeded(self) -> None:
        """Delete what the migrations put in; the backup has its own rows of these tables."""
        for table in reversed(self.metadata.sorted_tables):
            if table.name in SEEDED_TABLES or table.name == "search_queue":
                self.connection.execute(table.delete())

    def load(self, name: str, stream: IO[bytes], expected_rows: int) -> str:
        """Insert the rows of one table member; return the SHA-256 of its bytes."""
        table = self.metadata.tables.get(name)
        if name in INDEX_TABLES or name in self.done:
            raise BackupInvalid(Msg(N_("the backup holds an unexpected table %(table)s"), table=name))
        if table is None:
            return _hash_stream(stream)[0]
        digest = hashlib.sha256()
        lines = _lines(stream, digest)
        try:
            header = json.loads(next(lines))
            columns = [table.columns[column] for column in header["columns"]]
        except (StopIteration, json.JSONDecodeError, KeyError, TypeError) as e:
            raise BackupInvalid(Msg(N_("the table %(table)s in the backup has no readable header"), table=name)) from e
        if {column.name for column in columns} != set(table.columns.keys()):
            raise BackupInvalid(Msg(N_("the columns of table %(table)s differ from this Docstore's"), table=name))
        deferred = self._deferred(table)
        #: for each reference to the table itself: the referred values of the rows inserted so far
        seen: dict[sa.ForeignKeyConstraint, set[tuple]] = {c: set() for c in deferred if c.referred_table is table}
        keys = [column.name for column in table.primary_key.columns]
        batch: list[dict] = []
        rows = 0
        decoders = [(column.name, decoder(column)) for column in columns]
        for line in lines:
            try:
                values = json.loads(line)
                row = {
                    column: value if decode is None or value is None else decode(value)
                    for (column, decode), value in zip(decoders, values, strict=True)
                }
            except (json.JSONDecodeError, ValueError, TypeError) as e:
                raise BackupInvalid(Msg(N_("a row of table %(table)s in the backup is unreadable"), table=name)) from e
            # the values other rows of this table refer to this one by, read before any reference is set aside
            own = {c: tuple(row[element.column.name] for element in c.elements) for c in seen}
            for constraint in deferred:
                names = tuple(column.name for column in constraint.columns)
                refs = tuple(row[n] for n in names)
                if all(value is None for value in refs) or refs in seen.get(constraint, ()):
                    continue
                self.later.setdefault((name, names), []).append((tuple(row[k] for k in keys), refs))
                row.update(dict.fromkeys(names))
            for constraint, values in own.items():
                seen[constraint].add(values)
            batch.append(row)
            rows += 1
            if len(batch) >= ROWS_PER_BATCH:
                self._insert(table, batch)
        self._insert(table, batch)
        if rows != expected_rows:
            raise BackupInvalid(
                Msg(
                    N_("the table %(table)s in the backup has %(rows)s rows, not %(expected)s"),
                    table=name,
                    rows=rows,
                    expected=expected_rows,
                )
            )
        self.done.add(name)
        self.counts[name] = rows
        self.say(f"database: {name}: {rows} row(s)")
        return digest.hexdigest()

    def _deferred(self, table: sa.Table) -> list[sa.ForeignKeyConstraint]:
        """Return the references of `table` that may point to rows not inserted yet and can wait as NULL."""
        return [
            constraint
            for constraint in sorted(table.foreign_key_constraints, key=lambda c: [col.name for col in c.columns])
            if (constraint.referred_table is table or constraint.referred_table.name not in self.done)
            and all(column.nullable for column in constraint.columns)
        ]

    def _insert(self, table: sa.Table, batch: list[dict]) -> None:
        if batch:
            self.connection.execute(table.insert(), batch)
            batch.clear()

    def finish(self) -> None:
        """Set the references that waited, move PostgreSQL's sequences past the restored ids, and ask for the
        search index to be rebuilt from the restored rows (in the same transaction: a committed restore always
        gets its index)."""
        for (name, names), pending in self.later.items():
            table = self.metadata.tables[name]
            keys = list(table.primary_key.columns)
            statement = (
                sa.update(table)
                .where(*(column == sa.bindparam(f"key_{column.name}") for column in keys))
                .values({n: sa.bindparam(f"ref_{n}") for n in names})
            )
            params = [
                {
                    **{f"key_{c.name}": v for c, v in zip(keys, key, strict=True)},
                    **{f"ref_{n}": v for n, v in zip(names, refs, strict=True)},
                }
                for key, refs in pending
            ]
            self.connection.execute(statement, params)
        if self.connection.dialect.name == "postgresql":
            self._reset_sequences()
        writer = self.metadata.tables["search_writer"]
        self.connection.execute(
            writer.update()
            .where(writer.c.id == 1)
            .values(rebuild_requested=True, last_error="restored from a backup: the index is rebuilt")
        )

    def _reset_sequences(self) -> None:
        """Set each table's id sequence to its largest id, so that the next row gets a new one."""
        quote = self.connection.dialect.identifier_preparer
        for name in self.done:
            table = self.metadata.tables[name]
            keys = list(table.primary_key.columns)
            if len(keys) != 1 or not isinstance(keys[0].type, sa.Integer):
                continue
            sequence = self.connection.execute(
                sa.text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": quote.format_table(table), "column": keys[0].name},
            ).scalar()
            if sequence is None:
                continue
            largest = self.connection.execute(sa.select(sa.func.max(keys[0]))).scalar()
            self.connection.execute(
                sa.text("SELECT setval(CAST(:sequence AS regclass), :value, :called)"),
                {"sequence": sequence, "value": largest or 1, "called": largest is not None},
            )


def _lines(stream: IO[bytes], digest: Any) -> Iterator[bytes]:
    """Yield the lines of `stream`, hashing every byte read with `digest`."""
    while line := stream.readline():
        digest.update(line)
        yield line


def _restore_settings(instance: Path, found: dict[str, bytes], summary: RestoreSummary) -> None:
    """Write the settings files of the backup into the instance folder.

    The secret key replaces the one this instance generated when it first started. A config.py that differs from
    the instance's own is written beside it as config.py.restored: it may name another machine's database or paths.
    """
    instance.mkdir(parents=True, exist_ok=True)
    for member, body in found.items():
        filename = SETTINGS_FILES[member]
        target = instance / filename
        if filename == "config.py" and target.exists() and target.read_bytes() != body:
            target = instance / "config.py.restored"
            summary.notes.append(
                f"{instance / 'config.py'} exists and differs from the backup's: the backup's is in {target}; "
                "merge them by hand"
            )
        elif filename == "config.py":
            named = sorted(set(re.findall(rb"^\s*(DATABASE_URL|FILES_DIR|INDEX_DIR)\s*=", body, re.MULTILINE)))
            if named:
                settings = ", ".join(n.decode() for n in named)
                summary.notes.append(f"the restored config.py sets {settings}: check that they suit this machine")
        _write_private(target, body)
        summary.settings.append(target.name)


def _write_private(target: Path, body: bytes) -> None:
    """Write `body` to `target` readable by its owner alone, replacing it in one step."""
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(body)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def _url(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _first_line(error: BaseException | None) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
