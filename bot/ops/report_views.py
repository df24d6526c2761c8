"""The SQL view layer: the report's figures as views in the conversation store.

    python -m bot.ops.report_views [--print]

Creates (or replaces) the views of bot/ops/sql/views_<dialect>.sql in the store
of CAREERBOT_TRACKER_URL, so that Metabase, Grafana or Superset chart the same
figures as `make report` straight from SQL: careerbot_daily (per day and
channel), careerbot_careers (per day and career), careerbot_page_careers
(questions per day, page context and career), careerbot_topics (per day,
career and topic, with the helpful rate of the rated answers),
careerbot_conversations, careerbot_conversation_careers, careerbot_turns (each
visitor message with its page context and career), careerbot_answers (with
their rating and career), careerbot_votes, careerbot_handoff_records,
careerbot_events. A damaged event
(not JSON) is named, and no view is created. `--print`
writes the SQL for this store's dialect instead of running it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

from bot.ops.store import StoreError, opened

SQL_DIR = Path(__file__).resolve().parent / "sql"


def sql_for(dialect: str) -> str:
    name = "postgresql" if dialect.startswith("postgres") else "sqlite"
    return (SQL_DIR / f"views_{name}.sql").read_text(encoding="utf-8")


def statements(sql: str) -> List[str]:
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def create_views(tracker_url: str) -> List[str]:
    """Runs the view SQL in the store; returns the names of the views created."""
    import re

    import sqlalchemy as sa

    with opened(tracker_url, write=True, doing="create the views in") as store:
        with store.engine.begin() as connection:
            store.require_events(connection)
            # A damaged event would make every query of the views fail: name it now instead.
            store.check_events(connection)
            sql = sql_for(store.engine.dialect.name)
            for statement in statements(sql):
                connection.execute(sa.text(statement))
        return re.findall(r"CREATE VIEW (\w+)", sql)


def main(argv: Optional[List[str]] = None) -> int:
    from bot.settings import Settings, SettingsError

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print", action="store_true", help="print the SQL instead of running it")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        if args.print:
            print(sql_for("postgresql" if settings.tracker_url.startswith("postgres") else "sqlite"))
            return 0
        views = create_views(settings.tracker_url)
    except (SettingsError, StoreError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"created in {settings.tracker_url_display}: {', '.join(views)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
