"""Pay, as the career's source gives it: ranges by job level, or a median, a mean and percentiles."""

from __future__ import annotations

from typing import Dict, List

from rasa_sdk import Tracker
from rasa_sdk.types import DomainDict

from actions.base import Composed, Mentions, TopicAction, fill, money
from bot.knowledge import Career


def figure_lines(domain: DomainDict, career: Career) -> str:
    """One line per measure, its annual figure first: "- Median: $63,380 a year ($30.47 an hour)"."""
    pay = career.section("pay")
    by_measure: Dict[str, List[str]] = {}
    for figure in career.pay_figures:
        by_measure.setdefault(figure.measure, []).append(
            fill(domain, f"utter_pay_per_{figure.per}", amount=money(figure.amount, pay["currency"]))
        )
    lines = []
    for measure, amounts in by_measure.items():
        others = fill(domain, "utter_pay_also", amounts=", ".join(amounts[1:])) if amounts[1:] else ""
        label = fill(domain, f"utter_pay_measure_{measure}")
        lines.append(fill(domain, "utter_pay_figure_line", measure=label, amount=amounts[0], also=others))
    return "\n".join(lines)


class ActionAnswerPay(TopicAction):
    topic = "pay"

    def compose(self, domain: DomainDict, career: Career, mentions: Mentions, tracker: Tracker) -> Composed:
        pay = career.section("pay")
        if not career.pay_levels:
            # The source gives no pay by job level: say so when one was asked for, then what it gives.
            response = "utter_answer_pay_no_levels" if mentions.job_level else "utter_answer_pay_figures"
            return response, {"figures": figure_lines(domain, career), "as_of": career.as_of("pay") or ""}
        level = mentions.level(career)
        if level is not None:
            return "utter_answer_pay_level", {
                "level": level.name,
                "low": money(level.low, pay["currency"]),
                "high": money(level.high, pay["currency"]),
                "period": pay["period"],
            }
        lines = [
            fill(
                domain,
                "utter_pay_line",
                level=level.name,
                low=money(level.low, pay["currency"]),
                high=money(level.high, pay["currency"]),
                period=pay["period"],
            )
            for level in career.pay_levels
        ]
        return "utter_answer_pay", {"levels": "\n".join(lines)}
