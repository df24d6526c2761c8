-- careerbot's report figures as SQL views over Rasa's `events` table (PostgreSQL 11+).
-- Created by `make report-views` (python -m bot.ops.report_views); the same views for
-- SQLite are in views_sqlite.sql. Definitions: bot/ops/report.py and the README.
-- The views expose no message text and no e-mail address: only counts, ids, topics, careers and channels
-- (a page's career only when it is a career id: lower-case letters, digits and _).

DROP VIEW IF EXISTS careerbot_daily CASCADE;
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
       e.answer_career, e.slot_name, e.slot_career, e.page_career,
       CASE WHEN e.type_name = 'user' THEN COALESCE(e.page_career,
            CASE WHEN e.context_type IS NULL OR e.context_type = 'null' OR (e.context_type = 'string' AND e.context = '')
                      OR (e.context_type = 'object' AND e.context = '{}') THEN '(no page context)'
                 ELSE '(other page context)' END) END AS page,
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
           CASE WHEN type_name = 'user' THEN (data::json)->>'input_channel' END AS channel,
           CASE WHEN type_name = 'bot' THEN (data::json)->'metadata'->>'utter_action' END AS utter_action,
           CASE WHEN type_name = 'bot' THEN (data::json)->'metadata'->>'answer_id' END AS real_answer_id,
           CASE WHEN type_name = 'bot' THEN (data::json)->'metadata'->>'topic' END AS real_topic,
           -- The career an answer is about (its id); answers stored before careers were recorded have none.
           CASE WHEN type_name = 'bot' AND (data::json)->'metadata'->>'answer_id' IS NOT NULL
                     AND json_typeof((data::json)->'metadata'->'career') = 'string'
                     AND (data::json)->'metadata'->>'career' ~ '^[a-z][a-z0-9_]{0,63}$'
                THEN (data::json)->'metadata'->>'career' END AS answer_career,
           CASE WHEN type_name = 'slot' THEN (data::json)->>'name' END AS slot_name,
           CASE WHEN type_name = 'slot' AND (data::json)->>'name' = 'career'
                     AND json_typeof((data::json)->'value') = 'string'
                     AND (data::json)->>'value' ~ '^[a-z][a-z0-9_]{0,63}$'
                THEN (data::json)->>'value' END AS slot_career,
           -- The page's career: the widget's data-context or a REST body's metadata.context.
           CASE WHEN type_name = 'user' AND json_typeof((data::json)->'metadata'->'context'->'career') = 'string'
                     AND (data::json)->'metadata'->'context'->>'career' ~ '^[a-z][a-z0-9_]{0,63}$'
                THEN (data::json)->'metadata'->'context'->>'career' END AS page_career,
           CASE WHEN type_name = 'user' THEN json_typeof((data::json)->'metadata'->'context') END AS context_type,
           CASE WHEN type_name = 'user' THEN (data::json)->'metadata'->>'context' END AS context,
           CASE WHEN type_name = 'slot' AND (data::json)->>'name' = 'handoff'
                THEN (data::json)->'value'->>'id' END AS handoff_id,
           CASE WHEN type_name = 'slot' AND (data::json)->>'name' = 'handoff'
                THEN (data::json)->'value'->>'status' END AS handoff_status,
           CASE WHEN type_name = 'slot' AND (data::json)->>'name' = 'feedback'
                THEN (data::json)->'value'->>'answer_id' END AS vote_answer_id,
           CASE WHEN type_name = 'slot' AND (data::json)->>'name' = 'feedback'
                THEN CASE WHEN (data::json)->'value'->>'helpful' = 'true' THEN 1 ELSE 0 END END AS vote_helpful
    FROM events
  ) t
) e;

-- The first click on each answer counts; a second changes nothing.
CREATE VIEW careerbot_votes AS
SELECT v.sender_id, v.vote_answer_id AS answer_id, v.vote_helpful AS helpful, v.timestamp AS voted_at
FROM careerbot_events v
WHERE v.vote_answer_id IS NOT NULL
  AND v.id = (SELECT MIN(w.id) FROM careerbot_events w
              WHERE w.sender_id = v.sender_id AND w.vote_answer_id = v.vote_answer_id);

-- Each handoff record once, where it first appears.
CREATE VIEW careerbot_handoff_records AS
SELECT h.sender_id, h.session_no, h.turn_no, h.handoff_id, COALESCE(h.handoff_status, 'submitted') AS status,
       h.timestamp AS at
FROM careerbot_events h
WHERE h.handoff_id IS NOT NULL
  AND h.id = (SELECT MIN(k.id) FROM careerbot_events k
              WHERE k.sender_id = h.sender_id AND k.handoff_id = h.handoff_id);

-- Each topic answer, with its rating (helpful, not helpful or unrated) and its career.
CREATE VIEW careerbot_answers AS
SELECT a.sender_id, a.session_no, a.answer_id, a.topic, a.timestamp AS answered_at,
       to_char(to_timestamp(a.timestamp) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
       CASE v.helpful WHEN 1 THEN 'helpful' WHEN 0 THEN 'not helpful' ELSE 'unrated' END AS rating,
       COALESCE(a.answer_career, '(not recorded)') AS career, a.turn_no, a.id AS event_id
FROM careerbot_events a
LEFT JOIN careerbot_votes v ON v.sender_id = a.sender_id AND v.answer_id = a.answer_id
WHERE a.answer_id IS NOT NULL
  AND a.id = (SELECT MIN(b.id) FROM careerbot_events b WHERE b.sender_id = a.sender_id AND b.answer_id = a.answer_id);

-- One row per visitor message: its page context and the career it was about, in the order the actions
-- choose one (the career it was answered about, the career it set, a page the visitor moved to, the career
-- in force, the page's), whether it was answered, and whether the bot could not answer it (the fallback,
-- or a topic the career's source does not cover with no answer before it).
CREATE VIEW careerbot_turns AS
SELECT u.sender_id, u.session_no, u.turn_no, u.timestamp AS at, u.page,
       COALESCE(
         (SELECT a.career FROM careerbot_answers a WHERE a.sender_id = u.sender_id AND a.session_no = u.session_no
            AND a.turn_no = u.turn_no ORDER BY a.event_id LIMIT 1),
         (SELECT s.slot_career FROM careerbot_events s WHERE s.sender_id = u.sender_id
            AND s.session_no = u.session_no AND s.turn_no = u.turn_no AND s.slot_career IS NOT NULL
            ORDER BY s.id DESC LIMIT 1),
         CASE WHEN u.page_career IS NOT NULL
                   AND (u.previous_page_career IS NULL OR u.previous_page_career <> u.page_career)
              THEN u.page_career END,
         (SELECT s.slot_career FROM careerbot_events s WHERE s.sender_id = u.sender_id
            AND s.session_no = u.session_no AND s.id < u.id AND s.slot_name = 'career'
            ORDER BY s.id DESC LIMIT 1),
         u.page_career,
         '(not recorded)') AS career,
       CASE WHEN EXISTS (SELECT 1 FROM careerbot_answers a WHERE a.sender_id = u.sender_id
                           AND a.session_no = u.session_no AND a.turn_no = u.turn_no) THEN 1 ELSE 0 END AS answered,
       CASE WHEN EXISTS (
              SELECT 1 FROM careerbot_events b WHERE b.sender_id = u.sender_id AND b.session_no = u.session_no
                AND b.turn_no = u.turn_no
                AND (b.utter_action IN ('utter_fallback', 'utter_fallback_offer_handoff', 'utter_other_career',
                                        'utter_clarify')
                     OR (b.utter_action IN ('utter_not_covered', 'utter_not_covered_only')
                         AND NOT EXISTS (SELECT 1 FROM careerbot_answers a WHERE a.sender_id = b.sender_id
                                           AND a.session_no = b.session_no AND a.turn_no = b.turn_no
                                           AND a.event_id < b.id))))
            THEN 1 ELSE 0 END AS could_not_answer,
       (SELECT COUNT(*) FROM careerbot_handoff_records h WHERE h.sender_id = u.sender_id
          AND h.session_no = u.session_no AND h.turn_no = u.turn_no AND h.status <> 'abandoned') AS handoffs,
       (SELECT COUNT(*) FROM careerbot_handoff_records h WHERE h.sender_id = u.sender_id
          AND h.session_no = u.session_no AND h.turn_no = u.turn_no AND h.status = 'abandoned') AS abandoned_handoffs
FROM (
  SELECT m.*, LAG(m.page_career) OVER (PARTITION BY m.sender_id, m.session_no ORDER BY m.id) AS previous_page_career
  FROM careerbot_events m
  WHERE m.type_name = 'user'
) u;

-- One row per conversation (a session with at least one visitor message).
CREATE VIEW careerbot_conversations AS
SELECT c.*,
       CASE WHEN answers > 0 AND handoffs = 0 AND not_helpful_answers = 0 THEN 1 ELSE 0 END AS deflected,
       CASE WHEN answers > 0 AND handoffs = 0 AND not_helpful_answers > 0 THEN 1 ELSE 0 END AS rated_unhelpful,
       CASE WHEN handoffs > 0 THEN 1 ELSE 0 END AS handed_off
FROM (
  SELECT e.sender_id, e.session_no,
         MIN(CASE WHEN e.type_name = 'user' THEN e.timestamp END) AS started_at,
         to_char(to_timestamp(MIN(CASE WHEN e.type_name = 'user' THEN e.timestamp END)) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
         COALESCE((SELECT u.channel FROM careerbot_events u
                   WHERE u.sender_id = e.sender_id AND u.session_no = e.session_no AND u.type_name = 'user'
                   ORDER BY u.id LIMIT 1), 'unknown') AS channel,
         SUM(CASE WHEN e.type_name = 'user' THEN 1 ELSE 0 END) AS messages,
         (SELECT COALESCE(SUM(t.could_not_answer), 0) FROM careerbot_turns t
          WHERE t.sender_id = e.sender_id AND t.session_no = e.session_no) AS fallback_messages,
         (SELECT COUNT(*) FROM careerbot_answers a
          WHERE a.sender_id = e.sender_id AND a.session_no = e.session_no) AS answers,
         (SELECT COUNT(*) FROM careerbot_answers a WHERE a.sender_id = e.sender_id AND a.session_no = e.session_no
            AND a.rating = 'not helpful') AS not_helpful_answers,
         (SELECT COUNT(*) FROM careerbot_handoff_records h WHERE h.sender_id = e.sender_id
            AND h.session_no = e.session_no AND h.status <> 'abandoned') AS handoffs,
         (SELECT COUNT(*) FROM careerbot_handoff_records h WHERE h.sender_id = e.sender_id
            AND h.session_no = e.session_no AND h.status = 'abandoned') AS abandoned_handoffs
  FROM careerbot_events e
  GROUP BY e.sender_id, e.session_no
  HAVING SUM(CASE WHEN e.type_name = 'user' THEN 1 ELSE 0 END) > 0
) c;

-- Each conversation cut by career: the messages about it, its answers and the handoffs asked for while on it.
CREATE VIEW careerbot_conversation_careers AS
SELECT p.*, c.day, c.channel,
       CASE WHEN p.answers > 0 AND p.handoffs = 0 AND p.not_helpful_answers = 0 THEN 1 ELSE 0 END AS deflected,
       CASE WHEN p.answers > 0 AND p.handoffs = 0 AND p.not_helpful_answers > 0 THEN 1 ELSE 0 END AS rated_unhelpful,
       CASE WHEN p.handoffs > 0 THEN 1 ELSE 0 END AS handed_off
FROM (
  SELECT x.sender_id, x.session_no, x.career, SUM(x.messages) AS messages, SUM(x.fallback) AS fallback_messages,
         SUM(x.answers) AS answers, SUM(x.not_helpful) AS not_helpful_answers, SUM(x.handoffs) AS handoffs,
         SUM(x.abandoned) AS abandoned_handoffs
  FROM (
    SELECT sender_id, session_no, career, 1 AS messages, could_not_answer AS fallback, 0 AS answers,
           0 AS not_helpful, handoffs, abandoned_handoffs AS abandoned
    FROM careerbot_turns
    UNION ALL
    SELECT sender_id, session_no, career, 0, 0, 1, CASE WHEN rating = 'not helpful' THEN 1 ELSE 0 END, 0, 0
    FROM careerbot_answers
  ) x
  GROUP BY x.sender_id, x.session_no, x.career
) p
JOIN careerbot_conversations c ON c.sender_id = p.sender_id AND c.session_no = p.session_no;

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
SELECT c.day, t.page, t.career, COUNT(*) AS questions, SUM(t.answered) AS answered,
       SUM(t.could_not_answer) AS could_not_answer
FROM careerbot_turns t
JOIN careerbot_conversations c ON c.sender_id = t.sender_id AND c.session_no = t.session_no
GROUP BY c.day, t.page, t.career;

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
