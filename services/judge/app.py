"""The judge's composition root: settings in, the service over real adapters out."""

from __future__ import annotations

from services.eventlog.bus import KafkaBus
from services.eventlog.pg_archive import PgArchive
from services.eventlog.pg_processed import PgProcessedEvents
from services.judge.history import ArchiveHistory
from services.judge.llm_stage import LlmJudgeStage
from services.judge.pg_llm_cache import PgLlmJudgementCache
from services.judge.rejudge import ruleset_document
from services.judge.ruleset import RulesetError, load_ruleset
from services.judge.service import JudgeService
from services.judge.settings import JudgeSettings
from services.llm.backend_pool import BackendPool
from services.runtime.process import serving, start_process

# The exit status of a ruleset that cannot be used, as `apollo judge lint` reports it.
BAD_RULESET_EXIT = 2


async def main() -> None:
    """Run the judge from its environment until SIGTERM or SIGINT."""
    settings = JudgeSettings()
    log, stop = await start_process("judge", settings)
    try:
        ruleset = load_ruleset(settings.judge_ruleset)
    except RulesetError as error:
        log.error("cannot judge under this ruleset: fix APOLLO_JUDGE_RULESET", error=str(error))
        raise SystemExit(BAD_RULESET_EXIT) from None
    processed = await PgProcessedEvents.connect(settings.postgres_dsn)
    await processed.migrate()
    archive = await PgArchive.connect(settings.postgres_dsn)
    await archive.migrate()
    # Recorded before any verdict, so the recorder exports this ruleset's series at zero first.
    await archive.record_ruleset(ruleset.version, ruleset_document(ruleset))
    cache = await PgLlmJudgementCache.connect(settings.postgres_dsn)
    await cache.migrate()
    stage = LlmJudgeStage(BackendPool(settings.judge_model_concurrency), cache)
    try:
        async with KafkaBus(settings.kafka, "apollo-judge", processed=processed) as bus:
            service = JudgeService(
                bus, ruleset, settings.judge_group, ArchiveHistory(archive), stage
            )
            async with serving(
                service, settings, lambda: bus.healthy, uses_postgres=True
            ) as server:
                log.info("judge started", kafka=settings.kafka, metrics_port=server.port)
                await stop.wait()
    finally:
        await cache.close()
        await archive.close()
        await processed.close()
