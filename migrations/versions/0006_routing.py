"""routing: an incoming document's handling, its steps, instructions, tasks, comments, extensions and readers

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 09:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "routing_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("proposal", sa.Text(), nullable=False),
        sa.Column("proposed_leader_id", sa.Integer(), nullable=True),
        sa.Column("proposed_department_ids", sa.JSON(), nullable=False),
        sa.Column("proposed_deadline", sa.Date(), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("close_reason", sa.String(length=500), nullable=False),
        sa.Column("reply_document_id", sa.Integer(), nullable=True),
        sa.Column("return_reason", sa.String(length=500), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('action', 'information')", name=op.f("ck_routing_item_kind_known")),
        sa.CheckConstraint(
            "state IN ('pending', 'returned', 'accepted', 'proposed', 'handling', 'handled', 'closed')",
            name=op.f("ck_routing_item_state_known"),
        ),
        sa.ForeignKeyConstraint(["closed_by_id"], ["user.id"], name=op.f("fk_routing_item_closed_by_id_user")),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], name=op.f("fk_routing_item_document_id_document")),
        sa.ForeignKeyConstraint(
            ["proposed_leader_id"], ["user.id"], name=op.f("fk_routing_item_proposed_leader_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["reply_document_id"], ["document.id"], name=op.f("fk_routing_item_reply_document_id_document")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_item")),
        sa.UniqueConstraint("document_id", name=op.f("uq_routing_item_document_id")),
    )
    op.create_index("ix_routing_item_state_deadline", "routing_item", ["state", "deadline"], unique=False)
    op.create_table(
        "routing_instruction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("acting_for_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("instructed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["acting_for_id"], ["user.id"], name=op.f("fk_routing_instruction_acting_for_id_user")),
        sa.ForeignKeyConstraint(["author_id"], ["user.id"], name=op.f("fk_routing_instruction_author_id_user")),
        sa.ForeignKeyConstraint(
            ["item_id"], ["routing_item.id"], name=op.f("fk_routing_instruction_item_id_routing_item")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_instruction")),
    )
    op.create_index(op.f("ix_routing_instruction_item_id"), "routing_instruction", ["item_id"], unique=False)
    op.create_table(
        "routing_reader",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["routing_item.id"], name=op.f("fk_routing_reader_item_id_routing_item")),
        sa.ForeignKeyConstraint(["sent_by_id"], ["user.id"], name=op.f("fk_routing_reader_sent_by_id_user")),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_routing_reader_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_reader")),
        sa.UniqueConstraint("item_id", "user_id", name=op.f("uq_routing_reader_item_id")),
    )
    op.create_index(op.f("ix_routing_reader_user_id"), "routing_reader", ["user_id"], unique=False)
    op.create_table(
        "routing_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("acting_for_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["acting_for_id"], ["user.id"], name=op.f("fk_routing_step_acting_for_id_user")),
        sa.ForeignKeyConstraint(["actor_id"], ["user.id"], name=op.f("fk_routing_step_actor_id_user")),
        sa.ForeignKeyConstraint(["item_id"], ["routing_item.id"], name=op.f("fk_routing_step_item_id_routing_item")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_step")),
    )
    op.create_index(op.f("ix_routing_step_item_id"), "routing_step", ["item_id"], unique=False)
    op.create_table(
        "routing_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("instruction_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_by_id", sa.Integer(), nullable=True),
        sa.Column("acting_for_id", sa.Integer(), nullable=True),
        sa.Column("forwarded_from_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("role IN ('lead', 'co')", name=op.f("ck_routing_task_role_known")),
        sa.CheckConstraint(
            "state IN ('open', 'done', 'forwarded', 'cancelled')", name=op.f("ck_routing_task_state_known")
        ),
        sa.CheckConstraint(
            "user_id IS NOT NULL OR department_id IS NOT NULL", name=op.f("ck_routing_task_has_assignee")
        ),
        sa.ForeignKeyConstraint(["acting_for_id"], ["user.id"], name=op.f("fk_routing_task_acting_for_id_user")),
        sa.ForeignKeyConstraint(["completed_by_id"], ["user.id"], name=op.f("fk_routing_task_completed_by_id_user")),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"], name=op.f("fk_routing_task_created_by_id_user")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_routing_task_department_id_department")
        ),
        sa.ForeignKeyConstraint(
            ["forwarded_from_id"], ["routing_task.id"], name=op.f("fk_routing_task_forwarded_from_id_routing_task")
        ),
        sa.ForeignKeyConstraint(
            ["instruction_id"],
            ["routing_instruction.id"],
            name=op.f("fk_routing_task_instruction_id_routing_instruction"),
        ),
        sa.ForeignKeyConstraint(["item_id"], ["routing_item.id"], name=op.f("fk_routing_task_item_id_routing_item")),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_routing_task_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_task")),
    )
    op.create_index(op.f("ix_routing_task_department_id"), "routing_task", ["department_id"], unique=False)
    op.create_index(op.f("ix_routing_task_item_id"), "routing_task", ["item_id"], unique=False)
    op.create_index("ix_routing_task_state_deadline", "routing_task", ["state", "deadline"], unique=False)
    op.create_index(op.f("ix_routing_task_user_id"), "routing_task", ["user_id"], unique=False)
    op.create_index(
        "uq_routing_task_open_lead",
        "routing_task",
        ["item_id"],
        unique=True,
        sqlite_where=sa.text("role = 'lead' AND state = 'open'"),
        postgresql_where=sa.text("role = 'lead' AND state = 'open'"),
    )
    op.create_table(
        "routing_extension_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("acting_for_id", sa.Integer(), nullable=True),
        sa.Column("new_deadline", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'approved', 'refused')", name=op.f("ck_routing_extension_request_state_known")
        ),
        sa.ForeignKeyConstraint(
            ["acting_for_id"], ["user.id"], name=op.f("fk_routing_extension_request_acting_for_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["user.id"], name=op.f("fk_routing_extension_request_decided_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["user.id"], name=op.f("fk_routing_extension_request_requested_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["routing_task.id"], name=op.f("fk_routing_extension_request_task_id_routing_task")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_extension_request")),
    )
    op.create_index(
        op.f("ix_routing_extension_request_task_id"), "routing_extension_request", ["task_id"], unique=False
    )
    op.create_index(
        "uq_routing_extension_request_pending",
        "routing_extension_request",
        ["task_id"],
        unique=True,
        sqlite_where=sa.text("state = 'pending'"),
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_table(
        "routing_task_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("acting_for_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["acting_for_id"], ["user.id"], name=op.f("fk_routing_task_comment_acting_for_id_user")
        ),
        sa.ForeignKeyConstraint(["author_id"], ["user.id"], name=op.f("fk_routing_task_comment_author_id_user")),
        sa.ForeignKeyConstraint(
            ["task_id"], ["routing_task.id"], name=op.f("fk_routing_task_comment_task_id_routing_task")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_task_comment")),
    )
    op.create_index(op.f("ix_routing_task_comment_task_id"), "routing_task_comment", ["task_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_routing_task_comment_task_id"), table_name="routing_task_comment")
    op.drop_table("routing_task_comment")
    op.drop_index("uq_routing_extension_request_pending", table_name="routing_extension_request")
    op.drop_index(op.f("ix_routing_extension_request_task_id"), table_name="routing_extension_request")
    op.drop_table("routing_extension_request")
    op.drop_index("uq_routing_task_open_lead", table_name="routing_task")
    op.drop_index(op.f("ix_routing_task_user_id"), table_name="routing_task")
    op.drop_index("ix_routing_task_state_deadline", table_name="routing_task")
    op.drop_index(op.f("ix_routing_task_item_id"), table_name="routing_task")
    op.drop_index(op.f("ix_routing_task_department_id"), table_name="routing_task")
    op.drop_table("routing_task")
    op.drop_index(op.f("ix_routing_step_item_id"), table_name="routing_step")
    op.drop_table("routing_step")
    op.drop_index(op.f("ix_routing_reader_user_id"), table_name="routing_reader")
    op.drop_table("routing_reader")
    op.drop_index(op.f("ix_routing_instruction_item_id"), table_name="routing_instruction")
    op.drop_table("routing_instruction")
    op.drop_index("ix_routing_item_state_deadline", table_name="routing_item")
    op.drop_table("routing_item")
