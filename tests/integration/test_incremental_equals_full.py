"""Property: however the files arrive, incremental runs end where one full build does.

Each seeded sequence lands the same small set of files in a random order and in random
batches: files arrive late, one day's events come in two loads, a later file redelivers events
already loaded, the data crosses a month boundary, and the as-of date moves forward (an
explicit AS_OF on some runs, the last day with calls on others). After every batch the loader
and an incremental `dbt run` do what daily_refresh does; after the last one, every mart must
equal a single full build from all the files. INCREMENTAL_SEQUENCES raises the number of
sequences (CI keeps it small: each dbt run costs seconds here).
"""

from __future__ import annotations

import datetime as dt
import os
import random
from pathlib import Path

import pytest

from tests import incremental_support as inc
from tests.support import load_events, query, run_dbt, warehouse_path

SEQUENCES = int(os.environ.get("INCREMENTAL_SEQUENCES", "3"))
LAST_DAY = dt.date(2026, 11, 10)


@pytest.fixture(scope="module")
def deliveries(tmp_path_factory: pytest.TempPathFactory) -> list[inc.Delivery]:
    return inc.build_deliveries(inc.generate_sample(tmp_path_factory.mktemp("sample")))


@pytest.fixture(scope="module")
def full_build(tmp_path_factory: pytest.TempPathFactory, deliveries: list[inc.Delivery]) -> dict:
    """One full build from every file at once, with the as-of date left to the data."""
    root = tmp_path_factory.mktemp("full")
    warehouse = warehouse_path(root)
    inc.land(root / "landing", deliveries)
    load_events(root / "landing", warehouse)
    run_dbt(warehouse, "run")
    return inc.marts_rows(warehouse)


def arrival_order(rng: random.Random, deliveries: list[inc.Delivery]) -> list[list[inc.Delivery]]:
    """A random order (a redelivery still after its original) cut into 2 to 4 batches."""
    order = deliveries[:]
    rng.shuffle(order)
    position = {d.name: i for i, d in enumerate(order)}
    for delivery in deliveries:
        if delivery.after and position[delivery.name] < position[delivery.after]:
            i, j = position[delivery.name], position[delivery.after]
            order[i], order[j] = order[j], order[i]
            position = {d.name: k for k, d in enumerate(order)}
    cuts = sorted(rng.sample(range(1, len(order)), rng.randint(1, 3)))
    return [order[a:b] for a, b in zip([0, *cuts], [*cuts, len(order)], strict=True)]


def last_call_day(warehouse: Path) -> dt.date:
    return query(
        warehouse, "select max(cast(event_time as date)) from raw.events where event_type = 'api_request'"
    )[0][0]


@pytest.mark.parametrize("seed", range(SEQUENCES))
def test_random_arrival_orders_end_equal_to_a_full_build(
    seed: int, deliveries: list[inc.Delivery], full_build: dict, tmp_path: Path
) -> None:
    """Over a minute because it must be: two to four real incremental builds per arrival order,
    each compared with a full build of the same files."""
    rng = random.Random(seed)
    batches = arrival_order(rng, deliveries)
    landing, warehouse = tmp_path / "landing", warehouse_path(tmp_path)
    as_of_so_far = dt.date.min
    history = []
    for number, batch in enumerate(batches, start=1):
        inc.land(landing, batch)
        load_events(landing, warehouse)
        data_as_of = last_call_day(warehouse)
        is_last = number == len(batches)
        # The as-of date only moves forward: an explicit AS_OF at or after the last one, or the
        # data's own last day when that is not earlier. The last run leaves it to the data.
        if is_last or (data_as_of >= as_of_so_far and rng.random() < 0.5):
            as_of, explicit_as_of = data_as_of, None
        else:
            first = max(as_of_so_far, dt.date(2026, 10, 10))
            as_of = first + dt.timedelta(days=rng.randint(0, max((LAST_DAY - first).days, 0)))
            explicit_as_of = as_of.isoformat()
        as_of_so_far = as_of
        history.append(f"{[d.name for d in batch]} AS_OF={explicit_as_of}")
        run_dbt(warehouse, "run", as_of=explicit_as_of)
        assert query(warehouse, "select as_of_date from intermediate.int_as_of_date") == [(as_of,)]
    rebuilt = query(
        warehouse,
        "select count(*) filter (where not full_rebuild) from meta.incremental_state "
        "where model_name = 'stg_events'",
    )[0][0]
    assert rebuilt == len(batches) - 1, "every run after the first is incremental"
    problems = inc.differences(inc.marts_rows(warehouse), full_build)
    assert not problems, f"seed {seed}, batches:\n" + "\n".join(history) + "\n" + "\n".join(problems)
