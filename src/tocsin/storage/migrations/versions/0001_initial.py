"""Initial schema: runs and tags, event log and asset indexes, ticks, leases, settings.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "asset_keys",
        sa.Column("asset_key", sa.String(length=512), nullable=False),
        sa.Column("last_materialization_id", sa.BigInteger(), nullable=True),
        sa.Column("last_materialization_timestamp", sa.Float(), nullable=True),
        sa.Column("last_run_id", sa.String(length=255), nullable=True),
        sa.Column("last_observation_id", sa.BigInteger(), nullable=True),
        sa.Column("wipe_timestamp", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("asset_key"),
    )
    op.create_table(
        "asset_partitions",
        sa.Column("asset_key", sa.String(length=512), nullable=False),
        sa.Column("partition", sa.String(length=512), nullable=False),
        sa.Column("last_materialization_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("asset_key", "partition"),
    )
    op.create_table(
        "daemon_heartbeats",
        sa.Column("daemon_type", sa.String(length=255), nullable=False),
        sa.Column("daemon_id", sa.String(length=255), nullable=True),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "body",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("daemon_type"),
    )
    op.create_table(
        "dynamic_partitions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("partitions_def_name", sa.String(length=255), nullable=False),
        sa.Column("partition", sa.String(length=512), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("partitions_def_name", "partition", name="uq_dynamic_partitions"),
    )
    op.create_table(
        "event_logs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("run_id", sa.String(length=255), nullable=False),
        sa.Column("event_type", sa.String(length=63), nullable=True),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("timestamp", sa.Float(), nullable=False),
        sa.Column("step_key", sa.Text(), nullable=True),
        sa.Column("asset_key", sa.Text(), nullable=True),
        sa.Column("partition", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("event_logs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_event_logs_asset_key_type_partition_id",
            ["asset_key", "event_type", "partition", "id"],
            unique=False,
        )
        batch_op.create_index("ix_event_logs_event_type_id", ["event_type", "id"], unique=False)
        batch_op.create_index("ix_event_logs_run_id_id", ["run_id", "id"], unique=False)

    op.create_table(
        "instigators",
        sa.Column("origin_id", sa.String(length=512), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("instigator_type", sa.String(length=63), nullable=False),
        sa.Column("status", sa.String(length=63), nullable=False),
        sa.Column(
            "body",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("update_timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("origin_id"),
    )
    op.create_table(
        "kvs",
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "runs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("run_id", sa.String(length=255), nullable=False),
        sa.Column("job_name", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=63), nullable=False),
        sa.Column("instigator_id", sa.String(length=512), nullable=True),
        sa.Column("run_key", sa.String(length=512), nullable=True),
        sa.Column("partition", sa.Text(), nullable=True),
        sa.Column("run_body", sa.Text(), nullable=False),
        sa.Column("create_timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("start_time", sa.Float(), nullable=True),
        sa.Column("end_time", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instigator_id", "run_key", name="uq_runs_instigator_run_key"),
        sa.UniqueConstraint("run_id"),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index("ix_runs_create_timestamp", ["create_timestamp"], unique=False)
        batch_op.create_index("ix_runs_job_name_id", ["job_name", "id"], unique=False)
        batch_op.create_index("ix_runs_status_id", ["status", "id"], unique=False)
        batch_op.create_index("ix_runs_update_timestamp", ["update_timestamp"], unique=False)

    op.create_table(
        "ticks",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("instigator_origin_id", sa.String(length=512), nullable=False),
        sa.Column("instigator_name", sa.String(length=255), nullable=False),
        sa.Column("instigator_type", sa.String(length=63), nullable=False),
        sa.Column("status", sa.String(length=63), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "body",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ticks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ticks_origin_timestamp", ["instigator_origin_id", "timestamp"], unique=False
        )
        batch_op.create_index("ix_ticks_status_timestamp", ["status", "timestamp"], unique=False)

    op.create_table(
        "run_tags",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("run_id", sa.String(length=255), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "key", name="uq_run_tags_run_id_key"),
    )
    with op.batch_alter_table("run_tags", schema=None) as batch_op:
        batch_op.create_index("ix_run_tags_key_value", ["key", "value"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("run_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_run_tags_key_value")

    op.drop_table("run_tags")
    with op.batch_alter_table("ticks", schema=None) as batch_op:
        batch_op.drop_index("ix_ticks_status_timestamp")
        batch_op.drop_index("ix_ticks_origin_timestamp")

    op.drop_table("ticks")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index("ix_runs_update_timestamp")
        batch_op.drop_index("ix_runs_status_id")
        batch_op.drop_index("ix_runs_job_name_id")
        batch_op.drop_index("ix_runs_create_timestamp")

    op.drop_table("runs")
    op.drop_table("leases")
    op.drop_table("kvs")
    op.drop_table("instigators")
    with op.batch_alter_table("event_logs", schema=None) as batch_op:
        batch_op.drop_index("ix_event_logs_run_id_id")
        batch_op.drop_index("ix_event_logs_event_type_id")
        batch_op.drop_index("ix_event_logs_asset_key_type_partition_id")

    op.drop_table("event_logs")
    op.drop_table("dynamic_partitions")
    op.drop_table("daemon_heartbeats")
    op.drop_table("asset_partitions")
    op.drop_table("asset_keys")
