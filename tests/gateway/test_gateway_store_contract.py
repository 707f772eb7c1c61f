"""One contract for the user store and attention ledger, run against memory and Postgres."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from services.gateway.attention import AttentionTotal, InMemoryAttentionLedger
from services.gateway.pg_store import PgAttentionLedger, PgUserStore, migrate_gateway_schema
from services.gateway.users import (
    TOKEN_PREFIX,
    DuplicateUser,
    InMemoryUserStore,
    InvalidUserName,
    Role,
    token_hash,
)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def stores(backend_dsn: str | None) -> AsyncIterator[tuple]:
    if backend_dsn is None:
        yield InMemoryUserStore(), InMemoryAttentionLedger()
        return
    dsn = backend_dsn
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    users = PgUserStore(pool)
    await users.migrate()
    await migrate_gateway_schema(pool)  # a second migration changes nothing
    yield users, PgAttentionLedger(pool)
    await pool.close()


async def test_a_new_user_gets_a_token_that_finds_it(stores) -> None:
    users, _ = stores
    user, token = await users.add("ada", Role.ANNOTATOR)
    assert (user.name, user.role) == ("ada", Role.ANNOTATOR)
    assert token.startswith(TOKEN_PREFIX)
    assert len(token) > 40
    assert await users.by_token(token) == user
    assert await users.by_token(token + "x") is None
    assert await users.users() == [user]


async def test_tokens_are_unique_and_names_too(stores) -> None:
    users, _ = stores
    _, first = await users.add("ada", Role.VIEWER)
    _, second = await users.add("bob", Role.ADMIN)
    assert first != second
    with pytest.raises(DuplicateUser):
        await users.add("ada", Role.ADMIN)
    assert [u.name for u in await users.users()] == ["ada", "bob"]


async def test_revoking_a_user_ends_its_token_and_frees_its_name(stores) -> None:
    users, _ = stores
    _, token = await users.add("ada", Role.ANNOTATOR)
    _, other = await users.add("bob", Role.VIEWER)
    assert await users.revoke("ada")
    assert await users.by_token(token) is None
    assert await users.by_token(other) is not None
    assert not await users.revoke("ada")
    _, renewed = await users.add("ada", Role.ANNOTATOR)
    assert renewed != token


@pytest.mark.parametrize("name", ["", "-x", "has space", "x" * 65, "<script>"])
async def test_bad_names_are_refused(stores, name: str) -> None:
    users, _ = stores
    with pytest.raises(InvalidUserName):
        await users.add(name, Role.VIEWER)


async def test_attention_accumulates_per_annotator_and_trajectory(stores) -> None:
    _, ledger = stores
    await ledger.add("bob", "t1", 5.0)
    await ledger.add("ada", "t1", 2.0)
    await ledger.add("bob", "t1", 2.5)
    await ledger.add("bob", "t2", 1.0)
    assert await ledger.totals() == [
        AttentionTotal("ada", "t1", 2.0),
        AttentionTotal("bob", "t1", 7.5),
        AttentionTotal("bob", "t2", 1.0),
    ]


async def test_postgres_keeps_only_the_hash(pg_dsn) -> None:
    users = await PgUserStore.connect(pg_dsn)
    try:
        await users.migrate()
        _, token = await users.add("ada", Role.VIEWER)
    finally:
        await users.close()
    connection = await asyncpg.connect(pg_dsn)
    try:
        stored = await connection.fetchval("SELECT token_hash FROM users WHERE name = 'ada'")
    finally:
        await connection.close()
    assert stored == token_hash(token)
    assert token not in stored
