"""The Slack event ids already handled, on a real SQLite file and a real PostgreSQL server.

Each SeenEvents object here stands for one Rasa instance; they share the database as instances do.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from bot.channels.slack_events import KEEP_S, TABLE, SeenEvents
from bot.devtools.cluster import Postgres


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
        return
    postgres = Postgres().create()
    try:
        yield postgres.url
    finally:
        postgres.close()


@pytest.fixture
def instances(store_url):
    created = []

    def make(**kwargs):
        seen = SeenEvents(store_url, **kwargs)
        created.append(seen)
        return seen

    yield make
    for seen in created:
        seen.close()


def test_an_event_id_is_taken_once_on_any_instance(instances):
    first, second = instances(), instances()
    assert first.take("Ev01", now=1000.0)
    assert not first.take("Ev01", now=1001.0)
    assert not second.take("Ev01", now=1002.0)
    assert second.take("Ev02", now=1003.0)


def test_instances_that_get_one_event_at_once_take_it_once(instances):
    """Also on an empty database: every instance creates the table at the same moment."""
    seen = [instances() for _ in range(6)]
    with ThreadPoolExecutor(len(seen)) as pool:
        taken = list(pool.map(lambda s: s.take("Ev-same"), seen))
    assert taken.count(True) == 1


def test_ids_are_kept_for_the_retry_window_then_deleted(instances, store_url):
    seen = instances(purge_every_s=60.0)
    assert seen.take("Ev-old", now=0.0)
    assert not seen.take("Ev-old", now=KEEP_S - 1)  # Slack's retries come within minutes
    # Deleted by the first take once the window and a purge interval have passed.
    assert seen.take("Ev-new", now=KEEP_S + 120)
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as connection:
            assert [row[0] for row in connection.execute(sa.text(f"SELECT event_id FROM {TABLE}"))] == ["Ev-new"]
    finally:
        engine.dispose()


def test_a_store_that_cannot_be_written_raises_rather_than_answering(tmp_path):
    """The channel answers 503 then, so that Slack retries; it never guesses "new" or "seen"."""
    seen = SeenEvents(f"sqlite:///{tmp_path / 'missing' / 'tracker.db'}")
    with pytest.raises(sa.exc.SQLAlchemyError):
        seen.take("Ev03")
    seen.close()
