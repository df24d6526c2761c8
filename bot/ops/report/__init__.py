"""The deflection report: how many questions the bot answered without a person (python -m bot.ops.report).

loading.py streams the store's events into conversations, one sender at a time;
figures.py counts them; html_page.py, csv_files.py and cli.py write them out. The
figures, defined once here and in docs/handoff-and-report.md:

- conversation: one session of one visitor (Rasa starts a new session after
  60 minutes without a message) with at least one visitor message; it belongs
  to the day of its first message and to that message's channel. visitors:
  distinct conversation ids among them;
- messages: the visitor's messages in those conversations (button clicks too);
- answer: a topic answer the bot gave, known by its id (a bot message with
  an `answer_id`, sent by the topic actions); a question about another job or
  a clarifying question is not an answer;
- helpful / not helpful / unrated: of the answers, those whose first "Was
  this helpful?" click said yes, said no, or that were never rated. A click
  rates the answer it was shown under, even a late one; a second click on the
  same answer changes nothing. Helpful rate (per topic): helpful over the
  rated answers, shown with how many were rated; unrated answers are not
  counted against a topic, and a topic with none rated has no rate;
- deflected: a conversation with at least one answer, no handoff and no
  answer rated not helpful; answered but rated not helpful: at least one
  answer, no handoff, and an answer rated not helpful. Deflection rate:
  deflected over all conversations;
- fallback rate: visitor messages answered by the fallback (the fallback
  action, or a refusal of another job, or a clarifying question), or told that
  the career's source does not cover their topic with no answer from what it
  does cover ("could not answer"), over all messages;
- handoff rate: conversations with a submitted handoff, over all
  conversations; abandoned handoffs: forms left (cancelled, or the session
  ended) after the visitor gave an address and before the question;
  handoffs delivered / failed / pending (and resolved by hand): the submitted
  handoffs by their status in the outbox table (bot/handoff/outbox.py);
- career: each visitor message is about one career: the one its first answer
  was about, else the one the bot set replying (a topic not covered, another
  job refused), else the page's when the visitor moved to another career's
  page, else the conversation's current one (the last one set or answered
  about), else the page's, else
  "(not recorded)"; each answer counts under its own career (answers stored
  before answers named their career: "(not recorded)"), a handoff under its
  message's. Every figure is split by career over those parts of the
  conversations, so a conversation about two careers counts under each;
- page context: the career of the page a message was sent from
  (metadata.context.career, a career id), "(other page context)" for a
  context that names none, "(no page context)"; figures are split by it the
  same way, and the questions are counted per page and career;
- not covered: the topics a career's source does not cover that the bot said
  so for, counted per career;
- top unanswered messages: the messages that got the fallback, counted;
  not-helpful answers: the answers rated not helpful, with the question before
  them. Both link to the conversation's transcript in the report.

Every record (answer, vote, handoff) has an id and counts once, in the
conversation where it first appears. E-mail addresses, phone numbers and runs
of 6 or more digits are redacted in everything the report writes.
"""
