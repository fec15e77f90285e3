"""``tocsin daemon status`` lists live daemons; a second daemon on a SQLite home is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tocsin.daemon.presence import DaemonPresence


def test_status_lists_live_daemons_their_loops_and_holdings(invoke, instance):
    presence = DaemonPresence(instance, daemon_id="box:4242:abcd", exclusive=True)
    presence.register()
    try:
        now = datetime.now(UTC)
        presence.beat("SENSOR", now)
        presence.beat("SCHEDULER", now, errors=["oops"])
        presence.renew()
        for name in ("sensor/loc:sensor:a", "sensor/loc:sensor:b", "schedule/loc:schedule:c"):
            instance.leases.claim_lease(name, "box:4242:abcd", timedelta(minutes=1), now)
        text = invoke("daemon", "status")
        assert text.exit_code == 0, text.output
        assert "Live daemons: 1" in text.output
        row = next(line for line in text.output.splitlines() if line.startswith("box:4242:abcd"))
        assert row.split()[:3] == ["box:4242:abcd", "box", "4242"]
        assert row.split()[4:7] == ["2", "1", "0"]  # sensors, schedules, ticks in flight
        assert "Loops of box:4242:abcd:" in text.output and "SCHEDULER" in text.output
        data = json.loads(invoke("daemon", "status", "--json").output)
        [daemon] = data["daemons"]
        assert daemon["id"] == "box:4242:abcd" and daemon["pid"] == 4242
        assert daemon["holds"]["sensors"] == ["loc:sensor:a", "loc:sensor:b"]
        assert daemon["counts"] == {"sensors": 2, "schedules": 1, "ticks": 0}
        assert daemon["loops"]["SENSOR"]["heartbeat"] == now.isoformat()
        assert daemon["loops"]["SCHEDULER"]["errors"] == 1
        assert daemon["started_at"] == presence.started_at.isoformat()
    finally:
        presence.close()
    data = json.loads(invoke("daemon", "status", "--json").output)
    assert data["daemons"] == [] and data["leases"] == []


def test_a_second_daemon_on_a_sqlite_home_is_refused(invoke, instance, defs_file):
    holder = DaemonPresence(instance, daemon_id="box:4242:abcd", exclusive=True)
    holder.register()
    try:
        result = invoke("daemon", "run", "-f", defs_file)
        assert result.exit_code == 1
        assert "Another tocsin daemon is already running on this instance" in result.output
        assert "daemon box:4242:abcd (host box, pid 4242)" in result.output
        assert f"running since {holder.started_at.isoformat()}" in result.output
        assert "kill 4242" in result.output
        tick = invoke("daemon", "tick", "-f", defs_file)
        assert tick.exit_code == 1 and "box:4242:abcd" in tick.output
    finally:
        holder.close()
    after = DaemonPresence(instance, daemon_id="box:4243:efgh", exclusive=True)
    after.register()  # the stopped daemon left the instance free
    after.close()
