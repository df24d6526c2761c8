"""Pay: every level's range, or the one level the user asked about."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.types import DomainDict

from actions.base import Composed, Mentions, TopicAction, fill, money
from bot.knowledge import Career


class ActionAnswerPay(TopicAction):
    topic = "pay"

    def compose(self, domain: DomainDict, career: Career, mentions: Mentions, tracker: Tracker) -> Composed:
        pay = career.section("pay")
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
