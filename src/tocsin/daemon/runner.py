"""The daemon runner: owns the clock, the sleeps, signals and heartbeats.

``run_once`` calls each loop's ``tick(now)`` once, one loop after the other. ``run`` gives
each loop a thread of its own that passes ``interval`` apart, so a slow pass of one loop (the
run queue, monitoring) never delays the sensors; a loop that can tick in the background
(``ticks_in_background``, the sensor loop) is called with ``tick(now, wait=False)`` and
does not wait for slow evaluations either. A loop pass that raises is recorded (logged, and
on the heartbeat as an error) and the runner carries on: this is the one ``except
Exception`` of the daemon. SIGTERM/SIGINT let the passes and ticks in flight finish (every
tick is committed in one transaction, so stopping between ticks loses nothing); a second
signal abandons them, which is equally safe: an uncommitted tick simply never happened.

With a ``presence`` (``daemon/presence.py``) the runner registers the daemon before its first
pass, records each loop's heartbeat on it and gives its leases back when closed; a daemon that
lost its hold on a SQLite instance stops (``DaemonLeaseLostError``).

Settings read: ``interval`` (seconds between passes, default 1).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from tocsin.daemon.common import TickReport
from tocsin.model.errors_info import serializable_error_info_from_exc

log = logging.getLogger("tocsin.daemon")


def utc_now() -> datetime:
    return datetime.now(UTC)


class DaemonRunner:
    """Runs loops forever (``run``) or once (``run_once``).

    Args:
        instance: used for heartbeats (``add_daemon_heartbeat`` when it has one).
        loops: ``{name: loop}``; each loop has ``tick(now) -> TickReport``.
        interval: seconds between passes.
        clock: returns the current UTC time (tests pass a fake).
    """

    def __init__(
        self,
        instance: Any,
        loops: dict[str, Any],
        *,
        interval: float = 1.0,
        clock: Callable[[], datetime] = utc_now,
        on_report: Callable[[str, TickReport], None] | None = None,
        presence: Any = None,
    ):
        self.instance = instance
        self.loops = loops
        self.interval = interval
        self.clock = clock
        self.on_report = on_report
        self.presence = presence
        self.daemon_id: str | None = getattr(presence, "daemon_id", None)
        self._registered = False
        self.stop_requested = threading.Event()
        self.failures: list[tuple[str, Any]] = []

    def start(self) -> None:
        """Register the daemon (once); raises what ``presence.register`` raises."""
        if self.presence is not None and not self._registered:
            self.presence.register()
            self._registered = True

    def close(self) -> None:
        """Give back the daemon's leases (the others take its instigators at once)."""
        if self.presence is not None and self._registered:
            self.presence.close()
            self._registered = False

    def run_once(self) -> dict[str, TickReport | None]:
        """One pass of every loop at the current time."""
        self.start()
        self.check_hold()
        now = self.clock()
        reports: dict[str, TickReport | None] = {}
        for name, loop in self.loops.items():
            reports[name] = self._pass(name, loop, now)
        return reports

    def _pass(
        self, name: str, loop: Any, now: datetime, *, background: bool = False
    ) -> TickReport | None:
        errors: Sequence[Any] = ()
        report = None
        try:
            if background and getattr(loop, "ticks_in_background", False):
                report = loop.tick(now, wait=False)
            else:
                report = loop.tick(now)
        except Exception as exc:  # record the failed pass and carry on with the next
            info = serializable_error_info_from_exc(exc)
            self.failures.append((name, info))
            log.error("The %s loop failed a pass; it will try again:\n%s", name, info)
            errors = (info,)
        if report is not None:
            for location, error in report.location_errors.items():
                log.warning("Code location %s could not be used:\n%s", location, error)
            if self.on_report is not None:
                self.on_report(name, report)
        self._heartbeat(name, now, errors)
        return report

    def _heartbeat(self, name: str, now: datetime, errors: Sequence[Any]) -> None:
        add = getattr(self.instance, "add_daemon_heartbeat", None)
        if add is None:
            return
        from tocsin.storage.base import DaemonHeartbeat

        if self.presence is not None:
            self.presence.beat(name, now, errors)
        beat = DaemonHeartbeat(
            timestamp=now, daemon_type=name, daemon_id=self.daemon_id, errors=tuple(errors)
        )
        try:
            add(beat)
        except Exception as exc:  # a heartbeat that cannot be written must not stop the loops
            log.warning("Could not write the %s heartbeat: %s", name, exc)

    def check_hold(self) -> None:
        """Raise ``DaemonLeaseLostError`` when another daemon took this one's instance."""
        if self.presence is not None and getattr(self.presence, "lost", False):
            from tocsin.daemon.presence import DaemonLeaseLostError

            raise DaemonLeaseLostError(
                f"Daemon {self.daemon_id} stopped: it did not renew its hold on this instance "
                "within daemon.lease_seconds and another daemon took over. Raise "
                "daemon.lease_seconds in tocsin.yaml if passes or the machine stall that long."
            )

    def run(self, *, between: Callable[[], None] | None = None) -> None:
        """Pass after pass of every loop, each on its own thread, until ``stop()`` or a signal.

        ``between`` is called on the calling thread once per interval (``tocsin dev`` checks
        for changed code there). On stop it waits for the passes and the background ticks in
        flight; a second signal (``KeyboardInterrupt``) abandons the ticks instead and is
        raised again.
        """
        self.install_signal_handlers()
        self.start()
        threads = [
            threading.Thread(
                target=self._loop_forever, args=(name, loop), name=f"tocsin-{name}", daemon=True
            )
            for name, loop in self.loops.items()
        ]
        try:
            for thread in threads:
                thread.start()
            while not self.stop_requested.wait(max(self.interval, 0.1)):
                self.check_hold()
                if between is not None:
                    between()
            for thread in threads:
                thread.join()
            self._drain()
        except BaseException:  # a second signal, or another daemon took this one's instance
            self.stop_requested.set()
            for loop in self.loops.values():
                abandon = getattr(loop, "abandon", None)
                if abandon is not None:
                    abandon()
            raise

    def _loop_forever(self, name: str, loop: Any) -> None:
        while not self.stop_requested.is_set():
            if getattr(self.presence, "lost", False):
                return  # the main thread stops the daemon (check_hold)
            try:
                self._pass(name, loop, self.clock(), background=True)
            except Exception:  # a failing report callback or heartbeat must not end the loop
                log.exception("The %s loop could not finish a pass; it will try again.", name)
            self.stop_requested.wait(self.interval)

    def _drain(self) -> None:
        """Wait for the background ticks still in flight and report them."""
        for name, loop in self.loops.items():
            drain = getattr(loop, "drain", None)
            if drain is None:
                continue
            try:
                report = drain(self.clock())
            except Exception as exc:  # one loop's failed tick must not stop the others draining
                info = serializable_error_info_from_exc(exc)
                self.failures.append((name, info))
                log.error("A %s tick failed while stopping:\n%s", name, info)
                continue
            if self.on_report is not None and report.outcomes:
                self.on_report(name, report)

    def stop(self) -> None:
        self.stop_requested.set()

    def install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return

        def handle(signum: int, frame: Any) -> None:
            if self.stop_requested.is_set():
                raise KeyboardInterrupt  # second signal: abandon the in-flight pass
            log.info(
                "Stopping once the ticks in flight finish (signal %s); signal again to abandon "
                "them.",
                signum,
            )
            self.stop_requested.set()

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)
