"""Pay: every level's range, or the one level the user asked about."""

from __future__ import annotations

from actions.base import TopicAction, fill, money


class ActionAnswerPay(TopicAction):
    topic = "pay"

    def compose(self, domain, career, mentions, tracker):
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
                level=l.name,
                low=money(l.low, pay["currency"]),
                high=money(l.high, pay["currency"]),
                period=pay["period"],
            )
            for l in career.pay_levels
        ]
        return "utter_answer_pay", {"levels": "\n".join(lines)}
