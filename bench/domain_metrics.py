"""Domain metrics: events/s the recorder's counter reads back from the archive and counts,
against events/s the archive takes in through `PgArchive.append`, on the same events.

The counter follows the archive, so it must outpace what fills it: the ratio is how many
times faster it counts than the archive ingests. Both sides run `--repeat` times on a fresh
database of one embedded Postgres, taking turns (ingest, then count what was ingested); the
median rate counts. The count starts just after the first trajectory's start, so that
trajectory's labels are read back from the archive, as after a restart. Prints one JSON line.

    python -m bench.domain_metrics [--events 20000] [--batch 500] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench._embedded import measure_on_embedded_postgres
from bench._report import ratio_line
from bench.archive_ingest import archive_ingest, fresh_database, synthetic_log
from services.eventlog.pg_archive import PgArchive
from services.recorder.domain import DomainCounter, count_after
from services.recorder.run_labels import RunLabelCache
from services.recorder.settings import DOMAIN_PAGE, RecorderSettings
from services.recorder.zero_series import ZeroSeries


async def count_rate(dsn: str, expected: int) -> float:
    """Events/s of counting everything archived after the first event (a start)."""
    archive = await PgArchive.connect(dsn)
    try:
        first = await anext(archive.iter_all(batch=1))
        after = first.position
        labels = RunLabelCache(archive, RecorderSettings().recorder_label_cache_size)
        started = time.perf_counter()
        # No scraper to wait for: the hold at zero is left out of the counting rate.
        counter = DomainCounter(labels, ZeroSeries(hold_seconds=0))
        last = await count_after(archive, counter, after, DOMAIN_PAGE)
        elapsed = time.perf_counter() - started
        if last != await archive.last_position():
            raise RuntimeError("the counter stopped short of the archive's end")
        return (expected - 1) / elapsed
    finally:
        await archive.close()


async def run(server_dsn: str, count: int, batch: int, repeat: int) -> dict:
    """Ingest then count the same events, `repeat` times; return the result line."""
    events = synthetic_log(count)
    ingested, counted = [], []
    for _ in range(repeat):
        dsn = await fresh_database(server_dsn)
        ingested.append(len(events) / await archive_ingest(dsn, events, batch))
        counted.append(await count_rate(dsn, len(events)))
    value, baseline = statistics.median(counted), statistics.median(ingested)
    return ratio_line("domain_metrics", "events_per_s", value, baseline, "events/s")


def main() -> None:
    """Start an embedded Postgres in a temporary directory, measure, print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="events per run")
    parser.add_argument("--batch", type=int, default=500, help="events per append (recorder batch)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per side; the median counts")
    args = parser.parse_args()
    measure_on_embedded_postgres(lambda dsn: run(dsn, args.events, args.batch, args.repeat))


if __name__ == "__main__":
    main()
