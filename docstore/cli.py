"""The `flask --app app ...` commands: init, create-user, create-token, demo, audit verify, translations."""

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
