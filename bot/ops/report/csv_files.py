"""The report's tables as CSV files, one per table, for a spreadsheet."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, List

from bot.ops.report.figures import FIGURE_NAMES, Figures, Report


def write_csv(report: Report, directory: Path) -> List[Path]:
    directory.mkdir(parents=True, exist_ok=True)

    def figure_row(f: Figures) -> List[Any]:
        return [getattr(f, n) for n in FIGURE_NAMES] + [
            round(f.deflection_rate, 4),
            round(f.fallback_rate, 4),
            round(f.handoff_rate, 4),
        ]

    rate_names = ["deflection_rate", "fallback_rate", "handoff_rate"]
    tables = {
        "totals.csv": ([*FIGURE_NAMES, *rate_names], [figure_row(report.totals)]),
        "trend.csv": (
            ["period_start", *FIGURE_NAMES, *rate_names],
            [[name, *figure_row(f)] for name, f in report.trend],
        ),
        "channels.csv": (
            ["channel", *FIGURE_NAMES, *rate_names],
            [[name, *figure_row(f)] for name, f in report.channels],
        ),
        # Per career and topic: a single-career store has one row per topic, as before.
        "topics.csv": (
            ["career", "topic", "label", "answers", "helpful", "not_helpful", "unrated", "rated", "helpful_rate"],
            [
                [career, t.topic, t.label, t.answers, t.helpful, t.not_helpful, t.unrated, t.rated]
                + ["" if t.helpful_rate is None else round(t.helpful_rate, 4)]
                for career, t in report.career_topics
            ],
        ),
        "careers.csv": (
            ["career", *FIGURE_NAMES, *rate_names],
            [[name, *figure_row(f)] for name, f in report.careers],
        ),
        "pages.csv": (
            ["page_context", *FIGURE_NAMES, *rate_names],
            [[name, *figure_row(f)] for name, f in report.pages],
        ),
        "page_careers.csv": (
            ["page_context", "career", "questions", "answered", "could_not_answer"],
            [[pc.page, pc.career, pc.questions, pc.answered, pc.not_answered] for pc in report.page_careers],
        ),
        "not_covered.csv": (
            ["career", "not_covered", "times", "conversations"],
            [[career, said, n, " ".join(map(str, refs))] for career, said, n, refs in report.not_covered],
        ),
        "unanswered.csv": (
            ["message", "times", "conversations"],
            [[text, n, " ".join(map(str, refs))] for text, n, refs in report.unanswered],
        ),
        "not_helpful.csv": (["topic", "question", "conversation"], [list(r) for r in report.not_helpful]),
    }
    written = []
    for name, (header, rows) in tables.items():
        path = directory / name
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
        written.append(path)
    return written
