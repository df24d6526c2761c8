-- careerbot's report figures as SQL views over Rasa's `events` table: one definition for SQLite 3.25+
-- and PostgreSQL 11+. `make report-views` (python -m bot.ops.report_views) fills in each placeholder in
-- double braces for the store's dialect (how JSON is read, how a time becomes a day) and with the report's
-- own lists of replies and labels (bot/ops/report/loading.py); `--print` shows the SQL it runs.
-- Definitions: bot/ops/report/__init__.py and docs/handoff-and-report.md.
-- The views expose no message text and no e-mail address: only counts, ids, topics, careers and channels
-- (a page's career only when it is a career id: lower-case letters, digits and _).

DROP VIEW IF EXISTS careerbot_daily{{cascade}};
DROP VIEW IF EXISTS careerbot_topics;
DROP VIEW IF EXISTS careerbot_careers;
DROP VIEW IF EXISTS careerbot_page_careers;
DROP VIEW IF EXISTS careerbot_conversation_careers;
DROP VIEW IF EXISTS careerbot_conversations;
DROP VIEW IF EXISTS careerbot_turns;
DROP VIEW IF EXISTS careerbot_answers;
DROP VIEW IF EXISTS careerbot_votes;
DROP VIEW IF EXISTS careerbot_handoff_records;
DROP VIEW IF EXISTS careerbot_events;

-- Every event with its session number (sessions start at session_started), its turn (the visitor
-- messages so far) and the fields the figures read.
CREATE VIEW careerbot_events AS
SELECT e.id, e.sender_id, e.type_name, e.timestamp, e.action_name, e.session_no, e.turn_no, e.channel,
       e.utter_action,
       -- Answers stored before answers had ids are keyed by their row (their topic: the response's name);
       -- today only a turn's first answer message has an id, so a turn with one is not read that way.
       CASE WHEN e.type_name = 'bot' THEN COALESCE(e.real_answer_id,
            CASE WHEN e.utter_action LIKE 'utter_answer_%' AND e.turn_has_id = 0 THEN 'row-' || e.id END)
            END AS answer_id,
       CASE WHEN e.type_name = 'bot' THEN COALESCE(e.real_topic,
            CASE WHEN e.utter_action LIKE 'utter_answer_%' THEN substr(e.utter_action, 14) END) END AS topic,
       e.answer_career, e.slot_name, e.set_career, e.page_career,
       CASE WHEN e.type_name = 'user' THEN COALESCE(e.page_career,
            CASE WHEN e.context_type IS NULL OR e.context_type = 'null' OR (e.context_type = {{string}} AND e.context = '')
                      OR (e.context_type = 'object' AND e.context = '{}') THEN {{no_page}}
                 ELSE {{other_page}} END) END AS page,
       e.handoff_id, e.handoff_status, e.vote_answer_id, e.vote_helpful
FROM (
  SELECT t.*, MAX(CASE WHEN t.real_answer_id IS NOT NULL THEN 1 ELSE 0 END)
                  OVER (PARTITION BY t.sender_id, t.turn_no) AS turn_has_id
  FROM (
    SELECT id, sender_id, type_name, timestamp, action_name,
           SUM(CASE WHEN type_name = 'session_started' THEN 1 ELSE 0 END)
               OVER (PARTITION BY sender_id ORDER BY id ROWS UNBOUNDED PRECEDING) AS session_no,
           SUM(CASE WHEN type_name = 'user' THEN 1 ELSE 0 END)
               OVER (PARTITION BY sender_id ORDER BY id ROWS UNBOUNDED PRECEDING) AS turn_no,
           CASE WHEN type_name = 'user' THEN {{json input_channel}} END AS channel,
           CASE WHEN type_name = 'bot' THEN {{json metadata.utter_action}} END AS utter_action,
           CASE WHEN type_name = 'bot' THEN {{json metadata.answer_id}} END AS real_answer_id,
           CASE WHEN type_name = 'bot' THEN {{json metadata.topic}} END AS real_topic,
           -- The career an answer is about (its id); answers stored before careers were recorded have none.
           CASE WHEN type_name = 'bot' AND {{json metadata.answer_id}} IS NOT NULL
                     AND {{career_id metadata.career}}
                THEN {{json metadata.career}} END AS answer_career,
           CASE WHEN type_name = 'slot' THEN {{json name}} END AS slot_name,
           CASE WHEN type_name = 'slot' AND {{json name}} = 'career'
                     AND {{career_id value}}
                THEN {{json value}}
                -- A reply that the career's source does not cover a topic names the career where it can.
                WHEN type_name = 'bot'
                     AND {{json metadata.utter_action}} IN {{not_covered_responses}}
                     AND {{career_id metadata.career}}
                THEN {{json metadata.career}} END AS set_career,
           -- The page's career: the widget's data-context or a REST body's metadata.context.
           CASE WHEN type_name = 'user' AND {{career_id metadata.context.career}}
                THEN {{json metadata.context.career}} END AS page_career,
           CASE WHEN type_name = 'user' THEN {{json_type metadata.context}} END AS context_type,
           CASE WHEN type_name = 'user' THEN {{json metadata.context}} END AS context,
           CASE WHEN type_name = 'slot' AND {{json name}} = 'handoff'
                THEN {{json value.id}} END AS handoff_id,
           CASE WHEN type_name = 'slot' AND {{json name}} = 'handoff'
                THEN {{json value.status}} END AS handoff_status,
           CASE WHEN type_name = 'slot' AND {{json name}} = 'feedback'
                THEN {{json value.answer_id}} END AS vote_answer_id,
           CASE WHEN type_name = 'slot' AND {{json name}} = 'feedback'
                THEN CASE WHEN {{json_true value.helpful}} THEN 1 ELSE 0 END END AS vote_helpful
    FROM events
  ) t
) e;

-- The first click on each answer counts; a second changes nothing.
CREATE VIEW careerbot_votes AS
SELECT sender_id, answer_id, helpful, voted_at
FROM (
  SELECT v.sender_id, v.vote_answer_id AS answer_id, v.vote_helpful AS helpful, v.timestamp AS voted_at,
         ROW_NUMBER() OVER (PARTITION BY v.sender_id, v.vote_answer_id ORDER BY v.id) AS nth
  FROM careerbot_events v
  WHERE v.vote_answer_id IS NOT NULL
) x
WHERE nth = 1;

-- Each handoff record once, where it first appears.
CREATE VIEW careerbot_handoff_records AS
SELECT sender_id, session_no, turn_no, handoff_id, status, at
FROM (
  SELECT h.sender_id, h.session_no, h.turn_no, h.handoff_id, COALESCE(h.handoff_status, 'submitted') AS status,
         h.timestamp AS at, ROW_NUMBER() OVER (PARTITION BY h.sender_id, h.handoff_id ORDER BY h.id) AS nth
  FROM careerbot_events h
  WHERE h.handoff_id IS NOT NULL
) x
WHERE nth = 1;

-- Each topic answer once, where it first appears, with its rating (helpful, not helpful or unrated) and career.
CREATE VIEW careerbot_answers AS
SELECT a.sender_id, a.session_no, a.answer_id, a.topic, a.answered_at, a.day,
       CASE v.helpful WHEN 1 THEN 'helpful' WHEN 0 THEN 'not helpful' ELSE 'unrated' END AS rating,
       a.career, a.turn_no, a.event_id
FROM (
  SELECT b.sender_id, b.session_no, b.answer_id, b.topic, b.timestamp AS answered_at,
         {{day b.timestamp}} AS day, COALESCE(b.answer_career, {{not_recorded}}) AS career,
         b.turn_no, b.id AS event_id, ROW_NUMBER() OVER (PARTITION BY b.sender_id, b.answer_id ORDER BY b.id) AS nth
  FROM careerbot_events b
  WHERE b.answer_id IS NOT NULL
) a
LEFT JOIN careerbot_votes v ON v.sender_id = a.sender_id AND v.answer_id = a.answer_id
WHERE a.nth = 1;

-- One row per visitor message: its page context and the career it was about, in the order the actions
-- choose one (the career it was answered about, the career it set, a page the visitor moved to, the career
-- in force, the page's), whether it was answered, whether the bot could not answer it (the fallback, or a
-- topic the career's source does not cover with no answer before it), the handoffs recorded in its turn,
-- and its conversation's day and channel (those of the session's first message). Window functions only:
-- a join or a correlated subquery per message would make the views slow on a large store.
CREATE VIEW careerbot_turns AS
SELECT u.sender_id, u.session_no, u.turn_no, u.timestamp AS at, u.day, u.channel, u.page,
       COALESCE(u.answer_career, u.turn_set_career,
                CASE WHEN u.page_career IS NOT NULL
                          AND (u.previous_page_career IS NULL OR u.previous_page_career <> u.page_career)
                     THEN u.page_career END,
                u.career_in_force, u.page_career, {{not_recorded}}) AS career,
       CASE WHEN u.first_answer IS NOT NULL THEN 1 ELSE 0 END AS answered,
       CASE WHEN u.fallback = 1
                 OR (u.first_not_covered IS NOT NULL AND (u.first_answer IS NULL OR u.first_answer > u.first_not_covered))
            THEN 1 ELSE 0 END AS could_not_answer,
       u.handoffs, u.abandoned_handoffs
FROM (
  SELECT w.*,
         LAG(w.page_career) OVER (PARTITION BY w.sender_id, w.session_no ORDER BY w.id) AS previous_page_career,
         {{day MIN(w.timestamp) OVER (PARTITION BY w.sender_id, w.session_no)}} AS day,
         COALESCE(FIRST_VALUE(w.first_channel) OVER (PARTITION BY w.sender_id, w.session_no ORDER BY w.id),
                  'unknown') AS channel
  FROM (
    SELECT r.id, r.sender_id, r.session_no, r.turn_no, r.type_name, r.timestamp, r.channel AS first_channel,
           r.page, r.page_career,
           FIRST_VALUE(CASE WHEN r.is_answer = 1 THEN r.career END) OVER (
               PARTITION BY r.sender_id, r.session_no, r.turn_no ORDER BY r.is_answer DESC, r.id) AS answer_career,
           MIN(CASE WHEN r.is_answer = 1 THEN r.id END)
               OVER (PARTITION BY r.sender_id, r.session_no, r.turn_no) AS first_answer,
           FIRST_VALUE(r.set_career) OVER (
               PARTITION BY r.sender_id, r.session_no, r.turn_no
               ORDER BY CASE WHEN r.set_career IS NULL THEN 1 ELSE 0 END, r.id DESC) AS turn_set_career,
           FIRST_VALUE(CASE WHEN r.is_mark = 1 THEN r.mark_career END) OVER (
               PARTITION BY r.sender_id, r.session_no, r.career_mark_no ORDER BY r.id) AS career_in_force,
           MAX(CASE WHEN r.utter_action IN {{fallback_responses}} THEN 1 ELSE 0 END)
               OVER (PARTITION BY r.sender_id, r.session_no, r.turn_no) AS fallback,
           MIN(CASE WHEN r.utter_action IN {{not_covered_responses}} THEN r.id END)
               OVER (PARTITION BY r.sender_id, r.session_no, r.turn_no) AS first_not_covered,
           SUM(CASE WHEN r.is_handoff = 1 AND COALESCE(r.handoff_status, 'submitted') <> 'abandoned' THEN 1 ELSE 0 END)
               OVER (PARTITION BY r.sender_id, r.session_no, r.turn_no) AS handoffs,
           SUM(CASE WHEN r.is_handoff = 1 AND r.handoff_status = 'abandoned' THEN 1 ELSE 0 END)
               OVER (PARTITION BY r.sender_id, r.session_no, r.turn_no) AS abandoned_handoffs
    FROM (
      -- The career in force is the one the last marking event of the session set or answered about:
      -- a `career` slot, a not-covered reply that names its career, an answer with an id (a conversation
      -- on the default career sets no slot). career_mark_no numbers them; each group starts with its own.
      SELECT q.*, SUM(q.is_mark) OVER (PARTITION BY q.sender_id, q.session_no ORDER BY q.id ROWS UNBOUNDED PRECEDING)
                  AS career_mark_no
      FROM (
        SELECT p.*,
               CASE WHEN p.slot_name = 'career' OR (p.type_name = 'bot' AND p.set_career IS NOT NULL)
                         OR (p.is_answer = 1 AND p.answer_id NOT LIKE 'row-%') THEN 1 ELSE 0 END AS is_mark,
               CASE WHEN p.slot_name = 'career' OR (p.type_name = 'bot' AND p.set_career IS NOT NULL)
                    THEN p.set_career ELSE p.answer_career END AS mark_career
        FROM (
          -- An answer or a handoff record counts where it first appears.
          SELECT e.*, COALESCE(e.answer_career, {{not_recorded}}) AS career,
                 CASE WHEN e.answer_id IS NOT NULL
                           AND ROW_NUMBER() OVER (PARTITION BY e.sender_id, e.answer_id ORDER BY e.id) = 1
                      THEN 1 ELSE 0 END AS is_answer,
                 CASE WHEN e.handoff_id IS NOT NULL
                           AND ROW_NUMBER() OVER (PARTITION BY e.sender_id, e.handoff_id ORDER BY e.id) = 1
                      THEN 1 ELSE 0 END AS is_handoff
          FROM careerbot_events e
        ) p
      ) q
    ) r
  ) w
  WHERE w.type_name = 'user'
) u;

-- One row per conversation (a session with at least one visitor message).
CREATE VIEW careerbot_conversations AS
SELECT c.*,
       CASE WHEN answers > 0 AND handoffs = 0 AND not_helpful_answers = 0 THEN 1 ELSE 0 END AS deflected,
       CASE WHEN answers > 0 AND handoffs = 0 AND not_helpful_answers > 0 THEN 1 ELSE 0 END AS rated_unhelpful,
       CASE WHEN handoffs > 0 THEN 1 ELSE 0 END AS handed_off
FROM (
  SELECT sender_id, session_no, MIN(started_at) AS started_at, MAX(day) AS day, MAX(channel) AS channel,
         SUM(messages) AS messages, SUM(fallback) AS fallback_messages, SUM(answers) AS answers,
         SUM(not_helpful) AS not_helpful_answers, SUM(handoffs) AS handoffs, SUM(abandoned) AS abandoned_handoffs
  FROM (
    SELECT sender_id, session_no, at AS started_at, day, channel, 1 AS messages, could_not_answer AS fallback,
           0 AS answers, 0 AS not_helpful, 0 AS handoffs, 0 AS abandoned
    FROM careerbot_turns
    UNION ALL
    SELECT sender_id, session_no, NULL, NULL, NULL, 0, 0, 1, CASE WHEN rating = 'not helpful' THEN 1 ELSE 0 END, 0, 0
    FROM careerbot_answers
    UNION ALL
    SELECT sender_id, session_no, NULL, NULL, NULL, 0, 0, 0, 0, CASE WHEN status <> 'abandoned' THEN 1 ELSE 0 END,
           CASE WHEN status = 'abandoned' THEN 1 ELSE 0 END
    FROM careerbot_handoff_records
  ) x
  GROUP BY sender_id, session_no
  HAVING SUM(messages) > 0
) c;

-- Each conversation cut by career: the messages about it (and the handoffs asked for then) and its answers.
CREATE VIEW careerbot_conversation_careers AS
SELECT p.*,
       CASE WHEN p.answers > 0 AND p.handoffs = 0 AND p.not_helpful_answers = 0 THEN 1 ELSE 0 END AS deflected,
       CASE WHEN p.answers > 0 AND p.handoffs = 0 AND p.not_helpful_answers > 0 THEN 1 ELSE 0 END AS rated_unhelpful,
       CASE WHEN p.handoffs > 0 THEN 1 ELSE 0 END AS handed_off
FROM (
  SELECT y.sender_id, y.session_no, y.career, y.day, y.channel, SUM(y.messages) AS messages,
         SUM(y.fallback) AS fallback_messages, SUM(y.answers) AS answers, SUM(y.not_helpful) AS not_helpful_answers,
         SUM(y.handoffs) AS handoffs, SUM(y.abandoned) AS abandoned_handoffs
  FROM (
    SELECT x.sender_id, x.session_no, x.career, x.messages, x.fallback, x.answers, x.not_helpful, x.handoffs,
           x.abandoned,
           MAX(x.day) OVER (PARTITION BY x.sender_id, x.session_no) AS day,
           MAX(x.channel) OVER (PARTITION BY x.sender_id, x.session_no) AS channel,
           SUM(x.messages) OVER (PARTITION BY x.sender_id, x.session_no) AS conversation_messages
    FROM (
      SELECT sender_id, session_no, career, day, channel, 1 AS messages, could_not_answer AS fallback,
             0 AS answers, 0 AS not_helpful, handoffs, abandoned_handoffs AS abandoned
      FROM careerbot_turns
      UNION ALL
      SELECT sender_id, session_no, career, NULL, NULL, 0, 0, 1, CASE WHEN rating = 'not helpful' THEN 1 ELSE 0 END,
             0, 0
      FROM careerbot_answers
    ) x
  ) y
  WHERE y.conversation_messages > 0
  GROUP BY y.sender_id, y.session_no, y.career, y.day, y.channel
) p;

-- The report's figures per day and channel; rates as fractions (0 to 1).
CREATE VIEW careerbot_daily AS
SELECT day, channel,
       COUNT(*) AS conversations,
       COUNT(DISTINCT sender_id) AS visitors,
       SUM(messages) AS messages,
       SUM(answers) AS answers,
       SUM(deflected) AS deflected_conversations,
       SUM(rated_unhelpful) AS rated_unhelpful_conversations,
       SUM(handed_off) AS handoff_conversations,
       SUM(abandoned_handoffs) AS abandoned_handoffs,
       SUM(fallback_messages) AS fallback_messages,
       1.0 * SUM(deflected) / COUNT(*) AS deflection_rate,
       1.0 * SUM(fallback_messages) / SUM(messages) AS fallback_rate,
       1.0 * SUM(handed_off) / COUNT(*) AS handoff_rate
FROM careerbot_conversations
GROUP BY day, channel;

-- The same figures per day (of the conversation) and career. A conversation about two careers counts
-- under each; rates as fractions, NULL for a career with no message that day.
CREATE VIEW careerbot_careers AS
SELECT day, career,
       COUNT(*) AS conversations,
       COUNT(DISTINCT sender_id) AS visitors,
       SUM(messages) AS messages,
       SUM(answers) AS answers,
       SUM(deflected) AS deflected_conversations,
       SUM(rated_unhelpful) AS rated_unhelpful_conversations,
       SUM(handed_off) AS handoff_conversations,
       SUM(abandoned_handoffs) AS abandoned_handoffs,
       SUM(fallback_messages) AS fallback_messages,
       1.0 * SUM(deflected) / COUNT(*) AS deflection_rate,
       1.0 * SUM(fallback_messages) / NULLIF(SUM(messages), 0) AS fallback_rate,
       1.0 * SUM(handed_off) / COUNT(*) AS handoff_rate
FROM careerbot_conversation_careers
GROUP BY day, career;

-- Visitor messages per day (of the conversation), page context and the career they were about.
CREATE VIEW careerbot_page_careers AS
SELECT day, page, career, COUNT(*) AS questions, SUM(answered) AS answered,
       SUM(could_not_answer) AS could_not_answer
FROM careerbot_turns
GROUP BY day, page, career;

-- Per day (of the answer), career and topic: the answers and their ratings. helpful_rate is over the
-- rated answers only, NULL when none was rated: an unrated answer is no verdict on its topic.
CREATE VIEW careerbot_topics AS
SELECT day, career, topic,
       COUNT(*) AS answers,
       SUM(CASE WHEN rating <> 'unrated' THEN 1 ELSE 0 END) AS rated,
       SUM(CASE WHEN rating = 'helpful' THEN 1 ELSE 0 END) AS helpful,
       SUM(CASE WHEN rating = 'not helpful' THEN 1 ELSE 0 END) AS not_helpful,
       SUM(CASE WHEN rating = 'unrated' THEN 1 ELSE 0 END) AS unrated,
       1.0 * SUM(CASE WHEN rating = 'helpful' THEN 1 ELSE 0 END)
           / NULLIF(SUM(CASE WHEN rating <> 'unrated' THEN 1 ELSE 0 END), 0) AS helpful_rate
FROM careerbot_answers
GROUP BY day, career, topic;
