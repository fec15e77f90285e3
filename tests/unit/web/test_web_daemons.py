"""The web Daemon page and ``/api/v1/daemon/daemons`` list live daemons and what they hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.testclient import TestClient

from tocsin import DagsterInstance
from tocsin.daemon.presence import DaemonPresence


def test_daemon_page_and_api_show_live_daemons(client: TestClient, instance: DagsterInstance):
    assert "No live daemon" in client.get("/daemon").text
    presence = DaemonPresence(instance, daemon_id="box:4242:abcd")
    presence.register()
    try:
        now = datetime.now(UTC)
        presence.beat("SENSOR", now)
        presence.renew()
        lease = timedelta(minutes=1)
        instance.leases.claim_lease("sensor/loc:sensor:watch", "box:4242:abcd", lease, now)
        instance.leases.claim_lease("schedule/loc:schedule:nightly", "box:4242:abcd", lease, now)
        page = client.get("/daemon").text
        assert "box:4242:abcd" in page and "<td>4242</td>" in page
        assert "Loops of box:4242:abcd" in page and now.isoformat() in page
        assert "Holds 1 sensors and 1 schedules" in page and "loc:sensor:watch" in page
        items = client.get("/api/v1/daemon/daemons").json()["items"]
        assert [d["id"] for d in items] == ["box:4242:abcd"]
        assert items[0]["counts"] == {"sensors": 1, "schedules": 1, "ticks": 0}
        assert items[0]["loops"]["SENSOR"]["heartbeat"] == now.isoformat()
    finally:
        presence.close()
    assert client.get("/api/v1/daemon/daemons").json()["items"] == []
