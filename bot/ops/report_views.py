"""The SQL view layer: the report's figures as views in the conversation store.

    python -m bot.ops.report_views [--print]

Creates (or replaces) the views of bot/ops/sql/views.sql, written out for the
store's dialect, in the store of CAREERBOT_TRACKER_URL, so that Metabase, Grafana or Superset chart the same
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
import re
import sys
from pathlib import Path
from typing import Iterable, List, Optional

from bot.ops.store import StoreError, opened

# A career id is at most this long (bot/ops/report/loading.py reads careers the same way).
CAREER_ID_MAX = 64

VIEWS_SQL = Path(__file__).resolve().parent / "sql" / "views.sql"
PLACEHOLDER = re.compile(r"\{\{(\w+)(?: ([^}]*))?\}\}")


def _sqlite(name: str, arg: str) -> str:
    path = f"'$.{arg}'"
    if name == "json" or name == "json_true":  # json_true: a condition, as SQLite reads a JSON true (1)
        return f"json_extract(data, {path})"
    if name == "json_type":
        return f"json_type(data, {path})"
    if name == "career_id":
        value = f"json_extract(data, {path})"
        return (
            f"json_type(data, {path}) = 'text' AND {value} GLOB '[a-z]*' AND {value} NOT GLOB '*[^a-z0-9_]*' "
            f"AND length({value}) <= {CAREER_ID_MAX}"
        )
    if name == "day":
        return f"date({arg}, 'unixepoch')"
    return {"string": "'text'", "cascade": ""}[name]


def _postgresql(name: str, arg: str) -> str:
    keys = arg.split(".")
    node = "(data::json)" + "".join(f"->'{key}'" for key in keys)
    text = "(data::json)" + "".join(f"->'{key}'" for key in keys[:-1]) + f"->>'{keys[-1]}'" if arg else ""
    if name == "json":
        return text
    if name == "json_true":
        return f"{text} = 'true'"
    if name == "json_type":
        return f"json_typeof({node})"
    if name == "career_id":
        return f"json_typeof({node}) = 'string' AND {text} ~ '^[a-z][a-z0-9_]{{0,{CAREER_ID_MAX - 1}}}$'"
    if name == "day":
        return f"to_char(to_timestamp({arg}) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    return {"string": "'string'", "cascade": " CASCADE"}[name]


def _quoted(values: Iterable[str]) -> str:
    return "(" + ", ".join("'" + value.replace("'", "''") + "'" for value in sorted(values)) + ")"


def sql_for(dialect: str) -> str:
    """The views' SQL for one dialect: the template with each placeholder filled in."""
    from bot.ops.report import loading

    shared = {
        "fallback_responses": _quoted(loading.FALLBACK_RESPONSES),
        "not_covered_responses": _quoted(loading.NOT_COVERED_RESPONSES),
        "not_recorded": _quoted([loading.NOT_RECORDED])[1:-1],
        "no_page": _quoted([loading.NO_PAGE])[1:-1],
        "other_page": _quoted([loading.OTHER_PAGE])[1:-1],
    }
    fill = _postgresql if dialect.startswith("postgres") else _sqlite

    def placeholder(match: "re.Match[str]") -> str:
        name, arg = match.group(1), match.group(2) or ""
        return shared[name] if name in shared else fill(name, arg)

    return PLACEHOLDER.sub(placeholder, VIEWS_SQL.read_text(encoding="utf-8"))


def statements(sql: str) -> List[str]:
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def create_views(tracker_url: str) -> List[str]:
    """Runs the view SQL in the store; returns the names of the views created."""
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
