"""``tocsin asset list|materialize|wipe``."""

from __future__ import annotations

from typing import Any

import click

from tocsin.cli.common import (
    did_you_mean,
    echo_json,
    echo_table,
    fmt_time,
    json_option,
    load_locations,
    location_options,
    open_instance,
)


@click.group("asset")
def asset_cli() -> None:
    """List, materialize and wipe assets."""


def _key(text: str) -> Any:
    from tocsin.model.asset_key import AssetKey

    return AssetKey.from_user_string(text)


def _assets_by_key(files, modules, workspace) -> dict[str, tuple[Any, Any]]:
    """{key string: (Definitions, AssetsDefinition)} over every location."""
    found: dict[str, tuple[Any, Any]] = {}
    for location in load_locations(files, modules, workspace):
        defs = location.handler.defs
        for assets_def in getattr(defs, "assets", None) or ():
            for key in getattr(assets_def, "keys", None) or ():
                found[key.to_user_string()] = (defs, assets_def)
    return found


@asset_cli.command("list")
@location_options
@json_option
def list_command(files, modules, workspace, as_json: bool) -> None:
    """Assets of the code locations (or, with none given, those the instance has seen)."""
    instance = open_instance()
    if files or modules or workspace:
        keys = sorted(_assets_by_key(files, modules, workspace))
    else:
        keys = sorted(k.to_user_string() for k in instance.get_asset_keys())
    rows = []
    for key in keys:
        entry = instance.get_latest_materialization_event(_key(key))
        when = None if entry is None else entry.timestamp
        run_id = None if entry is None else entry.run_id
        rows.append((key, fmt_time(when) if when else "never", run_id or ""))
    if as_json:
        echo_json([{"key": k, "last_materialized": t, "run_id": r} for k, t, r in rows])
    else:
        echo_table(["KEY", "LAST MATERIALIZED", "RUN"], rows)


@asset_cli.command("materialize")
@click.argument("keys", nargs=-1, required=True)
@click.option("--partition", default=None, help="The partition to materialize.")
@location_options
def materialize_command(keys, partition, files, modules, workspace) -> None:
    """Materialize assets in this process, recording the run on the instance.

    KEYS are asset keys, path parts joined by '/' (e.g. daily_report or raw/events).
    """
    from tocsin.execution.materialize import materialize

    found = _assets_by_key(files, modules, workspace)
    for key in keys:
        if key not in found:
            raise did_you_mean(key, list(found), "asset")
    defs = found[keys[0]][0]
    if any(found[k][0] is not defs for k in keys):
        raise click.UsageError("Materialize assets of one code location at a time.")
    instance = open_instance()
    result = materialize(
        list(getattr(defs, "assets", None) or ()),
        instance=instance,
        resources=getattr(defs, "resources", None) or None,
        partition_key=partition,
        raise_on_error=False,
        selection=[_key(k) for k in keys],
    )
    status = "SUCCESS" if result.success else "FAILURE"
    click.echo(f"Run {result.run_id} materializing {', '.join(keys)}: {status}")
    if not result.success:
        raise SystemExit(1)


@asset_cli.command("wipe")
@click.argument("keys", nargs=-1, required=True)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def wipe_command(keys, yes: bool) -> None:
    """Forget the materializations of assets (their runs are kept)."""
    instance = open_instance()
    known = {k.to_user_string() for k in instance.get_asset_keys()}
    for key in keys:
        if key not in known:
            raise did_you_mean(key, sorted(known), "materialized asset")
    if not yes:
        click.confirm(f"Wipe the materializations of {', '.join(keys)}?", abort=True)
    instance.wipe_assets([_key(k) for k in keys])
    click.echo(f"Wiped {len(keys)} asset(s): {', '.join(keys)}.")
