"""PostgreSQL engines: a URL from tocsin.yaml's parts, a modest pool, pre-ping."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

import sqlalchemy as sa


def postgres_url(
    *,
    hostname: str,
    username: str,
    password: str | None = None,
    db_name: str,
    port: int = 5432,
    params: Mapping[str, Any] | None = None,
) -> str:
    """A ``postgresql+psycopg://`` URL from its parts (the password is quoted)."""
    auth = quote(username, safe="")
    if password:
        auth += ":" + quote(password, safe="")
    query = f"?{urlencode(dict(params))}" if params else ""
    return f"postgresql+psycopg://{auth}@{hostname}:{port}/{quote(db_name, safe='')}{query}"


def normalize_url(url: str) -> str:
    """Use the psycopg 3 driver for ``postgresql://`` / ``postgres://`` URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def postgres_engine(url: str, *, pool_size: int = 5, max_overflow: int = 10) -> sa.Engine:
    """An engine on a PostgreSQL database, with connections checked before use."""
    return sa.create_engine(
        normalize_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        insertmanyvalues_page_size=5000,
    )
