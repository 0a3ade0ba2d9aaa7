"""`connector run`: the daemon. One scheduled job per store, reloads, health, graceful stop.

- Each enabled store has two jobs: incremental passes on its `schedule` and full reconcile
  passes on its `reconcile` schedule (cron or interval, in the store's timezone; default
  nightly at 03:00). A pass without a bookmark is a full one. An interval runs in the store's
  own slot within it, from a hash of its name (`schedule.slot_of`), so stores on one interval
  fall due spread over it, and keep their slots across restarts and reloads. At start, a store
  whose pass is overdue (it never ran, its last pass did not finish, or its slot passed while
  no daemon ran it) passes at once; the others wait for their slots.
  One store never runs two passes at once: its two jobs share one lock (an incremental pass due
  while a pass is running is skipped, a reconcile waits for the running pass), and each job has
  max one instance, missed runs coalesced and an explicit misfire grace. Stores run
  concurrently, so a slow or failing one delays no other.
- The config file is watched: a valid edit takes effect at the next run (schedules included);
  an edit that does not validate is logged once with the reason and the last good config keeps
  running.
- A store that fails is logged once as unhealthy and once when it recovers, not on every run.
- A paused store (`connector pause`) gets no pass from its next run on; a store a rail held (a
  pass that would have changed too much of it) gets none until the operator releases it
  (`connector resume STORE`, or `connector resync --store STORE --force`). Each is logged once,
  and once when passes resume. A pass another process is running over the store (a manual
  `connector resync`, a second daemon) is waited for by a reconcile for a while; an incremental
  pass is skipped.
- With `[listen]`, the daemon also runs the webhook listener (`connector.listener`) on its loop.
  A verified delivery queues a targeted pass of its store (`sync.targeted`): debounced
  (`debounce_seconds`, deliveries within it are served by one pass), coalesced per store, and
  under the store's lock, so it waits for a running pass and a delivery that arrives during a
  pass gets one more targeted pass after it. A scheduled pass takes what is queued with it.
  Deliveries are recorded before they are answered: a daemon stopped between a delivery and
  its pass passes over them at its first pass after the restart (the store's changes since the
  bookmark are read then in any case). While a store's webhooks are healthy, its incremental
  schedule may stretch (`polling_stretch`); the nightly reconcile always runs.
- SIGTERM/SIGINT: the listener stops taking deliveries; no new runs start; passes in flight get
  `stop_timeout` seconds to finish their write and record state, then are cancelled; exit 0.
  A second signal exits at once: every state write is one SQLite transaction, so the file stays
  consistent.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from stockstatus.core import config as config_module
from stockstatus.core.config import Config
from stockstatus.core.errors import ConfigError, ConnectorError
from stockstatus.core.listener import Listener
from stockstatus.core.outcomes import JobKind, PassMode, RunOutcome
from stockstatus.core.schedule import DEFAULT_RECONCILE, DEFAULT_SCHEDULE, Scheduler, Trigger, every, trigger_for
from stockstatus.core.state import StateStore
from stockstatus.core.sync import Clock, StoreRun, Touched, flush_outbox, resync, system_clock
from stockstatus.core.web import StatusPage

log = logging.getLogger(__name__)

MISFIRE_GRACE_SECONDS = 300
"""A run that could not start on time (machine asleep, previous run still going) still starts
within this many seconds; later than that it is skipped and the next one is awaited."""
WATCH_SECONDS = 5
OUTBOX_EVERY_SECONDS = 15
"""How often the daemon sends the webhook events waiting in the outbox."""
OUTBOX_JOB = "webhook-outbox"
RECONCILE_WAIT_SECONDS = 60.0
CONCURRENT_PASSES = 16
"""Passes the daemon runs at once, over all its stores; the others wait their turn. Without a
bound, a daemon carrying 200 stores started 200 full passes together at start: each held its
whole store in memory for as long as the slowest took (360 MB at 500 SKUs each, against one
pass at a time's few MB), and no store's schedule was kept any better for it."""
RETRY_FIRST_SECONDS = 5.0
RETRY_LONGEST_SECONDS = 300.0
"""A targeted pass that could not serve its deliveries (the store failed, held, paused or busy)
is tried again after 5 s, then 10, 20, ... at most every 5 minutes, until one serves them."""
UNFINISHED = frozenset({RunOutcome.RUNNING, RunOutcome.INTERRUPTED, RunOutcome.PARTIAL, RunOutcome.FAILED})
"""Outcomes of a last pass that leave work for the next start: its first pass runs at once."""
SERVED = frozenset({RunOutcome.OK, RunOutcome.PARTIAL})
"""Outcomes of a pass that read the store and wrote: the deliveries it took are served."""


class Health:
    """Logs a store's failure once when it starts and once when it ends."""

    def __init__(self) -> None:
        self.failing: dict[str, str] = {}

    def update(self, run: StoreRun) -> None:
        if run.outcome is RunOutcome.FAILED:
            self.fail(run.store, run.error or "failed")
        elif run.store in self.failing:
            del self.failing[run.store]
            log.warning("store %s recovered", run.store, extra={"store": run.store, "healthy": True})

    def fail(self, store: str, error: str) -> None:
        if store not in self.failing:
            log.error("store %s is unhealthy: %s", store, error, extra={"store": store, "healthy": False})
        self.failing[store] = error


class Standing:
    """Logs once that a store is paused, held or busy elsewhere, and once when its passes resume."""

    def __init__(self) -> None:
        self.said: dict[str, str] = {}

    def update(self, run: StoreRun) -> None:
        if run.outcome in (RunOutcome.PAUSED, RunOutcome.HELD):
            said = f"{run.outcome}: {run.error}"
            if self.said.get(run.store) != said:
                level = logging.ERROR if run.outcome is RunOutcome.HELD else logging.WARNING
                log.log(level, "store %s %s: waiting for the operator. %s", run.store, run.outcome, run.error)
            self.said[run.store] = said
        elif run.outcome is RunOutcome.BUSY:
            log.info("%s", run.error)
        elif run.store in self.said:
            del self.said[run.store]
            log.warning("store %s: passes resumed", run.store)


class ConfigWatcher:
    """The config as last validated; re-read when its file (or its rules file) changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.config = config_module.load(path)  # the first load must succeed
        self._files = self.config.files
        self._stamp = self._read_stamp()

    def _read_stamp(self) -> tuple[tuple[int, int] | None, ...]:
        stamps: list[tuple[int, int] | None] = []
        for path in self._files:
            try:
                stat = path.stat()
            except OSError:
                stamps.append(None)
            else:
                stamps.append((stat.st_mtime_ns, stat.st_size))
        return tuple(stamps)

    def poll(self) -> bool:
        """Reload if a file changed; True when a new valid config was taken."""
        stamp = self._read_stamp()
        if stamp == self._stamp:
            return False
        try:
            config = config_module.load(self.path)
        except ConfigError as exc:
            self._stamp = stamp  # said once per edit, not at every poll
            log.error("config edit rejected, the last good configuration keeps running: %s", exc)
            return False
        # The stamp read before loading: an edit made while loading is seen at the next poll.
        moved = config.files != self._files
        self.config, self._files = config, config.files
        self._stamp = self._read_stamp() if moved else stamp
        log.warning("config reloaded from %s", ", ".join(str(f) for f in self._files))
        return True


JOB_KINDS = frozenset(kind.value for kind in JobKind)


@dataclass(frozen=True, slots=True)
class PassRecord:
    """One pass the daemon ran: which store, how, and how it ended."""

    store: str
    mode: PassMode
    outcome: RunOutcome


@dataclass
class Wanted:
    """Deliveries of one store waiting for their pass: what they touched, and their receipts."""

    touched: Touched = field(default_factory=Touched)
    receipts: dict[int, float | None] = field(default_factory=dict)
    """Row id in the deliveries table → when it arrived (monotonic seconds; None: before a restart)."""

    def add(self, touched: Touched, receipt: int, received: float | None) -> None:
        self.touched = self.touched | touched
        self.receipts[receipt] = received

    def merge(self, other: Wanted) -> None:
        self.touched = self.touched | other.touched
        self.receipts.update(other.receipts)


@dataclass
class Daemon:
    path: Path
    environ: Mapping[str, str]
    clock: Clock = system_clock
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None
    stop_timeout: float = 30.0
    health: Health = field(default_factory=Health)
    standing: Standing = field(default_factory=Standing)
    runs: int = 0
    passes: deque[PassRecord] = field(default_factory=lambda: deque(maxlen=100))
    """The latest passes, oldest first."""
    concurrent_passes: int = CONCURRENT_PASSES

    def __post_init__(self) -> None:
        self.watcher = ConfigWatcher(self.path)
        self._check_secrets()
        self._inflight: set[asyncio.Task[object]] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        """One per store, shared by its incremental and reconcile jobs: never two passes at once."""
        self._stopping = asyncio.Event()
        self._signals = 0
        self._turns = asyncio.Semaphore(self.concurrent_passes)
        self._wanted: dict[str, Wanted] = {}
        """Per store, the deliveries its next pass serves (the targeted pass, or a scheduled one first)."""
        self._applied: dict[str, tuple[str, str]] = {}
        """Job id → the schedule and timezone its trigger was made from."""
        self._targeting: dict[str, asyncio.Task[None]] = {}
        self._polls: dict[str, int] = {}
        """Per store, scheduled incremental passes skipped in a row while its webhooks are healthy."""
        self.listener: Listener | None = None

    @property
    def config(self) -> Config:
        return self.watcher.config

    def _check_secrets(self) -> None:
        """A store whose credential variables are not set is unhealthy and the others run; with
        none that can run, the daemon does not start (ConfigError: exit 2, nothing to serve)."""
        config = self.config
        stores = config.select(None)
        missing = {store.name: config.missing_secrets((store,), self.environ) for store in stores}
        if stores and all(missing.values()):
            config.check_secrets(stores, self.environ)
        for name, problems in missing.items():
            if problems:
                self.health.fail(name, "credentials not set: " + "; ".join(problems))

    async def serve(self) -> int:
        """Run until stopped by a signal (or `stop()`); 0 on a clean stop."""
        loop = asyncio.get_running_loop()
        clock = self.clock
        self.state = StateStore(
            self.config.state_path, now=lambda: clock().astimezone(UTC).isoformat(timespec="seconds")
        )
        self.scheduler = Scheduler(loop)
        self._catch_up()
        await self._listen()
        self._schedule(self.config, first=True)
        self.scheduler.add_job(self._watch, every(seconds=WATCH_SECONDS), id="config-watch", coalesce=True)
        # Webhook events go out from a job of their own, never under a store's lock; the first
        # round at start sends what a previous run left in the outbox.
        self.scheduler.add_job(
            self._send_events,
            every(seconds=OUTBOX_EVERY_SECONDS),
            id=OUTBOX_JOB,
            name="webhook outbox",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
        )
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal, sig)
        self.scheduler.start()
        log.warning("daemon started: %s", ", ".join(s.name for s in self.config.select(None)) or "no stores")
        try:
            await self._stopping.wait()
        finally:
            # Pause first: shutting the scheduler down cancels the passes it started, and those
            # get `stop_timeout` to finish their chunk. The signal handlers stay meanwhile, so a
            # second signal still exits at once. The listener stops first: a delivery it answered
            # is recorded and passed over after a restart.
            if self.listener is not None:
                await self.listener.stop()
            for task in self._targeting.values():
                if task not in self._inflight:
                    task.cancel()  # still debouncing: the deliveries stay queued in the state file
            self.scheduler.pause()
            await self._drain()
            self.scheduler.shutdown(wait=False)
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            self.state.close()
        log.warning("daemon stopped")
        return 0

    def stop(self) -> None:
        self._stopping.set()

    def _on_signal(self, sig: signal.Signals) -> None:
        self._signals += 1
        if self._signals > 1:
            log.error("second %s: exiting now", sig.name)
            os._exit(130)
        log.warning("%s: finishing the runs in progress (at most %.0fs), then stopping", sig.name, self.stop_timeout)
        self.stop()

    async def _drain(self) -> None:
        pending = {t for t in self._inflight if not t.done()}
        if not pending:
            return
        _, still = await asyncio.wait(pending, timeout=self.stop_timeout)
        for task in still:
            task.cancel()
        if still:
            await asyncio.wait(still)
            log.warning("%d run(s) cancelled at stop; the next start reconciles them", len(still))

    def _schedule(self, config: Config, *, first: bool = False) -> None:
        wanted = {s.name: s for s in config.select(None)}
        for job in self.scheduler.get_jobs():
            kind, _, name = job.id.partition(":")
            if kind in JOB_KINDS and name not in wanted:
                job.remove()
                self._applied.pop(job.id, None)
                if kind == JobKind.PASS:
                    log.warning("store %s removed from the config: no longer scheduled", name)
        for name, store in wanted.items():
            jobs = (
                (f"{JobKind.PASS}:{name}", store.schedule, DEFAULT_SCHEDULE, False, f"pass over {name}"),
                (f"{JobKind.RECONCILE}:{name}", store.reconcile, DEFAULT_RECONCILE, True, f"full reconcile of {name}"),
            )
            for job_id, text, default, full, title in jobs:
                applied = (text or default, store.timezone.key)
                trigger = trigger_for(text, store.timezone, default=default, store=name)
                if self.scheduler.get_job(job_id) is not None:
                    # Only a changed schedule is applied: an interval keeps its slot either way,
                    # but a reload at the very moment a slot falls due would skip that pass.
                    if self._applied.get(job_id) != applied:
                        self.scheduler.reschedule_job(job_id, trigger=trigger)
                        self._applied[job_id] = applied
                    continue
                first_run = None if full else self._first_run(name, trigger)
                self.scheduler.add_job(
                    self._run_store,
                    trigger,
                    args=[name],
                    kwargs={"full": full},
                    id=job_id,
                    name=title,
                    max_instances=1,
                    coalesce=True,
                    misfire_grace_time=MISFIRE_GRACE_SECONDS,
                    next_run_time=first_run,
                )
                self._applied[job_id] = applied

    def _first_run(self, name: str, trigger: Trigger) -> datetime | None:
        """When this daemon first passes over a store: now if its pass is overdue, else None (its slot).

        Overdue: it has never run, its last pass did not finish its work (stopped mid-pass,
        failed, some writes refused), its schedule fell due since its last pass (no daemon ran
        it meanwhile), or deliveries a previous run answered wait for it. Any other store waits
        for its own slot, so a restart does not make every store due at one moment.
        """
        now = datetime.now(UTC)
        if name in self._wanted:
            return now
        last = next((r for r in self.state.runs.recent(name, limit=50) if r.mode is not PassMode.DRY_RUN), None)
        if last is None or last.outcome in UNFINISHED:
            return now
        started = datetime.fromisoformat(last.started_at)
        if started.tzinfo is None:  # the state file writes UTC
            started = started.replace(tzinfo=UTC)
        due = trigger.get_next_fire_time(None, started + timedelta(seconds=1))
        # Passes are recorded on the daemon's clock, so "overdue" is judged on it too.
        return now if due is None or due <= self.clock() else None

    async def _send_events(self) -> None:
        if self._stopping.is_set():
            return
        task = asyncio.current_task()
        assert task is not None
        self._inflight.add(task)
        try:
            await flush_outbox(
                self.config, state=self.state, clock=self.clock, environ=self.environ, transports=self.transports
            )
        except Exception:
            # The next round tries again; events stay in the outbox meanwhile.
            log.exception("webhook outbox round failed")
        finally:
            self._inflight.discard(task)

    async def _watch(self) -> None:
        if self.watcher.poll():
            try:
                self._schedule(self.config)
            except ValueError as exc:  # a schedule that validated but APScheduler refuses
                log.error("schedule not applied: %s", exc)

    def _catch_up(self) -> None:
        """Deliveries a previous run answered but never passed over: the first pass serves them."""
        known = {s.name for s in self.config.select(None)}
        for receipt in self.state.deliveries.waiting():
            if receipt.store in known:
                wanted = self._wanted.setdefault(receipt.store, Wanted())
                wanted.add(Touched.from_json(receipt.items), receipt.id, None)

    async def _listen(self) -> None:
        settings = self.config.listening
        if settings is None:
            return
        listener = Listener(
            settings=settings,
            config=lambda: self.config,
            state=self.state,
            environ=self.environ,
            clock=self.clock,
            queue=self,
            page=StatusPage(lambda: self.config, environ=self.environ, clock=self.clock, transports=self.transports),
        )
        try:
            await listener.start()
        except OSError as exc:
            # Polling goes on without it: the stores are still kept current, only more slowly.
            log.error(
                "webhook listener not started on %s: %s; scheduled passes go on without it",
                settings.address,
                exc.strerror or exc,
            )
            return
        self.listener = listener
        for store in self.config.select(None):
            # Said at start: otherwise the first sign would be the store's deliveries refused.
            if not store.webhook_secret_env:
                log.warning("store %s has no webhook_secret_env: its webhook deliveries are refused", store.name)
            elif not self.environ.get(store.webhook_secret_env):
                log.warning(
                    "store %s: environment variable %s (webhook_secret_env) is not set: its webhook deliveries "
                    "are refused",
                    store.name,
                    store.webhook_secret_env,
                )

    def delivered(self, store: str, touched: Touched, receipt: int, received: float) -> None:
        """A verified delivery for `store`: its targeted pass is queued (the listener calls this)."""
        self._wanted.setdefault(store, Wanted()).add(touched, receipt, received)
        if store not in self._targeting and not self._stopping.is_set():
            task = asyncio.get_running_loop().create_task(self._targeted(store), name=f"targeted pass over {store}")
            self._targeting[store] = task

    async def _targeted(self, name: str) -> None:
        """Targeted passes over a store while deliveries for it wait, each after the debounce."""
        settings = self.config.listening
        debounce = settings.debounce_seconds if settings is not None else 0.0
        task = asyncio.current_task()
        assert task is not None
        retry = RETRY_FIRST_SECONDS
        try:
            while name in self._wanted and not self._stopping.is_set():
                await asyncio.sleep(debounce)  # deliveries within it are served by this one pass
                lock = self._locks.setdefault(name, asyncio.Lock())
                async with lock, self._turns:  # a running pass is waited for, and a turn among all
                    if self._stopping.is_set() or name not in self._wanted:
                        return
                    self._inflight.add(task)
                    try:
                        run = await self._pass(name, full=False)
                    finally:
                        self._inflight.discard(task)
                if run.outcome in SERVED:
                    retry = RETRY_FIRST_SECONDS
                elif name in self._wanted:
                    # The deliveries were put back: a scheduled pass may serve them first, else
                    # this one tries again, waiting longer each time (a store that is down).
                    await asyncio.sleep(retry)
                    retry = min(retry * 2, RETRY_LONGEST_SECONDS)
        finally:
            self._targeting.pop(name, None)

    def _webhooks_healthy(self, name: str) -> bool:
        settings = self.config.listening
        if self.listener is None or settings is None:
            return False
        last = self.state.deliveries.last_received(name)
        return last is not None and self.clock() - last <= timedelta(minutes=settings.healthy_minutes)

    def _stretched(self, name: str) -> bool:
        """Whether this scheduled incremental pass is skipped: webhooks are healthy and it is not the Nth."""
        settings = self.config.listening
        stretch = settings.polling_stretch if settings is not None else 1
        if stretch <= 1 or not self._webhooks_healthy(name):
            self._polls.pop(name, None)
            return False
        skipped = self._polls.get(name, 0) + 1
        if skipped >= stretch:
            self._polls.pop(name, None)
            return False
        self._polls[name] = skipped
        log.info("store %s: webhooks are healthy; scheduled incremental pass %d of %d skipped", name, skipped, stretch)
        return True

    async def _run_store(self, name: str, full: bool = False) -> None:
        """One pass over a store: incremental (its `schedule` job) or full (its `reconcile` job)."""
        if self._stopping.is_set():
            return
        lock = self._locks.setdefault(name, asyncio.Lock())
        if lock.locked() and not full:
            log.info("store %s: a pass is still running; this incremental pass is skipped", name)
            return
        if not full and name not in self._wanted and self._stretched(name):
            return
        task = asyncio.current_task()
        assert task is not None
        self._inflight.add(task)
        try:
            async with lock, self._turns:
                if self._stopping.is_set():
                    return
                await self._pass(name, full)
        finally:
            self._inflight.discard(task)

    async def _pass(self, name: str, full: bool) -> StoreRun:
        self.watcher.poll()
        config = self.config
        wanted = self._wanted.pop(name, None)  # this pass serves the deliveries waiting so far
        try:
            [run] = await resync(
                config,
                store_name=name,
                incremental=not full,
                state=self.state,
                clock=self.clock,
                environ=self.environ,
                transports=self.transports,
                stopping=self._stopping,
                scheduled=True,
                # A reconcile waits a while for a pass another process runs; an incremental one is due again soon.
                wait=RECONCILE_WAIT_SECONDS if full else 0.0,
                send_events=False,
                touched=wanted.touched if wanted is not None and not full else None,
            )
        except ConnectorError as exc:  # e.g. a credential variable unset after a reload
            run = StoreRun(store=name, platform="?", dry_run=False, outcome=RunOutcome.FAILED, error=str(exc))
        except Exception as exc:
            # Whatever it was, the store is marked unhealthy with it rather than the job dying quietly.
            log.debug("store %s: the pass raised", name, exc_info=True)
            run = StoreRun(
                store=name, platform="?", dry_run=False, outcome=RunOutcome.FAILED, error=f"the pass failed: {exc!r}"
            )
        if wanted is not None:
            self._served(name, wanted, run)
        self._record(name, run)
        return run

    def _record(self, name: str, run: StoreRun) -> None:
        self.runs += 1
        self.passes.append(PassRecord(name, run.mode, run.outcome))
        self.health.update(run)
        self.standing.update(run)
        if run.outcome in (RunOutcome.OK, RunOutcome.PARTIAL):
            log.info(
                "store %s: %s pass%s, %d items, %d changed, %d failed in %.1fs",
                name,
                run.mode,
                f" ({run.full_because})" if run.full_because else "",
                run.items,
                len(run.changes),
                run.failed,
                run.seconds,
                extra={
                    "store": name,
                    "run": run.run_id,
                    "mode": run.mode.value,
                    "outcome": run.outcome.value,
                    "items": run.items,
                    "changed": len(run.changes),
                    "written": run.written,
                    "failed": run.failed,
                    "skipped": len(run.skipped),
                    "counts": dict(sorted(run.counts.items())),
                    "seconds": round(run.seconds, 3),
                },
            )

    def _served(self, name: str, wanted: Wanted, run: StoreRun) -> None:
        """Record the deliveries a pass served, with their lag; a pass that wrote nothing puts them back."""
        if run.outcome in SERVED:
            done = time.monotonic()
            self.state.deliveries.passed(
                (
                    (receipt, None if at is None else round((done - at) * 1000))
                    for receipt, at in wanted.receipts.items()
                ),
                run.run_id,
            )
            return
        # Failed, held, paused or busy: the deliveries wait for the store's next pass (kept
        # queued in the state file too); their lag counts from their arrival still.
        waiting = self._wanted.setdefault(name, Wanted())
        waiting.merge(wanted)


def run(path: Path, environ: Mapping[str, str], *, clock: Clock = system_clock) -> int:
    """Start the daemon on `path` and serve until stopped; its passes read the time from `clock`."""

    async def main() -> int:
        return await Daemon(path, environ, clock=clock).serve()

    return asyncio.run(main())
