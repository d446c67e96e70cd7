"""Small deterministic helpers: ids and draws from the seeded generator, time rendering, JSON."""

from __future__ import annotations

import calendar
import json
import math
import random
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any


def random_hex(rng: random.Random, chars: int) -> str:
    return f"{rng.getrandbits(chars * 4):0{chars}x}"


def random_uuid4(rng: random.Random) -> str:
    value = rng.getrandbits(128)
    value = (value & ~(0xF << 76)) | (0x4 << 76)
    value = (value & ~(0x3 << 62)) | (0x2 << 62)
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit = math.exp(-lam)
    k, p = 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def weighted_status(rng: random.Random, options: tuple[tuple[int, str, int], ...]) -> tuple[int, str]:
    total = sum(w for _, _, w in options)
    pick = rng.random() * total
    for status, kind, weight in options:
        pick -= weight
        if pick < 0:
            return status, kind
    return options[-1][0], options[-1][1]


def _last_sunday(year: int, month: int) -> date:
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() + 1) % 7)


def _nth_sunday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (n - 1))


def _eu_offset(at: datetime) -> int:
    """Central European offset (CET/CEST): summer time between the last Sundays of Mar and Oct."""
    start = datetime.combine(_last_sunday(at.year, 3), time(1), UTC)
    end = datetime.combine(_last_sunday(at.year, 10), time(1), UTC)
    return 2 if start <= at < end else 1


def _us_central_offset(at: datetime) -> int:
    """US Central offset (CST/CDT): daylight time from 2nd Sunday of Mar to 1st Sunday of Nov."""
    start = datetime.combine(_nth_sunday(at.year, 3, 2), time(8), UTC)
    end = datetime.combine(_nth_sunday(at.year, 11, 1), time(7), UTC)
    return -5 if start <= at < end else -6


def render_time(at: datetime, style: str) -> str:
    if style == "naive":
        return at.replace(tzinfo=None).isoformat(timespec="milliseconds")
    if style in ("eu", "us"):
        hours = _eu_offset(at) if style == "eu" else _us_central_offset(at)
        return at.astimezone(timezone(timedelta(hours=hours))).isoformat(timespec="milliseconds")
    return at.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def route_template(path: str) -> str:
    return (
        path.replace("{n}", "{id}")
        .replace("{uuid}", "{id}")
        .replace("{hex24}", "{id}")
        .replace("{hex16}", "{id}")
    )


def dumps(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def cumulative(weights: list[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out
