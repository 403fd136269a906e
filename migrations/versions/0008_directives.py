"""directives: drafts, approvals, recipients and deliveries, uploaded templates

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 17:15:31

"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "directive_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("placeholders", sa.JSON(), nullable=False),
        sa.Column("foreign_markers", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["user.id"], name=op.f("fk_directive_template_uploaded_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directive_template")),
    )
    op.create_table(
        "directive",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("issuer", sa.String(length=200), nullable=False),
        sa.Column("issuer_mark", sa.String(length=500), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=True),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("classification", sa.Integer(), nullable=False),
        sa.Column("signer_id", sa.Integer(), nullable=True),
        sa.Column("signer_title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sections", sa.JSON(), nullable=False),
        sa.Column("attachments_note", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("their_reference", sa.String(length=120), nullable=False),
        sa.Column("place", sa.String(length=100), nullable=False),
        sa.Column("feedback_requested", sa.Boolean(), nullable=False),
        sa.Column("feedback_deadline", sa.Date(), nullable=True),
        sa.Column("reply_to_id", sa.Integer(), nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("signed_version", sa.Integer(), nullable=True),
        sa.Column("signed_by_id", sa.Integer(), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("sign_opinion", sa.Text(), nullable=False),
        sa.Column("return_reason", sa.String(length=1000), nullable=False),
        sa.Column("drafted_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('draft', 'review', 'countersign', 'signoff', 'recheck', 'registered', 'issued', 'withdrawn')",
            name=op.f("ck_directive_state_known"),
        ),
        sa.CheckConstraint("classification BETWEEN 0 AND 3", name=op.f("ck_directive_classification_range")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_directive_department_id_department")
        ),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], name=op.f("fk_directive_document_id_document")),
        sa.ForeignKeyConstraint(["drafted_by_id"], ["user.id"], name=op.f("fk_directive_drafted_by_id_user")),
        sa.ForeignKeyConstraint(["reply_to_id"], ["document.id"], name=op.f("fk_directive_reply_to_id_document")),
        sa.ForeignKeyConstraint(["series_id"], ["series.id"], name=op.f("fk_directive_series_id_series")),
        sa.ForeignKeyConstraint(["signed_by_id"], ["user.id"], name=op.f("fk_directive_signed_by_id_user")),
        sa.ForeignKeyConstraint(["signer_id"], ["user.id"], name=op.f("fk_directive_signer_id_user")),
        sa.ForeignKeyConstraint(
            ["template_id"], ["directive_template.id"], name=op.f("fk_directive_template_id_directive_template")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directive")),
        sa.UniqueConstraint("document_id", name=op.f("uq_directive_document_id")),
    )
    with op.batch_alter_table("directive", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_directive_department_id"), ["department_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_directive_reply_to_id"), ["reply_to_id"], unique=False)
        batch_op.create_index("ix_directive_state_updated", ["state", "updated_at"], unique=False)

    op.create_table(
        "countersign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("directive_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("opinion", sa.Text(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('pending', 'agreed', 'declined')", name=op.f("ck_countersign_state_known")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["user.id"], name=op.f("fk_countersign_decided_by_id_user")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_countersign_department_id_department")
        ),
        sa.ForeignKeyConstraint(["directive_id"], ["directive.id"], name=op.f("fk_countersign_directive_id_directive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_countersign")),
        sa.UniqueConstraint("directive_id", "department_id", name="uq_countersign_department"),
    )
    with op.batch_alter_table("countersign", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_countersign_department_id"), ["department_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_countersign_directive_id"), ["directive_id"], unique=False)

    op.create_table(
        "directive_recipient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("directive_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("correspondent_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("incoming_document_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("dispatched_on", sa.Date(), nullable=True),
        sa.Column("dispatched_by_id", sa.Integer(), nullable=True),
        sa.Column("reply_document_id", sa.Integer(), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("chased_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('main', 'copy')", name=op.f("ck_directive_recipient_role_known")),
        sa.CheckConstraint(
            "(correspondent_id IS NULL) <> (department_id IS NULL)", name=op.f("ck_directive_recipient_one_target")
        ),
        sa.ForeignKeyConstraint(
            ["correspondent_id"],
            ["correspondent.id"],
            name=op.f("fk_directive_recipient_correspondent_id_correspondent"),
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_directive_recipient_department_id_department")
        ),
        sa.ForeignKeyConstraint(
            ["directive_id"], ["directive.id"], name=op.f("fk_directive_recipient_directive_id_directive")
        ),
        sa.ForeignKeyConstraint(
            ["dispatched_by_id"], ["user.id"], name=op.f("fk_directive_recipient_dispatched_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["incoming_document_id"], ["document.id"], name=op.f("fk_directive_recipient_incoming_document_id_document")
        ),
        sa.ForeignKeyConstraint(
            ["reply_document_id"], ["document.id"], name=op.f("fk_directive_recipient_reply_document_id_document")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directive_recipient")),
    )
    with op.batch_alter_table("directive_recipient", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_directive_recipient_directive_id"), ["directive_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_directive_recipient_incoming_document_id"), ["incoming_document_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_directive_recipient_reply_document_id"), ["reply_document_id"], unique=False
        )

    op.create_table(
        "directive_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("directive_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("acting_for_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["acting_for_id"], ["user.id"], name=op.f("fk_directive_step_acting_for_id_user")),
        sa.ForeignKeyConstraint(["actor_id"], ["user.id"], name=op.f("fk_directive_step_actor_id_user")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_directive_step_department_id_department")
        ),
        sa.ForeignKeyConstraint(
            ["directive_id"], ["directive.id"], name=op.f("fk_directive_step_directive_id_directive")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directive_step")),
    )
    with op.batch_alter_table("directive_step", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_directive_step_directive_id"), ["directive_id"], unique=False)


def downgrade():
    with op.batch_alter_table("directive_step", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directive_step_directive_id"))

    op.drop_table("directive_step")
    with op.batch_alter_table("directive_recipient", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directive_recipient_reply_document_id"))
        batch_op.drop_index(batch_op.f("ix_directive_recipient_incoming_document_id"))
        batch_op.drop_index(batch_op.f("ix_directive_recipient_directive_id"))

    op.drop_table("directive_recipient")
    with op.batch_alter_table("countersign", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_countersign_directive_id"))
        batch_op.drop_index(batch_op.f("ix_countersign_department_id"))

    op.drop_table("countersign")
    with op.batch_alter_table("directive", schema=None) as batch_op:
        batch_op.drop_index("ix_directive_state_updated")
        batch_op.drop_index(batch_op.f("ix_directive_reply_to_id"))
        batch_op.drop_index(batch_op.f("ix_directive_department_id"))

    op.drop_table("directive")
    op.drop_table("directive_template")
