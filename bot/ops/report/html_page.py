"""The report as one self-contained HTML page: inline SVG charts, each with a table; no script, no CDN."""

from __future__ import annotations

import html
from datetime import datetime, timezone
from typing import Any, Iterable, List, Mapping, Optional, Sequence, TextIO, Tuple

from bot.ops.report.figures import Figures, Report, inbox_note, pct
from bot.ops.report.loading import Conversation, redacted


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def rate_chart(
    title: str,
    rows: Sequence[Tuple[str, Optional[float]]],
    chart_id: str,
    of: Optional[Sequence[int]] = None,
    table: Optional[str] = None,
) -> str:
    """Horizontal bars on a fixed 0-100 % axis (SVG scaled to the page), with the same numbers as a table.

    A rate of None (nothing to rate) has no bar and says so; `of` is each rate's
    denominator, written after it ("50.0 % of 2"), since a rate over 2 is not one over 200.
    `table` replaces the chart's own table when the page has a fuller one with the same figures.
    """

    def value(i: int, rate: Optional[float]) -> str:
        if rate is None:
            return "none rated"
        return f"{rate * 100:.1f} %" + (f" of {of[i]}" if of is not None else "")

    # Room for the longest label at about 7.5 px a character, within reason.
    label_w = int(max(90, min(210, 7.5 * max((len(name) for name, _ in rows), default=0) + 12)))
    bar_w, row_h = 200, 26
    tail = int(7.5 * max((len(value(i, rate)) for i, (_, rate) in enumerate(rows)), default=6) + 12)
    width, height = label_w + bar_w + max(60, tail), len(rows) * row_h + 30
    parts = []
    for tick in (0, 25, 50, 75, 100):
        x = label_w + bar_w * tick / 100
        parts.append(
            f"<line x1='{x}' y1='0' x2='{x}' y2='{height - 20}' stroke='#c5ccd6'/>"
            f"<text x='{x}' y='{height - 6}' text-anchor='middle'>{tick} %</text>"
        )
    for i, (name, rate) in enumerate(rows):
        y = i * row_h
        parts.append(f"<text x='{label_w - 8}' y='{y + 18}' text-anchor='end'>{_e(name)}</text>")
        if rate is not None:
            parts.append(f"<rect x='{label_w}' y='{y + 5}' width='{bar_w * rate:.1f}' height='16' fill='#0b4f8a'/>")
        parts.append(f"<text x='{label_w + bar_w * (rate or 0) + 6:.1f}' y='{y + 18}'>{_e(value(i, rate))}</text>")
    if table is None:
        table = _table(["", title], [(name, "–" if rate is None else pct(rate)) for name, rate in rows])
    return (
        f"<figure><svg id='{chart_id}' class='chart' role='img' aria-labelledby='{chart_id}-t' "
        f"viewBox='0 0 {width} {height}' preserveAspectRatio='xMinYMin meet'>"
        f"<title id='{chart_id}-t'>{_e(title)}, 0 to 100 %</title>{''.join(parts)}</svg>"
        f"<figcaption>{_e(title)} (the table below has the same figures)</figcaption></figure>{table}"
    )


def _volume_ticks(top: int) -> List[int]:
    """0 to at least `top` in at most 5 steps of 1, 2 or 5 times a power of ten."""
    step = 1
    while -(-top // step) > 4:
        for factor in (2, 5 / 2, 2):  # 1 -> 2 -> 5 -> 10 -> 20 ...
            step = int(step * factor)
            if -(-top // step) <= 4:
                break
    return list(range(0, max(step, -(-top // step) * step) + 1, step))


def volume_chart(report: Report) -> str:
    """Conversations per period as bars on a 0-based axis, and as a table: how much each rate stands on."""
    rows = report.trend
    if not rows:
        return ""
    # top: room for the count above the tallest bar.
    width, height, left, bottom, top = 380, 200, 46, 30, 20
    plot_w, plot_h = width - left - 12, height - bottom - top
    ticks = _volume_ticks(max(f.conversations for _, f in rows))
    step = plot_w / len(rows)
    parts = []
    for tick in ticks:
        y = top + plot_h * (1 - tick / ticks[-1])
        parts.append(
            f"<line x1='{left}' y1='{y:.1f}' x2='{left + plot_w}' y2='{y:.1f}' stroke='#c5ccd6'/>"
            f"<text x='{left - 6}' y='{y + 4:.1f}' text-anchor='end'>{tick}</text>"
        )
    every = max(1, -(-len(rows) // 4))
    for i, (name, f) in enumerate(rows):
        x, h = left + i * step, plot_h * f.conversations / ticks[-1]
        parts.append(
            f"<rect x='{x + step * 0.15:.1f}' y='{top + plot_h - h:.1f}' width='{step * 0.7:.1f}' "
            f"height='{h:.1f}' fill='#0b4f8a'/>"
        )
        if len(rows) <= 14 and f.conversations:
            parts.append(
                f"<text x='{x + step / 2:.1f}' y='{top + plot_h - h - 4:.1f}' text-anchor='middle'>"
                f"{f.conversations}</text>"
            )
        if i % every == 0:
            parts.append(f"<text x='{x + step / 2:.1f}' y='{height - 8}' text-anchor='middle'>{_e(name[5:])}</text>")
    table = _table(
        [report.granularity.capitalize() + " from", "Conversations", "Visitors", "Messages"],
        [(name, f.conversations, f.visitors, f.messages) for name, f in rows],
    )
    title = f"Conversations per {report.granularity}"
    return (
        f"<figure><svg id='volume' class='chart' role='img' aria-labelledby='volume-t' "
        f"viewBox='0 0 {width} {height}' preserveAspectRatio='xMinYMin meet'>"
        f"<title id='volume-t'>{_e(title)}, 0 to {ticks[-1]}</title>{''.join(parts)}</svg>"
        f"<figcaption>{_e(title)}: how many conversations each period's rates below are over "
        f"(the table below has the same figures)</figcaption></figure>{table}"
    )


def trend_chart(report: Report) -> str:
    """Deflection, fallback and handoff rate per period, as lines on a 0-100 % axis, and as a table."""
    rows = report.trend
    if not rows:
        return ""
    width, height, left, bottom = 380, 220, 46, 40
    plot_w, plot_h = width - left - 28, height - bottom - 10
    step = plot_w / max(1, len(rows) - 1)
    series = (
        ("Deflection", "deflection_rate", "#0b4f8a", ""),
        ("Fallback", "fallback_rate", "#b3261e", "6 3"),
        ("Handoff", "handoff_rate", "#1e7b34", "2 3"),
    )
    parts = []
    for tick in (0, 25, 50, 75, 100):
        y = 10 + plot_h * (1 - tick / 100)
        parts.append(
            f"<line x1='{left}' y1='{y}' x2='{left + plot_w}' y2='{y}' stroke='#c5ccd6'/>"
            f"<text x='{left - 6}' y='{y + 4}' text-anchor='end'>{tick} %</text>"
        )
    every = max(1, -(-len(rows) // 4))
    for i, (name, _) in enumerate(rows):
        if i % every == 0:
            parts.append(
                f"<text x='{left + i * step:.1f}' y='{height - 16}' text-anchor='middle'>{_e(name[5:])}</text>"
            )
    for legend, (name, attr, colour, dash) in enumerate(series):
        # A period without conversations has no rate: the line breaks there instead of dropping to 0.
        runs: List[List[str]] = [[]]
        for i, (_, f) in enumerate(rows):
            if not f.conversations:
                runs.append([])
                continue
            x, y = left + i * step, 10 + plot_h * (1 - getattr(f, attr))
            runs[-1].append(f"{x:.1f},{y:.1f}")
            parts.append(f"<circle cx='{x:.1f}' cy='{y:.1f}' r='3' fill='{colour}'/>")
        for run in runs:
            if len(run) > 1:
                parts.append(
                    f"<polyline points='{' '.join(run)}' fill='none' stroke='{colour}' "
                    f"stroke-width='2.5' stroke-dasharray='{dash}'/>"
                )
        parts.append(f"<text x='{left + legend * 105}' y='{height - 1}' fill='{colour}'>— {name}</text>")
    table = _table(
        [report.granularity.capitalize() + " from", "Conversations", "Deflection", "Fallback", "Handoff"],
        [
            (
                name,
                f.conversations,
                *(
                    (pct(f.deflection_rate), pct(f.fallback_rate), pct(f.handoff_rate))
                    if f.conversations
                    else ("–", "–", "–")
                ),
            )
            for name, f in rows
        ],
    )
    title = f"Rates per {report.granularity}"
    return (
        f"<figure><svg id='trend' class='chart' role='img' aria-labelledby='trend-t' "
        f"viewBox='0 0 {width} {height}' preserveAspectRatio='xMinYMin meet'>"
        f"<title id='trend-t'>{_e(title)}: deflection, fallback and handoff rate, 0 to 100 %</title>"
        f"{''.join(parts)}</svg><figcaption>{_e(title)} (the table below has the same figures)</figcaption>"
        f"</figure>{table}"
    )


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], raw_columns: Sequence[int] = ()) -> str:
    head = "".join(f"<th scope='col'>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell if i in raw_columns else _e(cell)}</td>" for i, cell in enumerate(row)) + "</tr>"
        for row in rows
    )
    # A table wider than a phone scrolls inside its box, which the keyboard can reach.
    return f"<div class='table' tabindex='0'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def _links(numbers: Iterable[int]) -> str:
    return ", ".join(f"<a href='#c{n}'>#{n}</a>" for n in numbers)


def write_html(report: Report, meta: Mapping[str, str], out: TextIO) -> None:
    """The page, written as it is made: the transcripts, which can be most of it, one at a time."""
    before, marker, after = _page(report, meta).partition(TRANSCRIPTS)
    out.write(before)
    if marker:
        for number in sorted(report.linked):
            out.write(_transcript(report.transcript(number)))
    out.write(after)


# Where the transcripts go in the page (no text the page could hold: a NUL is never written).
TRANSCRIPTS = "\x00transcripts\x00"


def _page(report: Report, meta: Mapping[str, str]) -> str:
    t = report.totals
    header = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in meta.items())
    if not t.conversations:
        body = "<p class='empty'><strong>No conversations in this period.</strong></p>"
    else:
        figures = "".join(
            f"<div class='figure'>{_e(name)}<b>{_e(value)}</b></div>"
            for name, value in (
                ("Conversations", t.conversations),
                ("Visitors", t.visitors),
                ("Messages", t.messages),
                ("Answers", t.answers),
                ("Deflection rate", pct(t.deflection_rate)),
                ("Fallback rate", pct(t.fallback_rate)),
                ("Handoff rate", pct(t.handoff_rate)),
                ("Answered, rated not helpful", t.rated_unhelpful_conversations),
                ("Handoffs abandoned", t.abandoned_handoffs),
                *(
                    [
                        (
                            "Handoffs delivered / failed / pending",
                            "{sent} / {failed} / {pending}".format(**report.deliveries),
                        )
                    ]
                    if report.deliveries
                    else []
                ),
            )
        )
        rates = rate_chart(
            "Rates",
            [("Deflection", t.deflection_rate), ("Fallback", t.fallback_rate), ("Handoff", t.handoff_rate)],
            "rates",
        )
        channel_rows = [
            (name, f.conversations, f.messages, pct(f.deflection_rate), pct(f.fallback_rate), pct(f.handoff_rate))
            for name, f in report.channels
        ]
        channel_chart = rate_chart(
            "Deflection rate by channel", [(name, f.deflection_rate) for name, f in report.channels], "channels"
        )
        topic_table = _table(
            ["Topic", "Answers", "Rated", "Helpful", "Not helpful", "Unrated", "Helpful, of the rated"],
            [
                (
                    tf.label,
                    tf.answers,
                    tf.rated,
                    tf.helpful,
                    tf.not_helpful,
                    tf.unrated,
                    "–" if tf.helpful_rate is None else pct(tf.helpful_rate),
                )
                for tf in report.topics
            ],
        )
        helpful_chart = rate_chart(
            "Rated helpful, of the answers rated, by topic",
            [(tf.label, tf.helpful_rate) for tf in report.topics],
            "helpful",
            of=[tf.rated for tf in report.topics],
            table=topic_table,
        )
        split_headers = ["Conversations", "Messages", "Answers", "Deflection", "Could not answer", "Handed off"]

        def split_row(name: str, f: Figures) -> Tuple[Any, ...]:
            return (
                name,
                f.conversations,
                f.messages,
                f.answers,
                pct(f.deflection_rate),
                f"{f.fallback_messages} ({pct(f.fallback_rate)})",
                f"{f.handoff_conversations} ({pct(f.handoff_rate)})",
            )

        careers = _table(["Career", *split_headers], [split_row(name, f) for name, f in report.careers])
        pages = _table(["Page context", *split_headers], [split_row(name, f) for name, f in report.pages])
        page_careers = _table(
            ["Page context", "About the career", "Questions", "Answered", "Could not answer"],
            [(pc.page, pc.career, pc.questions, pc.answered, pc.not_answered) for pc in report.page_careers],
        )
        career_topics = _table(
            ["Career", "Topic", "Answers", "Rated", "Helpful", "Not helpful", "Unrated", "Helpful, of the rated"],
            [
                (
                    career,
                    tf.label,
                    tf.answers,
                    tf.rated,
                    tf.helpful,
                    tf.not_helpful,
                    tf.unrated,
                    "–" if tf.helpful_rate is None else pct(tf.helpful_rate),
                )
                for career, tf in report.career_topics
            ],
        )
        not_covered = (
            _table(
                ["Times", "Career", "Not covered", "Conversations"],
                [(n, _e(career), _e(said), _links(refs)) for career, said, n, refs in report.not_covered],
                raw_columns=(1, 2, 3),
            )
            if report.not_covered
            else "<p>None.</p>"
        )
        unanswered = _table(
            ["Times", "Message", "Conversations"],
            [(n, _e(text), _links(refs)) for text, n, refs in report.unanswered],
            raw_columns=(1, 2),
        )
        not_helpful = _table(
            ["Topic", "Question", "Conversation"],
            [(_e(label), _e(q), _links([n])) for label, q, n in report.not_helpful],
            raw_columns=(0, 1, 2),
        )
        transcripts = TRANSCRIPTS if report.linked else ""
        body = f"""<div class="figures">{figures}</div>
<h2>Rates</h2>{rates}
<h2>Over time</h2>{volume_chart(report)}{trend_chart(report)}
<h2>By channel</h2>{channel_chart}
{_table(["Channel", "Conversations", "Messages", "Deflection", "Fallback", "Handoff"], channel_rows)}
<h2>Answers by topic</h2>{helpful_chart}
<h2>By career</h2>
<p>Each message counts under the career the bot answered it about (else the career the conversation was on,
or its page's); each answer under its own career. A conversation about two careers counts under each.</p>
{careers}
<h3>Answers by career and topic</h3>{career_topics}
<h2>By page context</h2>
<p>The career of the page each message was sent from (the widget's <code>data-context</code>).</p>
{pages}
<h3>Questions by page context and the career they were about</h3>{page_careers}
<h2>Top unanswered messages</h2>
<p>What visitors asked that the bot could not answer: candidates for new content.</p>
<p>{_e(inbox_note(report)).replace("make review", "<code>make review</code>")}</p>{unanswered}
<h3>Not covered by the career's source</h3>{not_covered}
<h2>Answers rated not helpful</h2>{not_helpful}
<h2>Transcripts</h2>{transcripts or "<p>None referenced.</p>"}"""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>careerbot deflection report</title>
<style>
*, *::before, *::after {{ box-sizing: border-box; }}
body {{ font: 16px/1.5 system-ui, sans-serif; color: #1f1f1f; max-width: 62rem; margin: 0 auto; padding: 16px;
        overflow-wrap: break-word; }}
dl.meta {{ display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 2px 12px; margin: 0 0 16px; }}
dl.meta dt {{ font-weight: 600; }}
/* A store URL is one long word: break-word does not shrink a grid cell, anywhere does. */
dl.meta dd {{ margin: 0; overflow-wrap: anywhere; }}
.figures {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(9rem, 1fr)); gap: 8px; }}
.figure {{ border: 1px solid #c5ccd6; border-radius: 8px; padding: 8px 12px; }}
.figure b {{ display: block; font-size: 1.4rem; }}
figure {{ margin: 8px 0; }} svg.chart {{ width: 100%; max-width: 40rem; height: auto; display: block; }}
svg text {{ font: 13px system-ui, sans-serif; fill: #1f1f1f; }}
.table {{ max-width: 100%; overflow-x: auto; }}
table {{ border-collapse: collapse; margin: 8px 0 16px; }}
td, th {{ border-bottom: 1px solid #c5ccd6; padding: 4px 8px; text-align: left; vertical-align: top; }}
.transcript {{ border-left: 3px solid #c5ccd6; padding-left: 12px; margin: 12px 0; }}
.transcript p {{ margin: 4px 0; white-space: pre-wrap; }}
a {{ color: #0b4f8a; }}
@media (max-width: 480px) {{ body {{ padding: 12px; }} td, th {{ padding: 4px; font-size: 14px; }} }}
</style></head><body>
<h1>careerbot deflection report</h1>
<dl class="meta">{header}</dl>
{body}
</body></html>
"""


def _transcript(c: Conversation) -> str:
    from bot.logs import sender_tag

    lines = "".join(
        f"<p><b>{'Visitor' if who == 'visitor' else 'Bot'}</b> "
        f"<small>{datetime.fromtimestamp(at, timezone.utc):%Y-%m-%d %H:%M}</small>: {_e(redacted(text))}</p>"
        for who, text, at in c.transcript
    )
    return (
        f"<section class='transcript' id='c{c.number}'><h3>Conversation #{c.number} "
        f"({_e(c.channel)}, visitor {_e(sender_tag(c.sender_id))})</h3>{lines}</section>"
    )
