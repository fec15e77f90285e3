"""Instigator claims, their expiry and takeover, and daemon registration, on both backends."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from tocsin.daemon.leases import HOME_LEASE, InstigatorClaims, daemon_lease
from tocsin.daemon.presence import (
    DaemonAlreadyRunningError,
    DaemonPresence,
    read_daemons,
    release_all,
    renew_all,
)

T0 = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)
LEASE = timedelta(seconds=15)
ORIGINS = [f"loc:sensor:s{i:02d}" for i in range(10)]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def register(storage, daemon_id: str, now: datetime) -> InstigatorClaims:
    assert storage.claim_lease(daemon_lease(daemon_id), daemon_id, LEASE, now)
    return InstigatorClaims(storage, daemon_id, LEASE)


def owners(storage, now: datetime) -> dict[str, str]:
    return {
        lease.name.split("/", 1)[1]: lease.owner
        for lease in storage.get_leases()
        if lease.name.startswith("sensor/") and lease.expires_at > now
    }


def test_live_daemons_split_the_instigators_without_overlap(storage):
    a, b = register(storage, "a", at(0)), register(storage, "b", at(0))
    held_a = a.select("sensor", ORIGINS, at(0))
    held_b = b.select("sensor", ORIGINS, at(0))
    assert len(held_a) == 5 and len(held_b) == 5
    assert held_a | held_b == set(ORIGINS) and not held_a & held_b
    # Sticky: the next pass keeps the same instigators.
    assert a.select("sensor", ORIGINS, at(1)) == held_a
    assert b.select("sensor", ORIGINS, at(1)) == held_b


def test_a_newcomer_gets_a_share_that_the_others_give_back(storage):
    a = register(storage, "a", at(0))
    assert a.select("sensor", ORIGINS, at(0)) == set(ORIGINS)
    b = register(storage, "b", at(1))
    assert b.select("sensor", ORIGINS, at(1)) == set()  # nothing free yet
    kept = a.select("sensor", ORIGINS, at(2))
    assert len(kept) == 5
    taken = b.select("sensor", ORIGINS, at(3))
    assert taken == set(ORIGINS) - kept
    assert owners(storage, at(3)) == {**dict.fromkeys(kept, "a"), **dict.fromkeys(taken, "b")}


def test_claims_of_a_live_daemon_are_never_taken(storage):
    a, b = register(storage, "a", at(0)), register(storage, "b", at(0))
    held_a = a.select("sensor", ORIGINS, at(0))
    b.select("sensor", ORIGINS, at(0))
    renew_all(storage, "a", LEASE, at(10))
    renew_all(storage, "b", LEASE, at(10))
    # At 20 s the first leases would have expired; a's renewal keeps them a's.
    assert b.select("sensor", ORIGINS, at(20)) == set(ORIGINS) - held_a
    assert {o for o, owner in owners(storage, at(20)).items() if owner == "a"} == held_a


def test_a_dead_daemon_loses_its_instigators_when_its_lease_expires(storage):
    a, b = register(storage, "a", at(0)), register(storage, "b", at(0))
    held_a = a.select("sensor", ORIGINS, at(0))
    b.select("sensor", ORIGINS, at(0))
    # a dies at 0; b renews at 10 and passes at 14 (a's lease still runs) and 16 (expired).
    renew_all(storage, "b", LEASE, at(10))
    assert b.select("sensor", ORIGINS, at(14)) == set(ORIGINS) - held_a
    assert b.select("sensor", ORIGINS, at(16)) == set(ORIGINS)
    assert set(owners(storage, at(16)).values()) == {"b"}


def test_instigators_no_longer_running_are_given_back(storage):
    a = register(storage, "a", at(0))
    a.select("sensor", ORIGINS, at(0))
    assert a.select("sensor", ORIGINS[:3], at(1)) == set(ORIGINS[:3])
    assert set(owners(storage, at(1))) == set(ORIGINS[:3])


def test_a_tick_claim_excludes_every_other_daemon_until_released_or_expired(storage):
    a, b = register(storage, "a", at(0)), register(storage, "b", at(0))
    with a.tick(ORIGINS[0], at(0)) as held:
        assert held
        with b.tick(ORIGINS[0], at(1)) as other:
            assert not other
    with b.tick(ORIGINS[0], at(2)) as other:
        assert other
    # A claim whose daemon died (never released) is free once expired.
    assert storage.claim_lease("tick/" + ORIGINS[1], "a", LEASE, at(0))
    with b.tick(ORIGINS[1], at(5)) as other:
        assert not other
    with b.tick(ORIGINS[1], at(16)) as other:
        assert other


def test_renew_and_release_touch_only_the_owners_leases(storage):
    storage.claim_lease("x", "a", LEASE, at(0))
    storage.claim_lease("y", "a", LEASE, at(0))
    storage.claim_lease("z", "b", LEASE, at(0))
    renew_all(storage, "a", LEASE, at(10))
    expiry = {x.name: (x.owner, x.expires_at) for x in storage.get_leases()}
    assert expiry == {"x": ("a", at(25)), "y": ("a", at(25)), "z": ("b", at(15))}
    release_all(storage, "a")
    assert [x.name for x in storage.get_leases()] == ["z"]


def test_concurrent_daemons_never_hold_one_instigator_twice(storage):
    ids = ["a", "b", "c"]
    claims = [register(storage, d, at(0)) for d in ids]
    origins = [f"loc:sensor:s{i:02d}" for i in range(30)]
    held: dict[str, list[set[str]]] = {d: [] for d in ids}
    errors: list[BaseException] = []

    def work(c: InstigatorClaims) -> None:
        try:
            for step in range(5):
                held[c.daemon_id].append(c.select("sensor", origins, at(step)))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c,)) for c in claims]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    for step in range(5):
        sets = [held[d][step] for d in ids]
        assert sum(len(s) for s in sets) == len(set().union(*sets))  # disjoint
    assert sorted(len(held[d][-1]) for d in ids) == [10, 10, 10]


def _instance(storage):
    return SimpleNamespace(leases=storage, misc=storage)


def test_registration_is_listed_and_given_back_on_close(storage):
    clock = [at(0)]
    presence = DaemonPresence(
        _instance(storage), daemon_id="vm:123:abc", lease=LEASE, clock=lambda: clock[0]
    )
    presence.register()
    try:
        presence.beat("SENSOR", at(0))
        presence.renew()
        storage.claim_lease("sensor/loc:sensor:s00", "vm:123:abc", LEASE, at(0))
        [info] = read_daemons(_instance(storage), at(1))
        assert (info.daemon_id, info.host, info.pid) == ("vm:123:abc", "vm", 123)
        assert info.loops["SENSOR"]["heartbeat"] == at(0).isoformat()
        assert info.sensors == ["loc:sensor:s00"]
        assert read_daemons(_instance(storage), at(16)) == []  # expired: not live
    finally:
        presence.close()
    assert storage.get_leases() == []
    assert storage.get_kv(["tocsin/daemon/vm:123:abc"]) == {}


def test_exclusive_daemon_refuses_a_second_one_naming_the_holder(storage):
    first = DaemonPresence(
        _instance(storage), daemon_id="otherhost:4242:abc", lease=LEASE, exclusive=True
    )
    first.register()
    try:
        second = DaemonPresence(_instance(storage), daemon_id="me:1:def", exclusive=True)
        with pytest.raises(DaemonAlreadyRunningError) as caught:
            second.register()
        message = str(caught.value)
        assert "daemon otherhost:4242:abc" in message
        assert "host otherhost, pid 4242" in message
        assert f"running since {first.started_at.isoformat()}" in message
        assert "kill 4242" in message and "Ctrl-C" in message
        assert "PostgreSQL" in message and "daemon.lease_seconds" in message
        # Refused means nothing of the first daemon's changed.
        holder = next(x for x in storage.get_leases() if x.name == HOME_LEASE)
        assert holder.owner == "otherhost:4242:abc"
    finally:
        first.close()


def test_exclusive_daemon_takes_over_a_stale_holder(storage):
    storage.claim_lease(HOME_LEASE, "otherhost:4242:abc", LEASE, datetime.now(UTC) - 2 * LEASE)
    presence = DaemonPresence(_instance(storage), daemon_id="me:1:def", exclusive=True)
    presence.register()
    try:
        holder = next(x for x in storage.get_leases() if x.name == HOME_LEASE)
        assert holder.owner == "me:1:def"
    finally:
        presence.close()


def test_exclusive_daemon_takes_over_a_dead_process_of_this_host(storage):
    import socket
    import subprocess
    import sys

    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = f"{socket.gethostname()}:{int(gone.stdout)}:abc"
    storage.claim_lease(HOME_LEASE, dead, LEASE, datetime.now(UTC))
    storage.claim_lease(daemon_lease(dead), dead, LEASE, datetime.now(UTC))
    presence = DaemonPresence(_instance(storage), daemon_id="me:1:def", exclusive=True)
    presence.register()
    try:
        assert {x.owner for x in storage.get_leases()} == {"me:1:def"}
    finally:
        presence.close()


def test_a_daemon_that_lost_its_hold_notices(storage):
    clock = [at(0)]
    presence = DaemonPresence(
        _instance(storage),
        daemon_id="me:1:a",
        lease=LEASE,
        exclusive=True,
        clock=lambda: clock[0],
    )
    presence.register()
    try:
        assert storage.claim_lease(HOME_LEASE, "other:2:b", LEASE, at(20))
        clock[0] = at(21)
        presence.renew()
        assert presence.lost
    finally:
        presence.close()


def test_an_exclusive_loop_runs_in_one_daemon_until_its_lease_expires(storage):
    from tocsin.daemon.leases import ExclusiveLoop

    passes: list[str] = []

    class Chore:
        def __init__(self, name: str):
            self.name = name

        def tick(self, now):
            passes.append(self.name)
            return None

    a = ExclusiveLoop(Chore("a"), "RETENTION", storage, "a", LEASE)
    b = ExclusiveLoop(Chore("b"), "RETENTION", storage, "b", LEASE)
    for second in (0, 5, 10):
        a.tick(at(second))
        b.tick(at(second))
    assert passes == ["a", "a", "a"]  # a's own passes keep its lease
    b.tick(at(26))  # a stopped passing at 10: its lease ran out at 25
    assert passes[-1] == "b" and a.name == "a"
