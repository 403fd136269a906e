"""search: the queue of documents to index and the index writer's lease

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 08:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "search_queue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("queued_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_queue")),
    )
    op.create_index(op.f("ix_search_queue_document_id"), "search_queue", ["document_id"], unique=False)
    writer = op.create_table(
        "search_writer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("rebuild_requested", sa.Boolean(), nullable=False),
        sa.Column("last_error", sa.String(length=1000), nullable=False),
        sa.Column("applied_total", sa.Integer(), nullable=False),
        sa.Column("last_applied_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_writer")),
    )
    op.bulk_insert(
        writer,
        [
            {
                "id": 1,
                "holder": "",
                "expires_at": 0.0,
                "rebuild_requested": False,
                "last_error": "",
                "applied_total": 0,
                "last_applied_at": 0.0,
            }
        ],
    )


def downgrade():
    op.drop_table("search_writer")
    op.drop_index(op.f("ix_search_queue_document_id"), table_name="search_queue")
    op.drop_table("search_queue")
