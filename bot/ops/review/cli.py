"""The review inbox's command: python -m bot.ops.review (docs/review.md).

    list [--json]            the waiting messages in groups of similar ones, largest first
    label ID INTENT          a group's or one message's messages become training examples of INTENT
    out-of-scope ID          ... become off-topic (negative) examples
    ignore ID                ... leave the inbox, nothing learnt
    needs-content ID         ... go on the content team's list: the topic was right, the fact is missing
    content [--json]         that list, per career
    serve [--host H] [--port P]  the inbox as a page on 127.0.0.1:8090 (make review; bot/ops/review/page.py)

ID is a group id (g...) or a message id, as `list` prints them. Every subcommand takes
--data DIR (the Rasa data, default data/) and --review DIR (the decisions, default review/).
The store is CAREERBOT_TRACKER_URL's, as the report reads it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from bot.ops.review.decisions import DATA_DIR, REVIEW_DIR, ReviewError, decide, needs_content
from bot.ops.review.inbox import Inbox, load_inbox
from bot.ops.store import StoreError
from bot.vectors import VectorsMissing

# Errors an owner can fix, each one line: exit 1.
OWNER_ERRORS = (StoreError, ReviewError, VectorsMissing)


def inbox_json(inbox: Inbox) -> Dict[str, Any]:
    """The inbox as `list --json` prints it and the page shows it (no sender ids but each group's transcript's)."""
    return {
        "waiting": inbox.waiting,
        "groups": [
            {
                "id": g.id,
                "count": g.count,
                "examples": g.examples,
                "reasons": dict(g.reasons.most_common()),
                "intents": dict(g.intents.most_common()),
                "messages": [
                    {
                        "id": m.id,
                        "text": m.text,
                        "reason": m.reason,
                        "intent": m.intent,
                        "confidence": m.confidence,
                        "career": m.career,
                        "channel": m.channel,
                        "at": m.at,
                    }
                    for m in g.messages
                ],
                "transcript": g.messages[0].sender_id,
            }
            for g in inbox.groups
        ],
    }


def _counts(counter: Dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in counter.items()) or "none"


def list_text(data: Dict[str, Any]) -> str:
    if not data["groups"]:
        return "Nothing waiting in the inbox."
    lines = [f"{data['waiting']} messages waiting, in {len(data['groups'])} groups (largest first)"]
    for g in data["groups"]:
        lines += [
            "",
            f"{g['id']}  {g['count']} message{'s' if g['count'] != 1 else ''}  reasons: {_counts(g['reasons'])}"
            f"  predicted: {_counts(g['intents'])}",
            *(
                f"  {m['id']}  {m['reason']:<24} {m['career']:<30} {json.dumps(m['text'], ensure_ascii=False)}"
                for m in g["messages"]
            ),
        ]
    return "\n".join(lines)


def content_text(found: Dict[str, List[Dict[str, Any]]]) -> str:
    if not found:
        return "No message is marked 'needs content'."
    lines: List[str] = []
    for career, entries in found.items():
        lines += [f"{career}: {len(entries)}"]
        lines += [f"  {e.get('topic') or '?':<24} {json.dumps(e.get('text'), ensure_ascii=False)}" for e in entries]
    return "\n".join(lines)


def _options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data", type=Path, default=DATA_DIR, help="the Rasa data folder (default: data/)")
    common.add_argument("--review", type=Path, default=REVIEW_DIR, help="the decisions' folder (default: review/)")
    return common


def parser() -> argparse.ArgumentParser:
    """The command's parser; each subcommand's function is its `run` default."""
    top = argparse.ArgumentParser(prog="python -m bot.ops.review", description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _options()
    listing = commands.add_parser("list", parents=[common], help="the waiting messages, grouped")
    listing.add_argument("--json", action="store_true", help="as JSON")
    listing.set_defaults(run=_list)
    label = commands.add_parser("label", parents=[common], help="training examples of INTENT")
    label.add_argument("id", metavar="ID")
    label.add_argument("intent", metavar="INTENT")
    label.set_defaults(run=_decision("label"))
    for name, decision, what in (
        ("out-of-scope", "out_of_scope", "off-topic examples"),
        ("ignore", "ignore", "out of the inbox, nothing learnt"),
        ("needs-content", "needs_content", "on the content team's list"),
    ):
        command = commands.add_parser(name, parents=[common], help=what)
        command.add_argument("id", metavar="ID")
        command.set_defaults(run=_decision(decision), intent=None)
    content = commands.add_parser("content", parents=[common], help="the needs-content list, per career")
    content.add_argument("--json", action="store_true", help="as JSON")
    content.set_defaults(run=_content)
    serve = commands.add_parser("serve", parents=[common], help="the inbox as a page (make review)")
    serve.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1; another needs CAREERBOT_REVIEW_TOKEN")
    serve.add_argument("--port", type=int, default=8090, help="default 8090")
    serve.set_defaults(run=_serve)
    return top


def _tracker_url() -> str:
    from bot.settings import Settings, SettingsError

    try:
        return Settings.from_env().tracker_url
    except SettingsError as error:
        raise StoreError(str(error)) from None


def _list(args: argparse.Namespace) -> int:
    data = inbox_json(load_inbox(_tracker_url(), args.review))
    print(json.dumps(data, ensure_ascii=False, indent=1) if args.json else list_text(data))
    return 0


def _decision(decision: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        messages = load_inbox(_tracker_url(), args.review).find(args.id)
        done = decide(messages, decision, args.intent, data_dir=args.data, review_dir=args.review)
        what = f"labelled {args.intent}" if decision == "label" else decision.replace("_", " ")
        print(f"{done} message{'s' if done != 1 else ''} decided: {what}")
        return 0

    return run


def _content(args: argparse.Namespace) -> int:
    found = needs_content(args.review)
    print(json.dumps(found, ensure_ascii=False, indent=1) if args.json else content_text(found))
    return 0


def _serve(args: argparse.Namespace) -> int:
    # Imported here: the page builds its inbox with inbox_json above.
    from bot.ops.review.page import serve

    return serve(args.host, args.port, args.data, args.review)


def main(argv: Optional[List[str]] = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.run(args))
    except OWNER_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
