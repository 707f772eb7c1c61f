"""Instances: a different service log (users, actions, outcomes, latencies) for every seed."""

import datetime
import json
import random

USERS = [
    "alice",
    "bob",
    "carol",
    "dan",
    "erin",
    "mallory",
    "trent",
    "peggy",
    "victor",
    "walter",
    "grace hopper",
    "frank smith",
    "ada lovelace",
    "alan turing",
    "mary jackson",
    "linus ward",
]
ACTIONS = ["login", "logout", "upload", "download", "delete", "search", "share", "rename"]
LINES, USERS_PER_LOG, ACTIONS_PER_LOG = 300, 8, 5


def _user_field(user):
    return f'"{user}"' if " " in user else user


def generate(seed):
    """(workspace files, hidden files) of the instance of `seed`."""
    rng = random.Random(seed)
    spaced = [u for u in USERS if " " in u]
    # Every log has quoted names to unquote, and plain ones.
    users = rng.sample(spaced, 2) + rng.sample([u for u in USERS if u not in spaced], 3)
    users += rng.sample([u for u in USERS if u not in users], USERS_PER_LOG - len(users))
    actions = rng.sample(ACTIONS, ACTIONS_PER_LOG)
    start = datetime.datetime(2024, 1, 1) + datetime.timedelta(days=rng.randrange(365))
    lines, expected = [], []
    for i in range(LINES):
        user, action = rng.choice(users), rng.choice(actions)
        ok = rng.random() < 0.7
        latency_ms = rng.randint(5, 5000)
        ts = (start + datetime.timedelta(minutes=7 * i + rng.randrange(7))).isoformat()
        status = "ok" if ok else rng.choice(["error", "timeout"])
        lines.append(
            f"ts={ts} user={_user_field(user)} action={action} status={status} "
            f"latency_ms={latency_ms}"
        )
        expected.append(
            {"user": user, "action": action, "ok": ok, "latency_s": round(latency_ms / 1000, 3)}
        )
    workspace = {"raw/service.log": "".join(line + "\n" for line in lines)}
    return workspace, {"expected.json": json.dumps(expected)}
