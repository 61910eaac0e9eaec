-- Every served readmission prediction, for live drift checks (`beacon drift check --live`).
-- De-identified: the API accepts no patient or encounter ids, and only the model's feature
-- columns are kept. Rows are written in batches off the request path by the API.

CREATE TABLE prediction_log (
    id              bigserial PRIMARY KEY,
    predicted_at    timestamptz NOT NULL,
    model_name      text NOT NULL,
    model_version   text NOT NULL,
    features        jsonb NOT NULL,
    score           real NOT NULL CHECK (score >= 0 AND score <= 1)
);

CREATE INDEX prediction_log_model_time ON prediction_log (model_name, predicted_at);
