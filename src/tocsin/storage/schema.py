"""Every table tocsin stores, on one ``MetaData``, in types both SQLite and PostgreSQL accept.

The constraints carry the guarantees: ``UNIQUE (instigator_id, run_key)`` de-duplicates runs,
the event log's autoincrementing ``id`` is the global, increasing storage id.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

#: The Alembic revision this schema corresponds to. A new migration bumps it.
HEAD_REVISION = "0001"

metadata = sa.MetaData()

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL wants a BIGINT identity.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A tz-aware UTC datetime on the way in and out, whatever the dialect stores."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        # SQLite stores text; a naive UTC value keeps the text sortable.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(255), nullable=False, unique=True),
    sa.Column("job_name", sa.Text, nullable=False),
    sa.Column("status", sa.String(63), nullable=False),
    sa.Column("instigator_id", sa.String(512)),
    sa.Column("run_key", sa.String(512)),
    sa.Column("partition", sa.Text),
    sa.Column("run_body", sa.Text, nullable=False),
    sa.Column("create_timestamp", UtcDateTime, nullable=False),
    sa.Column("update_timestamp", UtcDateTime, nullable=False),
    sa.Column("start_time", sa.Float),
    sa.Column("end_time", sa.Float),
    sa.UniqueConstraint("instigator_id", "run_key", name="uq_runs_instigator_run_key"),
    sa.Index("ix_runs_job_name_id", "job_name", "id"),
    sa.Index("ix_runs_status_id", "status", "id"),
    sa.Index("ix_runs_create_timestamp", "create_timestamp"),
    sa.Index("ix_runs_update_timestamp", "update_timestamp"),
)

run_tags = sa.Table(
    "run_tags",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "run_id", sa.String(255), sa.ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("value", sa.Text, nullable=False),
    sa.UniqueConstraint("run_id", "key", name="uq_run_tags_run_id_key"),
    sa.Index("ix_run_tags_key_value", "key", "value"),
)

event_logs = sa.Table(
    "event_logs",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(255), nullable=False),
    sa.Column("event_type", sa.String(63)),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("timestamp", sa.Float, nullable=False),
    sa.Column("step_key", sa.Text),
    sa.Column("asset_key", sa.Text),
    sa.Column("partition", sa.Text),
    sa.Index("ix_event_logs_run_id_id", "run_id", "id"),
    sa.Index("ix_event_logs_event_type_id", "event_type", "id"),
    sa.Index(
        "ix_event_logs_asset_key_type_partition_id", "asset_key", "event_type", "partition", "id"
    ),
)

asset_keys = sa.Table(
    "asset_keys",
    metadata,
    sa.Column("asset_key", sa.String(512), primary_key=True),
    sa.Column("last_materialization_id", sa.BigInteger),
    sa.Column("last_materialization_timestamp", sa.Float),
    sa.Column("last_run_id", sa.String(255)),
    sa.Column("last_observation_id", sa.BigInteger),
    sa.Column("wipe_timestamp", sa.Float),
)

asset_partitions = sa.Table(
    "asset_partitions",
    metadata,
    sa.Column("asset_key", sa.String(512), primary_key=True),
    sa.Column("partition", sa.String(512), primary_key=True),
    sa.Column("last_materialization_id", sa.BigInteger, nullable=False),
)

dynamic_partitions = sa.Table(
    "dynamic_partitions",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("partitions_def_name", sa.String(255), nullable=False),
    sa.Column("partition", sa.String(512), nullable=False),
    sa.UniqueConstraint("partitions_def_name", "partition", name="uq_dynamic_partitions"),
)

instigators = sa.Table(
    "instigators",
    metadata,
    sa.Column("origin_id", sa.String(512), primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("instigator_type", sa.String(63), nullable=False),
    sa.Column("status", sa.String(63), nullable=False),
    sa.Column("body", Json, nullable=False),
    sa.Column("update_timestamp", UtcDateTime, nullable=False),
)

ticks = sa.Table(
    "ticks",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("instigator_origin_id", sa.String(512), nullable=False),
    sa.Column("instigator_name", sa.String(255), nullable=False),
    sa.Column("instigator_type", sa.String(63), nullable=False),
    sa.Column("status", sa.String(63), nullable=False),
    sa.Column("timestamp", UtcDateTime, nullable=False),
    sa.Column("body", Json, nullable=False),
    sa.Index("ix_ticks_origin_timestamp", "instigator_origin_id", "timestamp"),
    sa.Index("ix_ticks_status_timestamp", "status", "timestamp"),
)

leases = sa.Table(
    "leases",
    metadata,
    sa.Column("name", sa.String(512), primary_key=True),
    sa.Column("owner", sa.String(255), nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
)

daemon_heartbeats = sa.Table(
    "daemon_heartbeats",
    metadata,
    sa.Column("daemon_type", sa.String(255), primary_key=True),
    sa.Column("daemon_id", sa.String(255)),
    sa.Column("timestamp", UtcDateTime, nullable=False),
    sa.Column("body", Json, nullable=False),
)

kvs = sa.Table(
    "kvs",
    metadata,
    sa.Column("key", sa.String(512), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
