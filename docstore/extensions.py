"""Flask extensions, created unbound and bound to the app in `app.create_app`."""

from flask import current_app
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Base of every model; constraint names are stable so migrations match on SQLite and PostgreSQL."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


def mail_enabled() -> bool:
    """Return True when notifications are also sent by e-mail (SMTP_HOST is set); for services, which lack Flask."""
    return bool(current_app.config.get("SMTP_HOST"))


def office_timezone() -> str:
    """Return the office's time zone (OFFICE_TIMEZONE), in which "today" is counted; for services, which lack Flask."""
    return current_app.config.get("OFFICE_TIMEZONE", "UTC")
