"""Creating the Apollo topics on a broker."""

from __future__ import annotations

from collections.abc import Iterable

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code

from services.eventlog.topics import ALL_TOPICS, Topic

log = structlog.get_logger(__name__)


class TopicCreationFailed(RuntimeError):
    """The broker refused to create a topic for a reason other than it already existing."""


async def ensure_topics(
    bootstrap: str, topics: Iterable[Topic] = ALL_TOPICS, *, replication_factor: int = 1
) -> list[str]:
    """Create the topics that are missing (idempotent); return the names created now."""
    wanted = list(topics)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="apollo-admin")
    await admin.start()
    try:
        response = await admin.create_topics(
            [NewTopic(t.name, t.partitions, replication_factor) for t in wanted]
        )
    finally:
        await admin.close()
    created = []
    # Errors come back per topic in the response rather than as exceptions.
    for name, code, message, *_ in response.topic_errors:
        if code == 0:
            created.append(name)
        elif for_code(code) is not TopicAlreadyExistsError:
            raise TopicCreationFailed(f"could not create topic {name} on {bootstrap}: {message}")
    log.info("topics ensured", bootstrap=bootstrap, created=created)
    return created
