"""Runs the embedded stack: broker, Postgres, rehydrate, then every service; stops it all."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from services.cli.stack.broker import TansuBroker
from services.cli.stack.home import ApolloHome
from services.cli.stack.postgres import EmbeddedPostgres
from services.cli.stack.processes import ServiceRunner, chosen_services, stop_together
from services.cli.stack.prometheus import (
    EMBEDDED_ZERO_HOLD_MS,
    EmbeddedPrometheus,
    PrometheusNotReady,
)
from services.cli.stack.restarts import RestartBudgets
from services.cli.stack.state import ServiceProcess, StackState
from services.eventlog.admin import ensure_topics
from services.eventlog.pg_archive import PgArchive
from services.eventlog.rehydrate import rehydrate
from services.recorder.settings import RECORDER_GROUP
from services.runtime.process import stop_on_signals

log = structlog.get_logger(service="supervisor")

# Services stopped because the broker or Postgres died have nothing to finish cleanly.
STOP_FOR_RESTART_S = 3.0
# A service that dies this soon after the broker or Postgres died or came back died with
# them (its connections went), not of its own fault: its restart is not charged to it.
COLLATERAL_S = 30.0
# How often the supervisor looks for dead children.
WATCH_INTERVAL_S = 0.5
# Joining a consumer group on Tansu takes seconds; loading a model takes longer.
HEALTHY_TIMEOUT_S = 120.0


class ServicesUnhealthy(RuntimeError):
    """A service did not answer its health check in time."""


@dataclass
class Supervisor:
    """Owns every process of one embedded stack in one APOLLO_HOME."""

    home: ApolloHome
    broker: TansuBroker = field(init=False)
    postgres: EmbeddedPostgres = field(init=False)
    runners: list[ServiceRunner] = field(default_factory=list)
    prometheus: EmbeddedPrometheus | None = field(init=False)
    state: StackState = field(init=False)
    budgets: RestartBudgets = field(default_factory=RestartBudgets)
    # Children left down because their restarts ran out, so that is logged once.
    _left_down: set[str] = field(default_factory=set)
    # When the broker or Postgres was last restarted (monotonic seconds).
    _infra_restarted_at: float = float("-inf")

    def __post_init__(self) -> None:
        self.home.ensure()
        self.state = StackState(supervisor_pid=os.getpid())
        self.broker = TansuBroker(log_path=self.home.logs_dir / "tansu.log")
        self.postgres = EmbeddedPostgres(self.home.postgres_dir)
        self.prometheus = EmbeddedPrometheus.if_installed(self.home)

    async def start(self) -> None:
        """Start everything, in dependency order, and publish the addresses."""
        self.home.gateway_file.unlink(missing_ok=True)
        self.state.save(self.home.state_file)
        self.broker.start()
        self.postgres.start()
        self.state.broker_address = self.broker.address
        self.state.postgres_dsn = self.postgres.dsn
        self._note_pids()
        await self._prepare_log()
        chosen = chosen_services()
        for name in chosen:
            runner = ServiceRunner(name, self._service_env(), self.home.logs_dir / f"{name}.log")
            if "recorder" not in chosen:  # nothing archives what the gateway publishes
                runner.env["APOLLO_GATEWAY_CONFIRM_ARCHIVED"] = "false"
            self.runners.append(runner)
            self._start_service(runner)
        await self._wait_until_healthy()
        await self._start_prometheus()
        self._note_gateway()
        self.state.phase = "ready"
        self.state.save(self.home.state_file)
        log.info("stack ready", broker=self.broker.address, services=list(self.state.services))

    async def _prepare_log(self) -> None:
        await ensure_topics(self.broker.address)
        archive = await PgArchive.connect(self.postgres.dsn)
        try:
            await archive.migrate()
            offsets = await rehydrate(archive, self.broker.address)
            # The broker is new, so the recorder's stored offsets refer to a log that is
            # gone; everything republished is already archived, so it resumes after it.
            await archive.reset_offsets(RECORDER_GROUP, offsets)
        finally:
            await archive.close()

    async def _wait_until_healthy(self) -> None:
        deadline = time.monotonic() + HEALTHY_TIMEOUT_S
        while True:
            waiting = [r.name for r in self.runners if not await asyncio.to_thread(r.healthy)]
            if not waiting:
                return
            if time.monotonic() > deadline:
                raise ServicesUnhealthy(
                    f"not healthy after {HEALTHY_TIMEOUT_S:.0f}s: {', '.join(waiting)} "
                    f"(see {self.home.logs_dir})"
                )
            await asyncio.sleep(0.2)

    async def _start_prometheus(self) -> None:
        """Scrape this stack's services, when Prometheus is installed."""
        if self.prometheus is None:
            return
        self.prometheus.start(self.state.services)
        self.state.prometheus_url = self.prometheus.url
        try:
            await asyncio.to_thread(self.prometheus.wait_ready)
        except PrometheusNotReady as error:
            # Monitoring is optional: the stack runs on, `apollo status` shows it down.
            log.error("prometheus is not ready", error=str(error))

    def _note_gateway(self) -> None:
        """The gateway writes its bound addresses once it listens; it is healthy by now."""
        try:
            addresses = json.loads(self.home.gateway_file.read_text())
        except FileNotFoundError:
            return  # no gateway in this stack
        self.state.gateway_url = addresses["http"]
        self.state.gateway_grpc = addresses["grpc"]
        # A restarted gateway binds the same ports, so its addresses stay the stack's.
        for runner in self.runners:
            if runner.name == "gateway":
                runner.env["APOLLO_GATEWAY_PORT"] = addresses["http"].rsplit(":", 1)[1]
                runner.env["APOLLO_GATEWAY_GRPC_PORT"] = addresses["grpc"].rsplit(":", 1)[1]

    def _service_env(self) -> dict[str, str]:
        return {
            "APOLLO_GATEWAY_URL_FILE": str(self.home.gateway_file),
            "APOLLO_KAFKA": self.broker.address,
            "APOLLO_POSTGRES_DSN": self.postgres.dsn,
            "APOLLO_BLOB_DIR": str(self.home.blobs_dir),
            "APOLLO_SANDBOX_WORKSPACE_ROOT": str(self.home.root / "workspaces"),
            "APOLLO_RECORDER_ZERO_HOLD_MS": EMBEDDED_ZERO_HOLD_MS,
        }

    async def watch(self, stop: asyncio.Event) -> None:
        """Restart whatever dies (within each child's restart budget), until asked to stop."""
        while not stop.is_set():
            await self._restart_the_dead()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=WATCH_INTERVAL_S)

    async def _restart_the_dead(self) -> None:
        # Postgres and the broker first: a service that died with them is started with them.
        if self.postgres.exited():
            await self._restart("postgres", self._restart_postgres)
        if self.broker.exited():
            await self._restart("broker", self._restart_broker)
        collateral = time.monotonic() - self._infra_restarted_at < COLLATERAL_S
        for runner in self.runners:
            if runner.exited():
                await self._restart(
                    runner.name, self._start_service, runner, charged=not collateral
                )
        if self.prometheus is not None and self.prometheus.exited():
            await self._restart("prometheus", self.prometheus.start, self.state.services)

    async def _restart(
        self, child: str, restart: Callable[..., object], *args: object, charged: bool = True
    ) -> None:
        if charged and not self.budgets.take(child):
            if child not in self._left_down:
                log.error("restarted too often; leaving it down", child=child)
                self._left_down.add(child)
            return
        log.warning("exited; restarting", child=child)
        self._left_down.discard(child)
        try:
            if asyncio.iscoroutine(started := restart(*args)):
                await started
        # The supervisor outlives any one failed restart (a port still held, Postgres still
        # releasing its shared memory): the next round tries again, within the budget.
        except Exception:
            log.exception("restart failed; trying again", child=child)

    async def _restart_broker(self) -> None:
        """Tansu kept the log in memory: start it empty on its port and rehydrate it."""
        # The services hold positions in the log that is gone and would publish into the new
        # broker before the archive is back in it, so they stop first and start after.
        self._forgive_collateral()
        stop_together(self.runners, timeout=STOP_FOR_RESTART_S)
        self.broker.stop()  # reaps the dead process
        self.broker.start()
        self._note_pids()
        await self._prepare_log()
        self._restart_services()

    def _restart_postgres(self) -> None:
        """Postgres recovers its data from its WAL; the services reconnect by starting again."""
        self._forgive_collateral()
        stop_together(self.runners, timeout=STOP_FOR_RESTART_S)
        self.postgres.restart()
        self._note_pids()
        self._restart_services()

    def _note_pids(self) -> None:
        self.state.broker_pid = self.broker.pid
        self.state.postgres_pid = self.postgres.pid
        self.state.save(self.home.state_file)

    def _forgive_collateral(self) -> None:
        """Services that died just before the broker or Postgres was found dead, and those that
        die just after it is back, died with it: their restarts are not charged to them."""
        self._infra_restarted_at = now = time.monotonic()
        for runner in self.runners:
            self.budgets.forgive(runner.name, since=now - COLLATERAL_S)

    def _restart_services(self) -> None:
        for runner in self.runners:
            self._start_service(runner)

    def _start_service(self, runner: ServiceRunner) -> None:
        runner.start()
        self.state.services[runner.name] = ServiceProcess(runner.pid, runner.metrics_port)
        self.state.save(self.home.state_file)

    def stop(self) -> None:
        """Stop services first, then the broker, then Postgres (the durable copy) last."""
        failed = self.state.phase == "failed"
        if not failed:
            self.state.phase = "stopping"
            self.state.save(self.home.state_file)
        # The recorder stops last, so it archives what the others publish as they stop.
        recorders = [runner for runner in self.runners if runner.name == "recorder"]
        stop_together([runner for runner in self.runners if runner not in recorders])
        stop_together(recorders)
        if self.prometheus is not None:
            self.prometheus.stop()
        self.broker.stop()
        self.postgres.stop()
        if not failed:  # a failed start leaves its error for `apollo up` to report
            self.home.state_file.unlink(missing_ok=True)


async def run(home: ApolloHome) -> None:
    """Run the stack until SIGTERM or SIGINT."""
    supervisor = Supervisor(home)
    stop = stop_on_signals()
    try:
        await supervisor.start()
        await supervisor.watch(stop)
    except Exception as error:
        supervisor.state.phase = "failed"
        supervisor.state.error = f"{type(error).__name__}: {error}"
        supervisor.state.save(home.state_file)
        log.exception("stack failed to start")
        raise
    finally:
        supervisor.stop()


def main() -> None:
    """Entry point of the detached supervisor process."""
    asyncio.run(run(ApolloHome.resolve()))


if __name__ == "__main__":
    main()
