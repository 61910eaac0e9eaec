-- Events integrity: users bound to the API client that first asked for them (deployed mode,
-- X-Beacon-Client from API Gateway), and feedback recorded once per (list, event, action).

CREATE TABLE IF NOT EXISTS event_user_clients (
    user_id   text PRIMARY KEY,
    client_id text NOT NULL,
    bound_at  timestamptz NOT NULL DEFAULT now()
);

-- Keep the first of any repeated feedback before the unique index makes repeats impossible.
DELETE FROM ml_feedback later USING ml_feedback earlier
WHERE later.prediction_id = earlier.prediction_id
  AND later.event_id = earlier.event_id
  AND later.action = earlier.action
  AND later.feedback_id > earlier.feedback_id;
CREATE UNIQUE INDEX IF NOT EXISTS ml_feedback_once ON ml_feedback (prediction_id, event_id, action);
