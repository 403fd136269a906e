"""`flask backup create` and `flask backup restore`: a demo office, backed up and restored into a fresh instance."""

from __future__ import annotations

import gzip
import io
import json
import secrets
import shutil
import tarfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

import storage
from app import create_app
from docstore import accounts, audit, backup, clock, indexing
from docstore.extensions import db
from docstore.models import ArchiveClass, Department, Document
from tests.conftest import _settings

CONFIG_PY = b'# the office\'s own settings\nDIRECTIVE_PLACE = "Madrid"\n'


@dataclass
class Instance:
    """An application with its own database, instance folder and file store."""

    app: Flask
    folder: Path

    @property
    def files(self) -> Path:
        return Path(self.app.config["FILES_DIR"])

    def run(self, *args: str):
        """Run `flask --app app ARGS` against this instance, as its own process would."""
        with self.app.app_context():
            result = self.app.test_cli_runner().invoke(args=list(args))
            db.session.remove()
        return result


class Databases:
    """Make test databases like conftest's `database_url` does: copies of the migrated template, or empty ones."""

    def __init__(self, template, folder: Path):
        self.kind, self.source = template
        self.folder = folder
        self.made: list[str] = []

    def new(self, migrated: bool) -> str:
        if self.kind == "sqlite":
            target = self.folder / f"db-{secrets.token_hex(4)}.sqlite3"
            if migrated:
                shutil.copyfile(self.source, target)
            return f"sqlite:///{target}"  # an empty one is created on first use
        admin, server, template = self.source
        name = f"docstore_test_{secrets.token_hex(4)}"
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if migrated else ""))
        self.made.append(name)
        return server.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if self.kind == "postgresql":
            admin = self.source[0]
            with admin.connect() as connection:
                for name in self.made:
                    connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_instance(database_url: str, folder: Path) -> Instance:
    return Instance(create_app(_settings(database_url), instance_path=str(folder)), folder)


def close(instance: Instance) -> None:
    with instance.app.app_context():
        index = instance.app.extensions.get("docstore_search")
        if index is not None:
            index.close()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def databases(database_template, tmp_path_factory):
    made = Databases(database_template, tmp_path_factory.mktemp("backup-db"))
    yield made
    made.drop_all()


@pytest.fixture(scope="module")
def source(databases, tmp_path_factory):
    """The demo office with a settings file and references to newer rows, and its backups (.tar and .tar.gz)."""
    folder = tmp_path_factory.mktemp("source") / "instance"
    folder.mkdir()
    (folder / "config.py").write_bytes(CONFIG_PY)
    office = make_instance(databases.new(migrated=True), folder)
    result = office.run("demo", "--password", "docstore-demo")
    assert result.exit_code == 0, result.output
    with office.app.app_context():
        # rows that refer to rows inserted after them: a restore in id order alone would break their references
        newer = Department(code="NEW", name="Newer unit", kind="unit")
        older = Department(code="OLD", name="Older unit", kind="unit")
        db.session.add_all([older, newer])
        db.session.flush()
        older.parent_id = newer.id
        child = ArchiveClass(level="fonds", code="ZZ1", name="Filed first", retention="Y", disposal_action="review")
        db.session.add(child)
        db.session.flush()
        parent = ArchiveClass(level="fonds", code="ZZ0", name="Made later", retention="Y", disposal_action="review")
        db.session.add(parent)
        db.session.flush()
        child.parent_id, child.level = parent.id, "class"
        db.session.commit()
    backups = folder.parent / "backups"
    backups.mkdir()
    for name in ("demo.tar", "demo.tar.gz"):
        made = office.run("backup", "create", str(backups / name))
        assert made.exit_code == 0, made.output
    yield office, backups / "demo.tar", backups / "demo.tar.gz"
    close(office)


@pytest.fixture
def fresh(databases, tmp_path):
    """Return a new instance with an empty database (no schema) and an empty instance folder."""
    made: list[Instance] = []

    def make() -> Instance:
        instance = make_instance(databases.new(migrated=False), tmp_path / f"instance-{len(made)}")
        made.append(instance)
        return instance

    yield make
    for instance in made:
        close(instance)


def table_rows(instance: Instance) -> dict[str, list[dict]]:
    """Return every backed-up table's rows, as dicts in primary-key order."""
    with instance.app.app_context(), db.engine.connect() as connection:
        found = {}
        for table in db.metadata.sorted_tables:
            if table.name in backup.INDEX_TABLES:
                continue
            query = sa.select(table).order_by(*table.primary_key.columns)
            found[table.name] = [dict(row._mapping) for row in connection.execute(query)]
        return found


def stored_files(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def nothing_written(instance: Instance) -> bool:
    """True when the instance's database has no table and its folder holds no file store and no settings file."""
    with instance.app.app_context(), db.engine.connect() as connection:
        tables = sa.inspect(connection).get_table_names()
    return not tables and not instance.files.exists() and not (instance.folder / "config.py").exists()


@pytest.mark.parametrize("name", ["demo.tar.gz", "demo.tar"])
def test_a_restored_instance_has_every_row_file_and_setting_of_the_backed_up_one(source, fresh, name):
    office, tar, _gz = source
    path = tar.with_name(name)
    restored = fresh()
    key_before = (restored.folder / "secret_key").read_text()  # the new instance made its own key when it started

    result = restored.run("backup", "restore", str(path))

    assert result.exit_code == 0, result.output
    assert "audit chain intact" in result.stdout and "rebuild is queued" in result.stdout
    assert "database: document:" in result.stderr and "files:" in result.stderr  # progress, on stderr
    before, after = table_rows(office), table_rows(restored)
    assert sum(map(len, before.values())) > 300 and before["department"] and before["attachment"]
    for table, rows in before.items():
        assert after[table] == rows, table
    assert stored_files(restored.files) == stored_files(office.files) != {}
    assert (restored.folder / "config.py").read_bytes() == CONFIG_PY
    key = (restored.folder / "secret_key").read_text()
    assert key == (office.folder / "secret_key").read_text() != key_before
    with restored.app.app_context():
        chain = audit.verify_chain()
        assert chain.intact and chain.checked == len(before["audit_event"]) > 0
        # new rows get new ids (PostgreSQL's sequences were moved past the restored ids)
        user = accounts.create_user(
            audit.SYSTEM, username="newcomer", full_name="Newcomer", password="a-long-password", password_min_length=10
        )
        db.session.commit()
        assert user.id == max(row["id"] for row in before["user"]) + 1
        # the index is rebuilt from the restored database
        writer = indexing.writer_for(restored.app)
        assert writer.needs_rebuild()
        assert writer.acquire()
        try:
            writer.rebuild()
        finally:
            writer.release()
        assert writer.index.doc_count() == db.session.scalar(sa.select(sa.func.count()).select_from(Document)) > 0
        assert audit.verify_chain().intact


def as_utc(rows: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """Return `rows` with every date-time aware and in UTC, as PostgreSQL returns them and SQLite does not."""
    return {
        table: [{key: clock.as_utc(v) if isinstance(v, datetime) else v for key, v in row.items()} for row in found]
        for table, found in rows.items()
    }


def test_a_backup_restores_into_sqlite_and_back_into_the_test_database(source, fresh, tmp_path):
    """On the PostgreSQL run: PostgreSQL -> SQLite -> PostgreSQL, and every row comes back the same."""
    office, tar, _gz = source
    lite = make_instance(f"sqlite:///{tmp_path / 'lite.sqlite3'}", tmp_path / "lite")
    try:
        assert lite.run("backup", "restore", str(tar)).exit_code == 0
        assert as_utc(table_rows(lite)) == as_utc(table_rows(office))
        again = tmp_path / "from-sqlite.tar"
        assert lite.run("backup", "create", str(again)).exit_code == 0
    finally:
        close(lite)
    back = fresh()

    result = back.run("backup", "restore", str(again))

    assert result.exit_code == 0, result.output
    assert table_rows(back) == table_rows(office)
    with back.app.app_context():
        assert audit.verify_chain().intact


def flip_byte(path: Path, member: str, target: Path) -> None:
    """Copy the tar at `path` to `target` with one byte changed in the middle of `member`'s data."""
    with tarfile.open(path) as tar:
        info = tar.getmember(member)
    data = bytearray(path.read_bytes())
    data[info.offset_data + info.size // 2] ^= 0x20
    target.write_bytes(bytes(data))


def first_member(path: Path, prefix: str) -> str:
    with tarfile.open(path) as tar:
        return next(name for name in tar.getnames() if name.startswith(prefix))


@pytest.mark.parametrize(
    ("prefix", "error"),
    [
        ("database/audit_event", "error: {member} in the backup is damaged: its checksum does not match"),
        ("files/", "error: {member} in the backup is damaged: its checksum does not match"),
        ("manifest.json", "error: the backup's manifest is damaged"),
    ],
)
def test_a_backup_with_a_changed_byte_is_refused_and_nothing_is_written(source, fresh, tmp_path, prefix, error):
    _office, tar, _gz = source
    member = first_member(tar, prefix)
    damaged = tmp_path / "damaged.tar"
    flip_byte(tar, member, damaged)
    restored = fresh()

    result = restored.run("backup", "restore", str(damaged))

    assert result.exit_code == 1
    assert error.format(member=member) in result.stderr
    assert "Traceback" not in result.output
    assert nothing_written(restored)


@pytest.mark.parametrize("name", ["demo.tar", "demo.tar.gz"])
def test_a_truncated_backup_is_refused_cleanly(source, fresh, tmp_path, name):
    _office, tar, _gz = source
    whole = tar.with_name(name).read_bytes()
    cut = tmp_path / name
    cut.write_bytes(whole[: len(whole) // 2])
    restored = fresh()

    result = restored.run("backup", "restore", str(cut))

    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and "truncated" in result.stderr
    assert "Traceback" not in result.output
    assert nothing_written(restored)


def test_a_backup_cut_between_two_entries_is_refused_as_incomplete(source, fresh, tmp_path):
    _office, tar, _gz = source
    with tarfile.open(tar) as archive:
        manifest = archive.getmember(backup.MANIFEST)
    cut = tmp_path / "cut.tar"
    cut.write_bytes(tar.read_bytes()[: manifest.offset])  # everything but the manifest, and no end-of-archive
    restored = fresh()

    result = restored.run("backup", "restore", str(cut))

    assert result.exit_code == 1
    assert "has no Docstore manifest: it is incomplete" in result.stderr
    assert nothing_written(restored)


def test_restoring_into_an_instance_with_data_is_refused_and_changes_nothing(source, fresh):
    office, tar, _gz = source
    restored = fresh()
    assert restored.run("init", "--admin-password", "a-long-password").exit_code == 0
    before = table_rows(restored)

    result = restored.run("backup", "restore", str(tar))

    assert result.exit_code == 1
    assert result.stderr == "error: the instance is not empty (table user has rows): restore into a new database\n"
    assert table_rows(restored) == before
    assert not restored.files.exists() and not (restored.folder / "config.py").exists()
    again = office.run("backup", "restore", str(tar))  # the office itself, of course, too
    assert again.exit_code == 1 and "is not empty" in again.stderr


def rewrite_manifest(path: Path, target: Path, **changes) -> None:
    """Copy the tar at `path` to `target` with `changes` made to its manifest."""
    with tarfile.open(path) as source, tarfile.open(target, "w") as copy:
        for info in source.getmembers():
            data = source.extractfile(info).read()
            if info.name == backup.MANIFEST:
                manifest = {**json.loads(data), **changes}
                data = json.dumps({**manifest, "checksum": backup.manifest_checksum(manifest)}).encode()
                info.size = len(data)
            copy.addfile(info, io.BytesIO(data))


def test_a_backup_of_another_database_revision_is_refused(source, fresh, tmp_path):
    _office, tar, _gz = source
    older = tmp_path / "older.tar"
    rewrite_manifest(tar, older, revision="0008")
    restored = fresh()

    result = restored.run("backup", "restore", str(older))

    assert result.exit_code == 1
    head = backup.migrations_head(restored.app.extensions["migrate"].directory)
    assert f"made at database revision 0008 and this Docstore is at {head}" in result.stderr
    assert nothing_written(restored)


def test_a_missing_backup_or_one_that_is_no_tar_is_refused(fresh, tmp_path):
    restored = fresh()
    missing = restored.run("backup", "restore", str(tmp_path / "nowhere.tar"))
    assert missing.exit_code == 1 and missing.stderr == f"error: no backup at {tmp_path / 'nowhere.tar'}\n"
    text = tmp_path / "notes.tar.gz"
    text.write_bytes(gzip.compress(b"not a tar at all" * 100))
    garbage = restored.run("backup", "restore", str(text))
    assert garbage.exit_code == 1 and garbage.stderr.startswith("error: ") and "Traceback" not in garbage.output
    assert nothing_written(restored)


def test_a_backup_does_not_overwrite_a_file_unless_told(source, tmp_path):
    office, _tar, _gz = source
    existing = tmp_path / "kept.tar"
    existing.write_bytes(b"precious")

    refused = office.run("backup", "create", str(existing))

    assert refused.exit_code == 1 and "exists already" in refused.stderr
    assert existing.read_bytes() == b"precious"
    assert list(tmp_path.iterdir()) == [existing]  # no partial file left beside it
    replaced = office.run("backup", "create", "--replace", str(existing))
    assert replaced.exit_code == 0, replaced.output
    assert backup.verify_backup(existing).tables["document"] > 0


def test_a_stored_file_found_damaged_is_named_by_the_backup_and_left_out_of_the_restore(databases, fresh, tmp_path):
    folder = tmp_path / "office"
    office = make_instance(databases.new(migrated=True), folder)
    try:
        store = storage.FileStore(office.files)
        kept = store.put(io.BytesIO(b"a letter that stays as it was filed"))
        spoilt = store.put(io.BytesIO(b"a letter that someone will alter"))
        spoilt.path.chmod(0o644)
        spoilt.path.write_bytes(b"a letter that someone has altered")
        path = tmp_path / "office.tar"

        made = office.run("backup", "create", str(path))

        assert made.exit_code == 0, made.output
        assert f"warning: stored file {spoilt.sha256} is damaged" in made.stderr
        assert "1 stored file(s) no longer match their checksum" in made.stderr
        restored = fresh()
        result = restored.run("backup", "restore", str(path))
        assert result.exit_code == 0, result.output
        assert f"note: stored file {spoilt.sha256} was damaged in the backup and is left out" in result.stderr
        assert stored_files(restored.files) == {
            f"{kept.sha256[:2]}/{kept.sha256[2:4]}/{kept.sha256}": kept.path.read_bytes()
        }
    finally:
        close(office)


def test_a_settings_file_of_the_instance_is_kept_and_the_backups_is_put_beside_it(source, fresh):
    _office, tar, _gz = source
    restored = fresh()
    own = b'DATABASE_URL = "postgresql+psycopg://docstore@db.example.org/docstore"\n'
    (restored.folder / "config.py").write_bytes(own)

    result = restored.run("backup", "restore", str(tar))

    assert result.exit_code == 0, result.output
    assert (restored.folder / "config.py").read_bytes() == own
    assert (restored.folder / "config.py.restored").read_bytes() == CONFIG_PY
    assert "note: " in result.stderr and "merge them by hand" in result.stderr
    assert "settings: config.py.restored, secret_key" in result.stdout
