"""Front-end packages installed by npm, served from node_modules (offices run on intranets with no CDN)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_from_directory

bp = Blueprint("assets", __name__)

NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"

#: Public name -> file inside node_modules. Only these files are served.
VENDOR_FILES = {
    "pico.min.css": "@picocss/pico/css/pico.min.css",
}


@bp.route("/vendor/<name>")
def vendor(name: str):
    relative = VENDOR_FILES.get(name)
    if relative is None:
        abort(404)
    path = NODE_MODULES / relative
    return send_from_directory(path.parent, path.name, max_age=86400)
