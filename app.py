"""Docstore's application factory: `flask --app app run` finds `create_app` here."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from docstore import cli, database, indexing, workdays  # noqa: F401  (indexing queues index changes on every flush)
from docstore.api import register_api
from docstore.archive import filing
from docstore.config import read_settings
from docstore.extensions import babel, csrf, db, login_manager, migrate
from docstore.web import register_web

ROOT = Path(__file__).resolve().parent


class DatabaseId(IntegerConverter):
    """`<int:...>` in routes: ids beyond the database's integer columns are simply not found (not an error)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def create_app(overrides: dict | None = None, instance_path: str | None = None) -> Flask:
    """Create the Docstore application; `overrides` replace settings (tests use it)."""
    app = Flask(
        __name__,
        instance_path=instance_path,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    settings = read_settings(app.instance_path)
    settings.update(overrides or {})
    workdays.rules_from(settings)  # a malformed working week or deadline stops the start, naming the setting
    filing.rules_from(settings)  # so does an archival code pattern without its item number
    app.config.update(settings)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=settings["DATABASE_URL"],
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        SESSION_COOKIE_SECURE=settings["SECURE_COOKIES"],
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings["SECURE_COOKIES"],
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        BABEL_TRANSLATION_DIRECTORIES=str(ROOT / "docstore" / "translations"),
        BABEL_DEFAULT_TIMEZONE=settings["OFFICE_TIMEZONE"],
        BABEL_DEFAULT_LOCALE=settings["DEFAULT_LOCALE"],
        # A request may carry up to ten attachments of the largest size accepted (each one is checked on its own).
        MAX_CONTENT_LENGTH=(settings["MAX_UPLOAD_MB"] * 10 + 1) << 20,
    )
    logging.getLogger("docstore").setLevel(settings["LOG_LEVEL"])
    if settings["PROXY_HOPS"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings["PROXY_HOPS"], x_proto=settings["PROXY_HOPS"])

    app.url_map.converters["int"] = DatabaseId
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    with app.app_context():
        database.configure_engine(db.engine, settings["SQLITE_BUSY_TIMEOUT_MS"])

    register_web(app, babel)
    register_api(app, csrf)
    cli.register(app)
    return app
