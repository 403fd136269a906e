"""department head: the user told when one of the department's extra-urgent tasks is overdue

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 09:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its reference in one ALTER. Batch mode would copy the table instead, and dropping
        # the old copy fails while the users' rows refer to it (foreign keys are on, and cannot be turned off inside
        # the migration's transaction).
        op.execute(
            'ALTER TABLE department ADD COLUMN head_id INTEGER CONSTRAINT fk_department_head_id_user REFERENCES "user" (id)'
        )
        return
    with op.batch_alter_table("department", schema=None) as batch_op:
        batch_op.add_column(sa.Column("head_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_department_head_id_user"), "user", ["head_id"], ["id"])


def downgrade():
    # SQLite (3.35 and later) drops a column that refers to another table in place; PostgreSQL drops its constraint.
    op.drop_column("department", "head_id")
