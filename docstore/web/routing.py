"""The routing of one document, on its page: receipt, proposal, instruction, tasks, circulation and closing.

Each view parses its form, calls one routing service in a writing transaction, commits and goes back (to `next`
when it is a path on this site, else to the document's routing panel). A form with mistakes comes back on the
document page with what the user typed and each mistake at its field (422); a step the document's state no longer
allows is refused with its reason in a message, and nothing changes. Someone who may not act gets 403, and a
document they may not open, or an unknown task, 404.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from docstore import database, registry, routing, workdays
from docstore.errors import DocstoreError, Forbidden, NotFound, ValidationFailed
from docstore.extensions import db
from docstore.web.auth import _safe_next
from docstore.web.common import audit_context, roles_required, show_errors, translate
from docstore.web.registers import document_page, visible_document
from docstore.web.routing_forms import (
    AcceptForm,
    CirculateForm,
    CloseForm,
    CommentForm,
    CompleteForm,
    DecideForm,
    ExtensionForm,
    ForwardForm,
    InstructForm,
    ProposeForm,
    ReadForm,
    ReopenForm,
    ReturnForm,
    parse_assignee,
    parse_assignees,
    parse_ids,
)

bp = Blueprint("routing", __name__)
CLERKS = registry.CLERK_ROLES


def _calendar() -> workdays.Calendar:
    return workdays.calendar_for(current_app.config)


def _back(document_id: int, message: str, category: str):
    """Say `message` and go to `next` when it is a path on this site, else to the document's routing panel.

    On the document's page the message is shown inside the routing panel, where the page lands: its category gets
    the prefix "routing-", which the page's own list of messages at the top leaves out.
    """
    target = request.form.get("next") or request.args.get("next")
    if target and _safe_next(target) == target:
        flash(message, category)
        return redirect(target)
    flash(message, f"routing-{category}")
    return redirect(url_for("registers.show", document_id=document_id, _anchor="routing"))


def _act(
    document,
    key: str,
    form: FlaskForm,
    step: Callable[[], object],
    done: Callable[[object], tuple[str, str]],
    field_of: Callable[[str], str] = lambda name: name,
):
    """Run `step` (one routing service) for the valid `form` and commit; say what `done` says about its outcome.

    `key` names the form on the panel, where it comes back with its mistakes, each at the field `field_of` names for
    the service's own field. Forbidden and NotFound go on to the error pages (403, 404); any other refusal is told
    in a message. Whatever fails is rolled back.
    """
    if form.validate_on_submit():
        try:
            with database.writing():
                outcome = step()
                db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            show_errors(form, ValidationFailed({field_of(name): message for name, message in exc.errors.items()}))
        except (Forbidden, NotFound):
            db.session.rollback()
            raise
        except DocstoreError as exc:
            db.session.rollback()
            return _back(document.id, translate(exc.msg), "error")
        else:
            return _back(document.id, *done(outcome))
    return document_page(document, {key: form}, 422)


def _success(message: str) -> Callable[[object], tuple[str, str]]:
    return lambda _outcome: (message, "success")


# --- the document: receipt, proposal, instruction, circulation, closing ----------------------------------------------


@bp.route("/documents/<int:document_id>/routing/accept", methods=["POST"])
@roles_required(*CLERKS)
def accept(document_id: int):
    document = visible_document(document_id)
    form = AcceptForm()
    kind = (form.kind.data or "action").strip()
    if kind == "information":
        done = _(
            "%(number)s is received for information: send it to its readers, then close it.", number=document.number
        )
    else:
        done = _("%(number)s is received for action: propose its handling.", number=document.number)

    def step():
        return routing.accept(audit_context(), document.id, kind)

    return _act(document, "routing-accept", form, step, _success(done))


@bp.route("/documents/<int:document_id>/routing/return", methods=["POST"])
@roles_required(*CLERKS)
def return_to_sender(document_id: int):
    document = visible_document(document_id)
    form = ReturnForm()

    def step():
        return routing.return_to_sender(audit_context(), document.id, form.reason.data)

    done = _("%(number)s is returned to the sender.", number=document.number)
    return _act(document, "routing-return", form, step, _success(done))


@bp.route("/documents/<int:document_id>/routing/propose", methods=["POST"])
@roles_required(*CLERKS)
def propose(document_id: int):
    document = visible_document(document_id)
    form = ProposeForm()

    def step():
        return routing.propose(
            audit_context(),
            document.id,
            form.leader_id.data,
            form.department_ids(),
            form.deadline.data,
            form.text.data,
            _calendar(),
        )

    done = _("The proposed handling is saved: the leader can instruct now.")
    return _act(document, "routing-propose", form, step, _success(done), form.field_of)


@bp.route("/documents/<int:document_id>/routing/instruct", methods=["POST"])
@login_required
def instruct(document_id: int):
    document = visible_document(document_id)
    form = InstructForm()
    lead = parse_assignee(form.lead.data)
    co_handlers = parse_assignees(form.co_handlers.data)

    def step():
        return routing.instruct(
            audit_context(), document.id, form.text.data, lead, co_handlers, form.deadline.data, _calendar()
        )

    tasks = (lead is not None) + len(co_handlers)
    if tasks:
        done = ngettext(
            "The instruction is recorded; %(num)s task is assigned.",
            "The instruction is recorded; %(num)s tasks are assigned.",
            tasks,
        )
    else:
        done = _("The instruction is recorded.")
    return _act(document, "routing-instruct", form, step, _success(done))


@bp.route("/documents/<int:document_id>/routing/circulate", methods=["POST"])
@roles_required(*CLERKS)
def circulate(document_id: int):
    document = visible_document(document_id)
    form = CirculateForm()

    def step():
        return routing.circulate(audit_context(), document.id, parse_ids(form.reader_ids.data), form.required.data)

    def done(added) -> tuple[str, str]:
        if not added:
            return _("Everyone chosen has it to read already."), "info"
        return ngettext("Sent to %(num)s reader.", "Sent to %(num)s readers.", len(added)), "success"

    return _act(document, "routing-circulate", form, step, done)


@bp.route("/documents/<int:document_id>/routing/read", methods=["POST"])
@login_required
def mark_read(document_id: int):
    document = visible_document(document_id)

    def step():
        return routing.mark_read(audit_context(), document.id)

    def done(changed) -> tuple[str, str]:
        if changed:
            return _("Marked as read."), "success"
        return _("You had marked it as read already."), "info"

    return _act(document, "routing-read", ReadForm(), step, done)


@bp.route("/documents/<int:document_id>/routing/close", methods=["POST"])
@roles_required(*CLERKS)
def close(document_id: int):
    document = visible_document(document_id)
    form = CloseForm()

    def step():
        reply_id = routing.find_reply(form.reply_number.data, current_user)
        return routing.close(audit_context(), document.id, form.result.data, form.reason.data, reply_id)

    def field_of(name: str) -> str:
        return "reply_number" if name == "reply_document_id" else name  # the form names the reply by its number

    done = _("%(number)s is closed.", number=document.number)
    return _act(document, "routing-close", form, step, _success(done), field_of)


@bp.route("/documents/<int:document_id>/routing/reopen", methods=["POST"])
@roles_required(*CLERKS)
def reopen(document_id: int):
    document = visible_document(document_id)
    form = ReopenForm()

    def step():
        return routing.reopen(audit_context(), document.id, form.reason.data)

    done = _("%(number)s is reopened.", number=document.number)
    return _act(document, "routing-reopen", form, step, _success(done))


# --- tasks: comments, more time, forwarding, results -----------------------------------------------------------------


def _task_document(task_id: int):
    """Return the document of a task, if the current user may open it (404 otherwise)."""
    return visible_document(routing.task_document_id(task_id))


@bp.route("/tasks/<int:task_id>/comment", methods=["POST"])
@login_required
def comment(task_id: int):
    document = _task_document(task_id)
    form = CommentForm()

    def step():
        return routing.comment(audit_context(), task_id, form.text.data, _calendar())

    return _act(document, f"task-{task_id}-comment", form, step, _success(_("Your comment is added.")))


@bp.route("/tasks/<int:task_id>/extension", methods=["POST"])
@login_required
def request_extension(task_id: int):
    document = _task_document(task_id)
    form = ExtensionForm()

    def step():
        return routing.request_extension(
            audit_context(), task_id, form.new_deadline.data, form.reason.data, _calendar()
        )

    done = _("Your request for more time is sent to the office.")
    return _act(document, f"task-{task_id}-extension", form, step, _success(done))


@bp.route("/extensions/<int:request_id>/decide", methods=["POST"])
@roles_required(*CLERKS)
def decide_extension(request_id: int):
    document = visible_document(routing.extension_document_id(request_id))
    form = DecideForm()

    def step():
        return routing.decide_extension(audit_context(), request_id, form.decision.data == "approve", form.note.data)

    def done(decided) -> tuple[str, str]:
        if decided.state == "approved":
            return _("More time is given, until %(day)s.", day=format_date(decided.new_deadline, "medium")), "success"
        return _("The request for more time is refused."), "success"

    return _act(document, f"extension-{request_id}-decide", form, step, done)


@bp.route("/tasks/<int:task_id>/forward", methods=["POST"])
@login_required
def forward(task_id: int):
    document = _task_document(task_id)
    form = ForwardForm()

    def step():
        return routing.forward_task(audit_context(), task_id, form.user_id.data, _calendar())

    def done(new_task) -> tuple[str, str]:
        return _("The task is passed on to %(name)s.", name=new_task.user.full_name), "success"

    return _act(document, f"task-{task_id}-forward", form, step, done)


@bp.route("/tasks/<int:task_id>/complete", methods=["POST"])
@login_required
def complete(task_id: int):
    document = _task_document(task_id)
    form = CompleteForm()

    def step():
        return routing.complete_task(audit_context(), task_id, form.result.data, _calendar())

    def done(task) -> tuple[str, str]:
        if task.role == "lead":
            return _("Your result is recorded: the handling is finished, the office closes it."), "success"
        return _("Your result is recorded; the lead handler sees it."), "success"

    return _act(document, f"task-{task_id}-complete", form, step, done)
