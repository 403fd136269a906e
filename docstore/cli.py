"""The `flask --app app ...` commands: init, users and tokens, demo, audit, archive, backup, search, translations."""

from __future__ import annotations

import functools
import secrets
import sys
import threading
import time

import click
from flask import Flask, current_app
from flask_migrate import upgrade
from sqlalchemy import func, select

import search
from docstore import (
    accounts,
    attachments,
    audit,
    backup,
    database,
    demo,
    extraction,
    i18n,
    indexing,
    mail,
    organisation,
    registry,
    routing,
    workdays,
)
from docstore.archive import filing, fixity
from docstore.errors import DocstoreError, ValidationFailed
from docstore.extensions import db
from docstore.models import MAIL_STATUSES, ROLES, Document


def _fail(exc: DocstoreError) -> None:
    if isinstance(exc, ValidationFailed):
        for name, message in exc.errors.items():
            click.echo(f"error: {name}: {message}", err=True)
    else:
        click.echo(f"error: {exc}", err=True)
    sys.exit(1)


def writes(command):
    """Run `command` with transactions that take the SQLite write lock from their start (see docstore.database)."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        with database.writing():
            return command(*args, **kwargs)

    return wrapper


def register(app: Flask) -> None:
    """Add Docstore's commands to `app.cli`."""

    @app.cli.command("init")
    @click.option("--admin-username", default="admin", show_default=True, help="Username of the first administrator.")
    @click.option(
        "--admin-password",
        envvar="DOCSTORE_ADMIN_PASSWORD",
        help="Password of the first administrator (or DOCSTORE_ADMIN_PASSWORD). "
        "Asked for when missing and a terminal is attached; otherwise generated and printed.",
    )
    @click.option(
        "--admin-name", default="Administrator", show_default=True, help="Full name of the first administrator."
    )
    @writes
    def init_command(admin_username: str, admin_password: str | None, admin_name: str) -> None:
        """Create or upgrade the database, and create the first administrator if there is no user yet."""
        upgrade(directory=current_app.extensions["migrate"].directory)
        click.echo(f"database: {current_app.config['DATABASE_URL']} is up to date")
        if accounts.list_users(accounts.UserFilter(), 1, 1).total:
            click.echo("users exist already: no administrator created")
            return
        generated = False
        if not admin_password:
            if sys.stdin.isatty():
                admin_password = click.prompt(
                    "Password of the first administrator", hide_input=True, confirmation_prompt=True
                )
            else:
                admin_password, generated = secrets.token_urlsafe(12), True
        try:
            accounts.create_user(
                audit.SYSTEM,
                username=admin_username,
                full_name=admin_name,
                password=admin_password,
                password_min_length=current_app.config["PASSWORD_MIN_LENGTH"],
                roles=["admin"],
                clearance=3,
            )
        except DocstoreError as exc:
            _fail(exc)
        click.echo(f"administrator created: {admin_username}" + (f" (password: {admin_password})" if generated else ""))

    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--name", "full_name", required=True, help="Full name.")
    @click.option("--role", "roles", multiple=True, type=click.Choice(sorted(ROLES)), help="A role (repeatable).")
    @click.option("--department", help="Code of the user's department.")
    @click.option("--clearance", type=click.IntRange(0, 3), default=0, show_default=True, help="Clearance level 0-3.")
    @click.option("--email", help="E-mail address.")
    @click.password_option(envvar="DOCSTORE_NEW_PASSWORD", help="Password (or DOCSTORE_NEW_PASSWORD).")
    @writes
    def create_user_command(username, full_name, roles, department, clearance, email, password) -> None:
        """Create a user."""
        department_id = None
        if department:
            found = organisation.find_department_by_code(department)
            if found is None:
                click.echo(f"error: no department with code {department}", err=True)
                sys.exit(1)
            department_id = found.id
        try:
            user = accounts.create_user(
                audit.SYSTEM,
                username=username,
                full_name=full_name,
                password=password,
                password_min_length=current_app.config["PASSWORD_MIN_LENGTH"],
                email=email,
                department_id=department_id,
                roles=roles,
                clearance=clearance,
            )
        except DocstoreError as exc:
            _fail(exc)
        click.echo(f"user created: {user.username} (id {user.id})")

    @app.cli.command("create-token")
    @click.argument("username")
    @click.option("--name", default="command line", show_default=True, help="What the token is for.")
    @click.option("--days", type=int, default=None, help="Lifetime in days (0: never expires; default TOKEN_DAYS).")
    @writes
    def create_token_command(username: str, name: str, days: int | None) -> None:
        """Create an API token for a user and print its secret (shown only once)."""
        user = accounts.find_user_by_username(username)
        if user is None:
            click.echo(f"error: no user {username}", err=True)
            sys.exit(1)
        try:
            _token, secret = accounts.create_token(
                audit.SYSTEM, user.id, name, current_app.config["TOKEN_DAYS"] if days is None else days
            )
        except DocstoreError as exc:
            _fail(exc)
        click.echo(secret)

    @app.cli.command("demo")
    @click.option(
        "--password",
        envvar="DOCSTORE_DEMO_PASSWORD",
        default="docstore-demo",
        show_default=True,
        help="Password of every demo user (or DOCSTORE_DEMO_PASSWORD).",
    )
    @writes
    def demo_command(password: str) -> None:
        """Load a demo office (departments, a user for every role, correspondents) unless it is loaded."""
        created = demo.load_demo(password, current_app.config["PASSWORD_MIN_LENGTH"])
        if created:
            config = current_app.config
            count = demo.load_demo_documents(
                extraction.file_store(config), registry.upload_policy(config), calendar=workdays.calendar_for(config)
            )
            click.echo(f"{count} demo documents registered")
            made = demo.load_demo_directives(
                extraction.file_store(config), registry.upload_policy(config), calendar=workdays.calendar_for(config)
            )
            click.echo(f"{made} demo directives drafted")
            filed = demo.load_demo_archive(
                extraction.file_store(config), registry.upload_policy(config), filing.rules_from(config)
            )
            click.echo(f"{filed} demo records filed in the archive")
            names = ", ".join(username for username, *_ in demo.USERS)
            click.echo(f"demo office loaded; users {names} sign in with password {password!r}")
        else:
            click.echo("demo office is already loaded")

    audit_group = click.Group("audit", help="The audit log.")
    app.cli.add_command(audit_group)

    @audit_group.command("verify")
    def verify_command() -> None:
        """Check the hash chain of the audit log; exit 1 and name the events if it was tampered with."""
        report = audit.verify_chain()
        if report.intact:
            click.echo(f"audit chain intact: {report.checked} events verified")
            return
        for _seq, text in report.problems:
            click.echo(f"TAMPERED: {text}", err=True)
        click.echo(f"audit chain BROKEN: {len(report.problems)} problem(s) in {report.checked} events", err=True)
        sys.exit(1)

    extract_group = click.Group("extract", help="Text extraction from attachments.")
    app.cli.add_command(extract_group)

    @extract_group.command("run")
    @click.option(
        "--forever", is_flag=True, help="Keep waiting for new work instead of stopping when the queue is empty."
    )
    @writes
    def extract_run_command(forever: bool) -> None:
        """Extract the text of every queued attachment (set EXTRACTION_WORKER off when this runs apart)."""
        store, limits = extraction.file_store(current_app.config), extraction.limits_from(current_app.config)
        if forever:
            extraction.run_forever(current_app._get_current_object(), store, limits, threading.Event())
            return
        total = attachments.pending_count()
        with click.progressbar(length=total, label="extracting text", show_pos=True) as bar:
            while extraction.process_one(store, limits):
                bar.update(1)
        click.echo(f"done: {total} attachment(s) processed")

    @extract_group.command("status")
    def extract_status_command() -> None:
        """Count attachments by extraction state."""
        for state, count in attachments.count_by_state().items():
            click.echo(f"{state}: {count}")

    _register_search_commands(app)
    _register_notification_commands(app)
    _register_routing_commands(app)
    _register_backup_commands(app)
    _register_archive_commands(app)

    translations_group = click.Group("translations", help="Interface translations.")
    app.cli.add_command(translations_group)

    @translations_group.command("compile")
    def compile_command() -> None:
        """Compile the .po catalogues into the .mo files the app reads."""
        for path in i18n.compile_catalogs():
            click.echo(f"compiled {path}")


def _wait_for_lease(writer: indexing.Writer, wait: float) -> None:
    deadline = time.monotonic() + wait
    while not writer.acquire():
        if time.monotonic() > deadline:
            click.echo("error: another process is writing the search index; try again later", err=True)
            sys.exit(1)
        time.sleep(0.5)


def _register_search_commands(app: Flask) -> None:
    search_group = click.Group("search", help="The full-text search index.")
    app.cli.add_command(search_group)

    @search_group.command("reindex")
    @click.option("--fresh", is_flag=True, help="Start over instead of resuming an interrupted rebuild.")
    @click.option("--wait", default=120.0, show_default=True, help="Seconds to wait for the writer's lease.")
    @click.option(
        "--procs",
        type=click.IntRange(1, 16),
        default=None,
        help="Processes to index with (default: the SEARCH_REBUILD_PROCS setting).",
    )
    def reindex_command(fresh: bool, wait: float, procs: int | None) -> None:
        """Rebuild the index from the database beside the live one, then swap it in (searches keep working)."""
        writer = indexing.rebuilding_writer(current_app, procs)
        _wait_for_lease(writer, wait)
        bar = None
        try:

            def report(progress: indexing.Progress) -> None:
                nonlocal bar
                if bar is None:
                    if progress.resumed:
                        click.echo("resuming an interrupted rebuild")
                    bar = click.progressbar(length=progress.total, label="indexing documents", show_pos=True)
                    bar.__enter__()
                bar.update(progress.done - bar.pos)

            progress = writer.rebuild(resume=not fresh, report=report)
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)
            writer.release()
        click.echo(f"done: {progress.done} document(s) indexed; {writer.index.doc_count()} in the index")
        writer.index.close()

    @search_group.command("check")
    @click.option("--repair/--no-repair", default=True, show_default=True, help="Fix what is found.")
    @click.option("--wait", default=120.0, show_default=True, help="Seconds to wait for the writer's lease.")
    def check_command(repair: bool, wait: float) -> None:
        """Compare the index with the database: missing, stale and orphan entries; repair them."""
        index = indexing.index_for(current_app)
        try:
            total = db.session.execute(select(func.count()).select_from(Document)).scalar_one()
            with click.progressbar(length=total, label="checking documents", show_pos=True) as bar:
                found = indexing.check(index, current_app.config, report=bar.update)
        except search.IndexUnavailable as exc:
            click.echo(f"the index cannot be read ({exc}): run `flask --app app search reindex`", err=True)
            sys.exit(1)
        click.echo(
            f"{found.documents} document(s), {found.indexed} index entr(y/ies): {len(found.missing)} missing, "
            f"{len(found.stale)} stale, {len(found.orphans)} orphan(s)"
        )
        for label, ids in (("missing", found.missing), ("stale", found.stale), ("orphan", found.orphans)):
            if ids:
                shown = ", ".join(str(i) for i in ids[:20]) + (" …" if len(ids) > 20 else "")
                click.echo(f"  {label}: {shown}")
        if found.clean:
            click.echo("the index matches the database")
            return
        if not repair:
            sys.exit(1)
        indexing.queue_ids(found.missing + found.stale + found.orphans)
        writer = indexing.writer_for(current_app)
        _wait_for_lease(writer, wait)
        try:
            done = writer.drain()
        finally:
            writer.release()
        click.echo(f"repaired: {done} queued change(s) applied")

    @search_group.command("run")
    def run_command() -> None:
        """Run the index writer until stopped (set SEARCH_WRITER off in the web processes when this runs)."""
        indexing.run_forever(current_app._get_current_object(), threading.Event())

    @search_group.command("status")
    def status_command() -> None:
        """Show the index's generation, size, queue and health."""
        index = indexing.index_for(current_app)
        state = indexing.status(index)
        for name, value in state.items():
            click.echo(f"{name}: {value}")


def _register_notification_commands(app: Flask) -> None:
    notifications_group = click.Group("notifications", help="Notifications and the e-mails that carry them.")
    app.cli.add_command(notifications_group)

    @notifications_group.command("send")
    @click.option("--once", is_flag=True, help="Send what is due and stop (for cron) instead of running until stopped.")
    def send_command(once: bool) -> None:
        """Send the queued notification e-mails (set MAIL_SENDER off in the web processes when this runs apart)."""
        if not current_app.config["SMTP_HOST"]:
            click.echo("error: SMTP_HOST is not set, so no e-mail is queued or sent", err=True)
            sys.exit(1)
        settings = mail.settings_from(current_app.config)
        if not once:
            mail.run_forever(
                current_app._get_current_object(), settings, threading.Event(), current_app.config["MAIL_POLL_SECONDS"]
            )
            return
        report = mail.send_due(settings)
        click.echo(f"{report.sent} e-mail(s) sent, {report.failed} attempt(s) failed")
        counts = mail.count_by_status()
        if counts.get("pending"):
            click.echo(f"{counts['pending']} e-mail(s) wait to be (re)tried")

    @notifications_group.command("status")
    def status_command() -> None:
        """Count the notification e-mails by status, and show the latest errors of those not sent."""
        counts = mail.count_by_status()
        for status in MAIL_STATUSES:
            click.echo(f"{status}: {counts.get(status, 0)}")
        for row in mail.recent_errors():
            click.echo(f"  notification {row.notification_id}, {row.status} after {row.attempts}: {row.last_error}")


def _register_routing_commands(app: Flask) -> None:
    routing_group = click.Group("routing", help="The routing of documents: reminders and escalations of tasks.")
    app.cli.add_command(routing_group)

    @routing_group.command("remind")
    @click.option("--once", is_flag=True, help="Send what is due and stop (for cron) instead of running until stopped.")
    def remind_command(once: bool) -> None:
        """Send the task reminders that are due: due soon, overdue, and escalations of overdue extra-urgent tasks.

        \b
        Without --once, look again every REMINDER_POLL_SECONDS until stopped. From cron, every few minutes:
            */10 * * * *  cd /srv/docstore && .venv/bin/flask --app app routing remind --once
        Set REMINDERS off in the web processes when this runs apart. Running both, or two of these at once, never
        sends a reminder twice: each is kept once per person by the database.
        """
        config = current_app.config
        if not once:
            routing.run_reminders(
                current_app._get_current_object(), threading.Event(), config["REMINDER_POLL_SECONDS"], _echo_reminders
            )
            return
        _echo_reminders(routing.send_reminders(workdays.calendar_for(config), config["REMINDER_DAYS_BEFORE"]))


def _echo_reminders(report: routing.ReminderReport) -> None:
    click.echo(
        f"{report.due_soon} due-soon reminder(s), {report.overdue} overdue reminder(s), "
        f"{report.escalation} escalation(s) sent"
    )


def _register_archive_commands(app: Flask) -> None:
    archive_group = click.Group("archive", help="The archive: records, their files and their integrity.")
    app.cli.add_command(archive_group)
    _register_archive_exchange_commands(archive_group)

    @archive_group.command("verify")
    @click.option(
        "--sample",
        type=click.IntRange(min=1),
        default=None,
        help="Check only the N files checked longest ago (never-checked first): successive runs go round the store.",
    )
    @click.option("--quiet", is_flag=True, help="Print nothing unless a file is missing or altered (for cron).")
    def archive_verify_command(sample: int | None, quiet: bool) -> None:
        """Re-hash the stored files and record each check; name every missing or altered file, and then exit 1.

        \b
        From cron, e.g. a tenth of a 100,000-file store every night (the whole store every ten nights):
            30 2 * * *  cd /srv/docstore && .venv/bin/flask --app app archive verify --sample 10000 --quiet
        """
        started = time.monotonic()

        def report(progress: fixity.Progress) -> None:
            click.echo(
                f"checked {progress.done:,} of {progress.total:,} file(s), {_megabytes(progress.bytes_read)} read",
                err=True,
            )

        store = extraction.file_store(current_app.config)
        run = fixity.verify(store, sample=sample, progress=None if quiet else report)
        found = fixity.problems(run.id) if run.missing or run.altered else []
        for problem in found:
            click.echo(f"{problem.outcome.upper()}: {problem.sha256}")
            for use in problem.uses:
                click.echo(f"  {_describe_use(use)}")
        if found or not quiet:
            scope = f" (a sample of {sample:,})" if sample else ""
            click.echo(
                f"fixity run {run.id}{scope}: {run.checked:,} file(s) checked, {run.intact:,} intact, "
                f"{run.missing:,} missing, {run.altered:,} altered; {_megabytes(run.bytes_read)} read "
                f"in {time.monotonic() - started:.1f} s"
            )
        if found:
            sys.exit(1)


def _megabytes(count: int) -> str:
    return f"{count / (1 << 20):,.1f} MB"


def _describe_use(use: fixity.Use) -> str:
    if use.kind == "attachment":
        return f"attachment “{use.filename}” of document {use.reference}"
    if use.kind == "record":
        return f"file “{use.filename}” of record {use.reference}"
    if use.kind == "template":
        return f"directive template “{use.reference}” ({use.filename})"
    return f"certificate of disposal {use.reference}"


def _register_backup_commands(app: Flask) -> None:

    backup_group = click.Group("backup", help="Backup and restore of the whole instance: database, files, settings.")
    app.cli.add_command(backup_group)

    def progress(text: str) -> None:
        click.echo(text, err=True)

    @backup_group.command("create")
    @click.argument("path", type=click.Path(dir_okay=False))
    @click.option("--replace", is_flag=True, help="Replace PATH if it exists.")
    def backup_create_command(path: str, replace: bool) -> None:
        """Write a backup of this instance to PATH: its database, stored files and settings, in one tar file.

        \b
        Name it .tar.gz (or .tgz) to compress it. The database is read in one transaction, so the instance keeps
        working meanwhile. The file holds every record and the secret key: keep it as safe as the instance.
        Restore it with `flask --app app backup restore PATH` into an empty instance.
        """
        config = current_app.config
        try:
            summary = backup.create_backup(
                path,
                engine=db.engine,
                metadata=db.metadata,
                store_root=config["FILES_DIR"],
                instance_path=current_app.instance_path,
                replace=replace,
                progress=progress,
            )
        except DocstoreError as exc:
            _fail(exc)
        settings = ", ".join(summary.settings) or "none"
        click.echo(
            f"backup written: {summary.path} ({summary.size / 1e6:.1f} MB): {len(summary.tables)} tables, "
            f"{summary.rows} rows, {summary.files} files ({summary.file_bytes / 1e6:.1f} MB), settings: {settings}; "
            f"database revision {summary.revision}; {summary.seconds:.1f} s"
        )
        if summary.damaged:
            click.echo(
                f"warning: {len(summary.damaged)} stored file(s) no longer match their checksum and will not be "
                "restored: run `flask --app app archive verify`",
                err=True,
            )
        if summary.vanished:
            click.echo(
                f"warning: {len(summary.vanished)} stored file(s) were removed while the backup ran and are not in it",
                err=True,
            )

    @backup_group.command("restore")
    @click.argument("path", type=click.Path(dir_okay=False))
    @click.option(
        "--settings/--no-settings",
        default=True,
        show_default=True,
        help="Also restore instance/config.py and the secret key into the instance folder.",
    )
    def backup_restore_command(path: str, settings: bool) -> None:
        """Restore the backup at PATH into this instance, which must be empty (a new database).

        \b
        Run it before the instance is started for anyone (not after `init`). The backup is checked in full first;
        then the database is created or upgraded, the rows restored in one transaction, the files put into the file
        store and the settings into the instance folder. If anything fails, no row is kept: the instance stays
        empty. The search index is rebuilt from the restored database afterwards.
        """
        config = current_app.config
        directory = current_app.extensions["migrate"].directory

        def migrate() -> None:
            with database.writing():
                upgrade(directory=directory)

        try:
            summary = backup.restore_backup(
                path,
                engine=db.engine,
                metadata=db.metadata,
                store_root=config["FILES_DIR"],
                instance_path=current_app.instance_path,
                migrations_dir=directory,
                migrate=migrate,
                settings=settings,
                progress=progress,
            )
        except DocstoreError as exc:
            _fail(exc)
        for note in summary.notes:
            click.echo(f"note: {note}", err=True)
        restored = ", ".join(summary.settings) or "none"
        click.echo(
            f"restored the backup of {summary.created_at} (database revision {summary.revision}): "
            f"{len(summary.tables)} tables, {summary.rows} rows, {summary.files} files "
            f"({summary.file_bytes / 1e6:.1f} MB), settings: {restored}; {summary.seconds:.1f} s"
        )
        chain = audit.verify_chain()
        db.session.rollback()
        if chain.intact:
            click.echo(f"audit chain intact: {chain.checked} events verified")
        else:
            for _seq, text in chain.problems:
                click.echo(f"TAMPERED: {text}", err=True)
            click.echo(f"warning: the restored audit chain is BROKEN ({len(chain.problems)} problem(s))", err=True)
        click.echo(
            "search index: a full rebuild is queued; the index writer does it (SEARCH_WRITER, or "
            "`flask --app app search run`), or run `flask --app app search reindex` now"
        )


def _register_archive_exchange_commands(archive_group: click.Group) -> None:
    """Add `archive export`, `archive import` and `archive validate` (BagIt packages of records)."""
    import tempfile
    from pathlib import Path

    import storage
    from docstore.archive import bagit, exchange, records

    def failed(exc: Exception) -> None:
        if isinstance(exc, DocstoreError):
            _fail(exc)
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)

    def progress(verb: str):
        return lambda done, total: click.echo(f"{verb} {done:,} of {total:,} record(s)", err=True)

    @archive_group.command("export")
    @click.option(
        "--class", "class_path", help="Code path of a class of the file plan (J001/WS), sub-classes included."
    )
    @click.option("--year", type=int, help="Year of the records (alone, or within --class).")
    @click.option("--record", "codes", multiple=True, help="Archival code of a record to export (repeatable).")
    @click.option(
        "--out",
        required=True,
        type=click.Path(path_type=Path),
        help="Where to write the package: a new folder, or a file ending in .tar (uncompressed).",
    )
    @click.option(
        "--organisation", help="Source-Organization of the package. Default: DIRECTIVE_ISSUER, else the office's name."
    )
    def archive_export_command(class_path, year, codes, out: Path, organisation) -> None:
        """Export records as a BagIt package (RFC 8493), validated once written; show progress on stderr.

        \b
        Examples:
            flask --app app archive export --class J001/WS --year 2026 --out ws-2026
            flask --app app archive export --record J001-WS·2026-D10-BGS-0001 --record J001-WS·2026-D10-BGS-0002 \\
                --out two-records.tar

        Disposed records travel as their residual entries: metadata, no files.
        """
        if not (class_path or year or codes) or (codes and (class_path or year)):
            click.echo("error: choose --class and/or --year, or one or more --record", err=True)
            sys.exit(1)
        if out.exists():
            click.echo(f"error: {out} exists already: choose a new name", err=True)
            sys.exit(1)
        selection = exchange.Selection(year=year)
        if class_path:
            node = exchange.find_class(class_path)
            if node is None:
                click.echo(f"error: the file plan has no class {class_path}", err=True)
                sys.exit(1)
            selection = exchange.Selection(class_id=node.id, year=year)
        if codes:
            found = {code: records.find_by_code(code) for code in codes}
            unknown = [code for code, record in found.items() if record is None]
            if unknown:
                click.echo(f"error: no record with the code {', '.join(unknown)}", err=True)
                sys.exit(1)
            selection = exchange.Selection(record_ids=tuple(record.id for record in found.values()))
        name = organisation or exchange.default_organisation(current_app.config["DIRECTIVE_ISSUER"])
        store = extraction.file_store(current_app.config)
        try:
            if out.suffix.lower() == ".tar":
                out.parent.mkdir(parents=True, exist_ok=True)
                with tempfile.TemporaryDirectory(dir=out.parent, prefix=".docstore-export-") as temp:
                    report = exchange.export_records(
                        selection, Path(temp) / out.stem, store, organisation=name, progress=progress("exported")
                    )
                    exchange.pack(report.path, out)
            else:
                report = exchange.export_records(
                    selection, out, store, organisation=name, progress=progress("exported")
                )
        except (DocstoreError, storage.StorageError, OSError) as exc:
            failed(exc)
        click.echo(
            f"package {out}: {report.records:,} record(s) ({report.residual:,} residual entr(y/ies) without files), "
            f"{report.files:,} payload file(s), {_megabytes(report.bytes)}; valid; {report.external_identifier}"
        )

    @archive_group.command("import")
    @click.argument("path", type=click.Path(exists=True, path_type=Path))
    @click.option("--user", "username", help="Username of the person importing, written in each record's history.")
    def archive_import_command(path: Path, username: str | None) -> None:
        """Import a package (a bag folder or a .tar) whole, or nothing: refused if invalid or if its records exist.

        \b
        Missing classes, registers, departments, document types and correspondents are created; people are found
        by username. The attachments are queued for text extraction and the documents for the search index.
        """
        ctx = audit.SYSTEM
        if username:
            user = accounts.find_user_by_username(username)
            if user is None:
                click.echo(f"error: no user {username}", err=True)
                sys.exit(1)
            ctx = audit.Context(user.id)
        store = extraction.file_store(current_app.config)
        try:
            report = exchange.import_package(path, store, ctx, progress=progress("imported"))
        except (DocstoreError, storage.StorageError, OSError) as exc:
            failed(exc)
        click.echo(
            f"imported {len(report.records):,} record(s), {report.documents:,} document(s), {report.files:,} file(s) "
            f"({_megabytes(report.bytes)}) from {report.external_identifier or path}"
        )
        for kind, names in sorted(report.created.items()):
            click.echo(f"  created {kind.replace('_', ' ')}: {', '.join(names)}")
        if report.unknown_users:
            click.echo(f"  unknown users, left empty (the metadata keeps them): {', '.join(report.unknown_users)}")

    @archive_group.command("validate")
    @click.argument("path", type=click.Path(exists=True, path_type=Path))
    def archive_validate_command(path: Path) -> None:
        """Check a package (a bag folder or a .tar): complete and valid; name every problem, and then exit 1."""
        try:
            with tempfile.TemporaryDirectory(prefix="docstore-validate-") as temp:
                bag = bagit.unpack_bag(path, Path(temp) / "bag") if path.is_file() else path
                report = bagit.validate_bag(bag)
        except bagit.BagInvalid as exc:
            report = bagit.ValidationReport(path, exc.problems)
        except OSError as exc:
            failed(exc)
        for problem in report.problems:
            click.echo(f"{problem.kind.upper()}: {problem}")
        if report.problems:
            state = "incomplete" if not report.complete else "invalid"
            click.echo(f"package {path} is {state}: {len(report.problems):,} problem(s)", err=True)
            sys.exit(1)
        info = report.info
        click.echo(
            f"package {path} is valid: {report.files:,} payload file(s), {_megabytes(report.bytes)}; "
            f"{', '.join(report.algorithms)}; bagged {bagit.info_value(info, 'Bagging-Date') or '?'} by "
            f"{bagit.info_value(info, 'Source-Organization') or '?'} ({bagit.info_value(info, 'External-Identifier')})"
        )
