"""The SQL view layer: the report's figures as views in the conversation store.

    python -m bot.ops.report_views [--print]

Creates (or replaces) the views of bot/ops/sql/views_<dialect>.sql in the store
of CAREERBOT_TRACKER_URL, so that Metabase, Grafana or Superset chart the same
figures as `make report` straight from SQL: careerbot_daily (per day and
channel), careerbot_conversations, careerbot_answers (with their rating),
careerbot_votes, careerbot_handoff_records, careerbot_events. `--print`
writes the SQL for this store's dialect instead of running it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

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

    from bot.ops.report import ReportError, _sqlite_file, display_url

    path = _sqlite_file(tracker_url)
    if path is not None and not path.is_file():
        raise ReportError(f"no conversation store at {path} (CAREERBOT_TRACKER_URL): the file does not exist")
    engine = sa.create_engine(tracker_url)
    try:
        with engine.begin() as connection:
            if not sa.inspect(connection).has_table("events"):
                raise ReportError(f"{display_url(tracker_url)} has no events table yet: start the bot once first")
            sql = sql_for(engine.dialect.name)
            for statement in statements(sql):
                connection.execute(sa.text(statement))
        return re.findall(r"CREATE VIEW (\w+)", sql)
    except sa.exc.SQLAlchemyError as error:
        cause = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise ReportError(f"cannot create the views in {display_url(tracker_url)}: {cause}") from None
    finally:
        engine.dispose()


def main(argv: Optional[List[str]] = None) -> int:
    from bot.ops.report import ReportError, display_url
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
    except (SettingsError, ReportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"created in {display_url(settings.tracker_url)}: {', '.join(views)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
