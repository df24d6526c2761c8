-- careerbot's report figures as SQL views over Rasa's `events` table (PostgreSQL 11+).
-- Created by `make report-views` (python -m bot.ops.report_views); the same views for
-- SQLite are in views_sqlite.sql. Definitions: bot/ops/report.py and the README.
-- The views expose no message text and no e-mail address: only counts, ids, topics and channels.

DROP VIEW IF EXISTS careerbot_daily CASCADE;
DROP VIEW IF EXISTS careerbot_topics;
DROP VIEW IF EXISTS careerbot_conversations;
DROP VIEW IF EXISTS careerbot_answers;
DROP VIEW IF EXISTS careerbot_votes;
DROP VIEW IF EXISTS careerbot_handoff_records;
DROP VIEW IF EXISTS careerbot_events;

-- Every event with its session number (sessions start at session_started) and the fields the figures read.
CREATE VIEW careerbot_events AS
SELECT id, sender_id, type_name, timestamp, action_name,
       SUM(CASE WHEN type_name = 'session_started' THEN 1 ELSE 0 END)
           OVER (PARTITION BY sender_id ORDER BY id ROWS UNBOUNDED PRECEDING) AS session_no,
       CASE WHEN type_name = 'user' THEN (data::json)->>'input_channel' END AS channel,
       CASE WHEN type_name = 'bot' THEN (data::json)->'metadata'->>'utter_action' END AS utter_action,
       -- Answers stored before answers had ids are keyed by their row (their topic: the response's name).
       CASE WHEN type_name = 'bot' THEN COALESCE((data::json)->'metadata'->>'answer_id',
            CASE WHEN (data::json)->'metadata'->>'utter_action' LIKE 'utter_answer_%' THEN 'row-' || id END)
            END AS answer_id,
       CASE WHEN type_name = 'bot' THEN COALESCE((data::json)->'metadata'->>'topic',
            CASE WHEN (data::json)->'metadata'->>'utter_action' LIKE 'utter_answer_%'
                 THEN substr((data::json)->'metadata'->>'utter_action', 14) END) END AS topic,
       CASE WHEN type_name = 'slot' THEN (data::json)->>'name' END AS slot_name,
       CASE WHEN type_name = 'slot' AND (data::json)->>'name' = 'handoff'
            THEN (data::json)->'value'->>'id' END AS handoff_id,
       CASE WHEN type_name = 'slot' AND (data::json)->>'name' = 'handoff'
            THEN (data::json)->'value'->>'status' END AS handoff_status,
       CASE WHEN type_name = 'slot' AND (data::json)->>'name' = 'feedback'
            THEN (data::json)->'value'->>'answer_id' END AS vote_answer_id,
       CASE WHEN type_name = 'slot' AND (data::json)->>'name' = 'feedback'
            THEN CASE WHEN (data::json)->'value'->>'helpful' = 'true' THEN 1 ELSE 0 END END AS vote_helpful
FROM events;

-- The first click on each answer counts; a second changes nothing.
CREATE VIEW careerbot_votes AS
SELECT v.sender_id, v.vote_answer_id AS answer_id, v.vote_helpful AS helpful, v.timestamp AS voted_at
FROM careerbot_events v
WHERE v.vote_answer_id IS NOT NULL
  AND v.id = (SELECT MIN(w.id) FROM careerbot_events w
              WHERE w.sender_id = v.sender_id AND w.vote_answer_id = v.vote_answer_id);

-- Each handoff record once, where it first appears.
CREATE VIEW careerbot_handoff_records AS
SELECT h.sender_id, h.session_no, h.handoff_id, COALESCE(h.handoff_status, 'submitted') AS status, h.timestamp AS at
FROM careerbot_events h
WHERE h.handoff_id IS NOT NULL
  AND h.id = (SELECT MIN(k.id) FROM careerbot_events k
              WHERE k.sender_id = h.sender_id AND k.handoff_id = h.handoff_id);

-- Each topic answer, with its rating: helpful, not helpful or unrated.
CREATE VIEW careerbot_answers AS
SELECT a.sender_id, a.session_no, a.answer_id, a.topic, a.timestamp AS answered_at,
       to_char(to_timestamp(a.timestamp) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
       CASE v.helpful WHEN 1 THEN 'helpful' WHEN 0 THEN 'not helpful' ELSE 'unrated' END AS rating
FROM careerbot_events a
LEFT JOIN careerbot_votes v ON v.sender_id = a.sender_id AND v.answer_id = a.answer_id
WHERE a.answer_id IS NOT NULL
  AND a.id = (SELECT MIN(b.id) FROM careerbot_events b WHERE b.sender_id = a.sender_id AND b.answer_id = a.answer_id);

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
         SUM(CASE WHEN e.utter_action IN ('utter_fallback', 'utter_fallback_offer_handoff', 'utter_other_career',
                                          'utter_clarify') THEN 1 ELSE 0 END) AS fallback_messages,
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

-- Per day (of the answer) and topic: the answers and their ratings. helpful_rate is over the
-- rated answers only, NULL when none was rated: an unrated answer is no verdict on its topic.
CREATE VIEW careerbot_topics AS
SELECT day, topic,
       COUNT(*) AS answers,
       SUM(CASE WHEN rating <> 'unrated' THEN 1 ELSE 0 END) AS rated,
       SUM(CASE WHEN rating = 'helpful' THEN 1 ELSE 0 END) AS helpful,
       SUM(CASE WHEN rating = 'not helpful' THEN 1 ELSE 0 END) AS not_helpful,
       SUM(CASE WHEN rating = 'unrated' THEN 1 ELSE 0 END) AS unrated,
       1.0 * SUM(CASE WHEN rating = 'helpful' THEN 1 ELSE 0 END)
           / NULLIF(SUM(CASE WHEN rating <> 'unrated' THEN 1 ELSE 0 END), 0) AS helpful_rate
FROM careerbot_answers
GROUP BY day, topic;
