"""Leaderboards: Redis sorted sets kept in step with the ledger, or SQL aggregation without Redis.

One sorted set per (period bucket, scope): `lb:week:2026-W48:global`, `lb:all:all:team:3`,
`lb:month:2026-11:community:7`. Each ledger entry adds its points to the sets of the buckets
its `earned_at` falls in and the scopes it was written with (global, the earner's team at the
time, the community it happened in), once its transaction commits. `rebuild()` recomputes
every set from the ledger, so the sets are a cache, never the truth; `reconcile()` (run by celery
beat) finds the boards people read that drifted from the ledger and rewrites only those.

Ranks are competition ranks ("1, 2, 2, 4"): one more than the number of people with strictly
more points. Equal points are listed oldest account first, in Redis (the member encodes the
user id so that lexicographic order matches) and in SQL alike.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Count, Sum
from django.utils import timezone

logger = logging.getLogger(__name__)

PERIODS = ("week", "month", "all")
MEMBER_BASE = 10**12
# Weekly and monthly sets outlive their period long enough to be looked back on.
EXPIRE_SECONDS = {"week": 60 * 60 * 24 * 70, "month": 60 * 60 * 24 * 400}
_client = None
_client_url = None


@dataclass(frozen=True)
class Row:
    rank: int
    user_id: int
    points: int


def redis_client():
    """The Redis connection for leaderboards, or None when Redis is not configured (embedded
    `make run`), in which case callers aggregate in SQL."""
    global _client, _client_url
    url = getattr(settings, "REDIS_URL", "")
    if not url or not getattr(settings, "LEADERBOARD_USE_REDIS", True):
        return None
    if _client is None or _client_url != url:
        import redis

        _client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        _client_url = url
    return _client


def prefix() -> str:
    return f"{settings.CHANNEL_PREFIX}:lb"


def bucket(period: str, when: datetime) -> str:
    when = when.astimezone(UTC)
    if period == "week":
        year, week, _ = when.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{when.year}-{when.month:02d}"
    return "all"


def period_start(period: str, now: datetime | None = None) -> datetime | None:
    now = (now or timezone.now()).astimezone(UTC)
    if period == "week":
        day = now - timedelta(days=now.weekday())
        return day.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "month":
        return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return None


def key(period: str, bucket_name: str, scope: str) -> str:
    return f"{prefix()}:{period}:{bucket_name}:{scope}"


def member(user_id: int) -> str:
    return f"{MEMBER_BASE - user_id:012d}"


def user_of(member_name: bytes | str) -> int:
    return MEMBER_BASE - int(member_name)


def scopes_of(*, team_id: int | None, community_id: int | None) -> list[str]:
    scopes = ["global"]
    if team_id:
        scopes.append(f"team:{team_id}")
    if community_id:
        scopes.append(f"community:{community_id}")
    return scopes


def increments(rows: Iterable[tuple[int, int, datetime, int | None, int | None]]) -> dict[str, dict[str, int]]:
    """(user_id, points, earned_at, team_id, community_id) rows → {set key: {member: points}}."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for user_id, points, earned_at, team_id, community_id in rows:
        m = member(user_id)
        for period in PERIODS:
            b = bucket(period, earned_at)
            for scope in scopes_of(team_id=team_id, community_id=community_id):
                out[key(period, b, scope)][m] += points
    return out


def apply(rows: list[tuple[int, int, datetime, int | None, int | None]]) -> bool:
    """Add committed ledger entries to the sorted sets. A failure is logged, not raised: the
    ledger is already written and `rebuild` brings the sets back in step."""
    client = redis_client()
    if client is None or not rows:
        return False
    try:
        pipe = client.pipeline(transaction=True)
        for set_key, members in increments(rows).items():
            for m, points in members.items():
                pipe.zincrby(set_key, points, m)
            period = set_key[len(prefix()) + 1:].split(":", 1)[0]
            if period in EXPIRE_SECONDS:
                pipe.expire(set_key, EXPIRE_SECONDS[period])
        pipe.execute()
        return True
    except Exception:  # noqa: BLE001 - Redis blinking must not undo earned points
        logger.warning("leaderboard update failed; run rebuild_leaderboards", exc_info=True)
        return False


def rebuild(*, chunk: int = 20000) -> dict[str, int]:
    """Recompute every leaderboard set from the ledger. Builds into fresh keys, then swaps them
    in one transaction, so readers never see a half-built board."""
    from .models import PointEntry

    client = redis_client()
    if client is None:
        return {"sets": 0, "entries": 0}
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    entries = 0
    last_id = 0
    while True:
        batch = list(
            PointEntry.objects.filter(pk__gt=last_id).order_by("pk")
            .values_list("pk", "user_id", "points", "earned_at", "team_id", "community_id")[:chunk]
        )
        if not batch:
            break
        last_id = batch[-1][0]
        entries += len(batch)
        for set_key, members in increments(row[1:] for row in batch).items():
            target = totals[set_key]
            for m, points in members.items():
                target[m] += points
    build = f"{prefix()}-build"
    old = [k for k in client.scan_iter(match=f"{prefix()}:*", count=1000)]
    pipe = client.pipeline(transaction=False)
    for set_key, members in totals.items():
        tmp = build + set_key[len(prefix()):]
        pipe.delete(tmp)
        items = list(members.items())
        for i in range(0, len(items), 5000):
            pipe.zadd(tmp, dict(items[i:i + 5000]))
    pipe.execute()
    swap = client.pipeline(transaction=True)
    for k in old:
        swap.delete(k)
    for set_key in totals:
        swap.rename(build + set_key[len(prefix()):], set_key)
        period = set_key[len(prefix()) + 1:].split(":", 1)[0]
        if period in EXPIRE_SECONDS:
            swap.expire(set_key, EXPIRE_SECONDS[period])
    swap.execute()
    return {"sets": len(totals), "entries": entries}


# One pass over each board in Redis: (people, sum of points, sum of points x user id mod a prime).
# The third figure tells points moved from one person to another apart from an intact board; the
# modulus keeps every product exact in Lua's doubles.
CHECKSUM_MOD = 1_000_003
_CHECKSUM_LUA = """
local out = {}
local mod = tonumber(ARGV[1])
local base = tonumber(ARGV[2])
for i, k in ipairs(KEYS) do
  local items = redis.call('ZRANGE', k, 0, -1, 'WITHSCORES')
  local total, weighted = 0, 0
  for j = 1, #items, 2 do
    local score = tonumber(items[j + 1])
    total = total + score
    weighted = (weighted + (score % mod) * ((base - tonumber(items[j])) % mod)) % mod
  end
  out[i] = {#items / 2, total, weighted}
end
return out
"""
_checksum_script = None


def checksum(members: dict[int, int]) -> tuple[int, int, int]:
    """What `_CHECKSUM_LUA` answers for a board holding {user_id: points}."""
    weighted = 0
    for user_id, points in members.items():
        weighted = (weighted + (points % CHECKSUM_MOD) * (user_id % CHECKSUM_MOD)) % CHECKSUM_MOD
    return len(members), sum(members.values()), weighted


def _redis_checksums(client, keys: list[str]) -> dict[str, tuple[int, int, int]]:
    global _checksum_script
    if _checksum_script is None or _checksum_script.registered_client is not client:
        _checksum_script = client.register_script(_CHECKSUM_LUA)
    out = {}
    for i in range(0, len(keys), 200):
        batch = keys[i:i + 200]
        for k, (n, total, weighted) in zip(batch, _checksum_script(keys=batch, args=[CHECKSUM_MOD, MEMBER_BASE]), strict=True):
            out[k] = (int(n), int(total), int(weighted))
    return out


def _ledger_boards(period: str, now: datetime) -> dict[str, dict[int, int]]:
    """Every board of the current `period` bucket as the ledger has it: {scope: {user_id: points}},
    in one grouped read."""
    boards: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    rows = (_entries(period, "global", now).values_list("user_id", "team_id", "community_id")
            .annotate(total=Sum("points")).order_by())
    for user_id, team_id, community_id, total in rows:
        for scope in scopes_of(team_id=team_id, community_id=community_id):
            boards[scope][user_id] += total
    return boards


def _ledger_board(period: str, scope: str, now: datetime) -> dict[int, int]:
    return dict(_entries(period, scope, now).values("user_id").annotate(total=Sum("points")).order_by()
                .values_list("user_id", "total"))


def _rewrite(client, period: str, scope: str, set_key: str, now: datetime) -> bool | None:
    """Replace one board with the ledger's, unless it turns out to agree after all (True: rewritten,
    False: it agreed, None: an update landed meanwhile, so it is left for the next run). WATCH
    makes the rewrite give way to `apply`, so a point earned meanwhile is never overwritten."""
    import redis

    with client.pipeline(transaction=True) as pipe:
        try:
            pipe.watch(set_key)
            members = _ledger_board(period, scope, now)
            if _redis_checksums(client, [set_key])[set_key] == checksum(members):
                pipe.unwatch()
                return False
            pipe.multi()
            pipe.delete(set_key)
            items = [(member(user_id), points) for user_id, points in members.items()]
            for i in range(0, len(items), 5000):
                pipe.zadd(set_key, dict(items[i:i + 5000]))
            if items and period in EXPIRE_SECONDS:
                pipe.expire(set_key, EXPIRE_SECONDS[period])
            pipe.execute()
            return True
        except redis.WatchError:
            return None


def reconcile(*, now: datetime | None = None) -> dict:
    """Compare the boards people read (this week, this month, all time; every scope) with the
    ledger, and rewrite only those that differ. Cheap: one grouped SQL read per period and one
    server-side checksum per board in Redis, no board copied over the network unless it is wrong.
    Boards of past weeks and months are left to expire."""
    import redis

    client = redis_client()
    result = {"checked": 0, "fixed": [], "busy": []}
    if client is None:
        return result
    now = now or timezone.now()
    lock = client.lock(f"{prefix()}-reconcile", timeout=600, blocking=False)
    try:
        if not lock.acquire():
            logger.info("leaderboard reconciliation already running; skipped")
            return result
        try:
            for period in PERIODS:
                b = bucket(period, now)
                ledger = {key(period, b, scope): (scope, members) for scope, members in _ledger_boards(period, now).items()}
                stored = {k.decode() if isinstance(k, bytes) else k
                          for k in client.scan_iter(match=f"{prefix()}:{period}:{b}:*", count=1000)}
                keys = sorted(set(ledger) | stored)
                in_redis = _redis_checksums(client, keys)
                result["checked"] += len(keys)
                for set_key in keys:
                    scope, members = ledger.get(set_key, (set_key[len(key(period, b, "")):], {}))
                    expected = checksum(members)
                    if in_redis[set_key] == expected:
                        continue
                    fixed = _rewrite(client, period, scope, set_key, now)
                    if fixed:
                        logger.warning(
                            "leaderboard %s differed from the ledger (Redis: %d people, %d points; ledger: %d people, "
                            "%d points); rewritten", set_key, *in_redis[set_key][:2], *expected[:2],
                        )
                        result["fixed"].append(set_key)
                    elif fixed is None:
                        result["busy"].append(set_key)
        finally:
            lock.release()
    except redis.RedisError:
        logger.warning("leaderboard reconciliation could not reach Redis; will try again", exc_info=True)
        result["error"] = "redis"
    if result["busy"]:
        logger.info("leaderboards changing while checked, left for the next run: %s", ", ".join(result["busy"]))
    return result


def _rank_rows(pairs: list[tuple[int, int]]) -> list[Row]:
    rows: list[Row] = []
    for position, (user_id, points) in enumerate(pairs, start=1):
        rank = rows[-1].rank if rows and rows[-1].points == points else position
        rows.append(Row(rank=rank, user_id=user_id, points=points))
    return rows


def top(*, period: str, scope: str, limit: int = 50, user_id: int | None = None,
        now: datetime | None = None) -> tuple[list[Row], Row | None]:
    """The first `limit` people of a board and the caller's own row (None if they have no
    points there). `scope` is "global", "team:<id>" or "community:<id>"."""
    now = now or timezone.now()
    client = redis_client()
    if client is not None:
        try:
            return _top_redis(client, period=period, scope=scope, limit=limit, user_id=user_id, now=now)
        except Exception:  # noqa: BLE001 - the board still works from SQL while Redis is away
            logger.warning("leaderboard read from Redis failed; using SQL", exc_info=True)
    return _top_sql(period=period, scope=scope, limit=limit, user_id=user_id, now=now)


def _top_redis(client, *, period, scope, limit, user_id, now):
    set_key = key(period, bucket(period, now), scope)
    pipe = client.pipeline(transaction=False)
    pipe.zrevrange(set_key, 0, limit - 1, withscores=True)
    if user_id is not None:
        pipe.zscore(set_key, member(user_id))
    replies = pipe.execute()
    rows = _rank_rows([(user_of(m), int(s)) for m, s in replies[0]])
    me = None
    if user_id is not None:
        mine = next((r for r in rows if r.user_id == user_id), None)
        if mine is not None:
            me = mine
        elif replies[1] is not None:
            score = int(replies[1])
            above = client.zcount(set_key, f"({score}", "+inf")
            me = Row(rank=above + 1, user_id=user_id, points=score)
    return rows, me


def _entries(period: str, scope: str, now: datetime):
    from .models import PointEntry

    qs = PointEntry.objects.all()
    start = period_start(period, now)
    if start is not None:
        end = {"week": start + timedelta(days=7)}.get(period)
        if period == "month":
            end = (start + timedelta(days=32)).replace(day=1)
        qs = qs.filter(earned_at__gte=start, earned_at__lt=end)
    if scope.startswith("team:"):
        qs = qs.filter(team_id=int(scope.split(":", 1)[1]))
    elif scope.startswith("community:"):
        qs = qs.filter(community_id=int(scope.split(":", 1)[1]))
    return qs


def _top_sql(*, period, scope, limit, user_id, now):
    totals = _entries(period, scope, now).values("user_id").annotate(total=Sum("points"))
    pairs = [(r["user_id"], r["total"]) for r in totals.order_by("-total", "user_id")[:limit]]
    rows = _rank_rows(pairs)
    me = None
    if user_id is not None:
        me = next((r for r in rows if r.user_id == user_id), None)
        if me is None:
            mine = _entries(period, scope, now).filter(user_id=user_id).aggregate(total=Sum("points"), n=Count("pk"))
            if mine["n"]:
                above = totals.filter(total__gt=mine["total"]).count()
                me = Row(rank=above + 1, user_id=user_id, points=mine["total"])
    return rows, me


def sql_top(**kwargs):
    """The SQL answer, whatever is configured: what the Redis sets must agree with."""
    kwargs.setdefault("now", timezone.now())
    kwargs.setdefault("user_id", None)
    kwargs.setdefault("limit", 50)
    return _top_sql(**kwargs)


__all__ = ["PERIODS", "Row", "apply", "rebuild", "reconcile", "top", "sql_top", "bucket", "period_start", "scopes_of"]
