"""Annotator accounts: roles, API tokens (stored only as hashes) and the `UserStore` port."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

TOKEN_PREFIX = "apo_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class Role(StrEnum):
    """What a user may do; each role includes the ones before it."""

    VIEWER = "viewer"
    ANNOTATOR = "annotator"
    ADMIN = "admin"

    def allows(self, needed: Role) -> bool:
        """Whether this role is at least `needed`."""
        order = list(Role)
        return order.index(self) >= order.index(needed)


class InvalidUserName(ValueError):
    """A user name must be 1-64 letters, digits, '.', '_' or '-', starting alphanumeric."""


class DuplicateUser(ValueError):
    """A user with this name exists already."""


@dataclass(frozen=True)
class User:
    """An account: its name, role and when it was created."""

    name: str
    role: Role
    created_at: datetime


def new_token() -> str:
    """A fresh API token: the prefix (so leaked tokens are recognizable) and 32 random bytes."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The sha256 hex digest stored in place of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def check_name(name: str) -> str:
    """The name if valid; raise `InvalidUserName` otherwise."""
    if not _NAME.fullmatch(name):
        raise InvalidUserName(
            f"user name {name!r} must be 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


class UserStore(Protocol):
    """Accounts by name and by token hash."""

    async def migrate(self) -> None:
        """Create what is missing; safe to run on every start."""

    async def close(self) -> None:
        """Release connections."""

    async def add(self, name: str, role: Role) -> tuple[User, str]:
        """Create a user; return it and its token (shown once, never stored)."""

    async def by_token(self, token: str) -> User | None:
        """The user a token belongs to, or None."""

    async def users(self) -> list[User]:
        """Every user, by name."""

    async def revoke(self, name: str) -> bool:
        """Remove the user, so its token no longer works; whether there was one."""


class InMemoryUserStore:
    """Users in a dict, for tests; follows the same contract as `PgUserStore`."""

    def __init__(self) -> None:
        self._by_hash: dict[str, User] = {}

    async def migrate(self) -> None:
        """Nothing to create."""

    async def close(self) -> None:
        """Nothing to release."""

    async def add(self, name: str, role: Role) -> tuple[User, str]:
        """Create a user; return it and its token."""
        check_name(name)
        if any(u.name == name for u in self._by_hash.values()):
            raise DuplicateUser(f"user {name!r} exists already")
        token = new_token()
        user = User(name, Role(role), datetime.now(UTC))
        self._by_hash[token_hash(token)] = user
        return user, token

    async def by_token(self, token: str) -> User | None:
        """The user a token belongs to, or None."""
        return self._by_hash.get(token_hash(token))

    async def users(self) -> list[User]:
        """Every user, by name."""
        return sorted(self._by_hash.values(), key=lambda u: u.name)

    async def revoke(self, name: str) -> bool:
        """Remove the user, so its token no longer works; whether there was one."""
        hashes = [h for h, user in self._by_hash.items() if user.name == name]
        for digest in hashes:
            del self._by_hash[digest]
        return bool(hashes)
