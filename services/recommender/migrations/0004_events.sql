-- Events workload: users, events (with pgvector embeddings) and interactions; A/B experiments,
-- served lists and their feedback; registered recommender versions, retraining jobs and a
-- recommendation cache with a TTL. Everything lives in PostgreSQL (no separate key-value store).

CREATE TABLE event_users (
    user_id    text PRIMARY KEY,
    home_city  text,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE events (
    event_id        text PRIMARY KEY,
    title           text NOT NULL,
    city            text NOT NULL,
    venue           text NOT NULL,
    genre           text NOT NULL,
    starts_at       timestamptz NOT NULL,
    description     text NOT NULL,
    content_hash    text NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    embedding       vector(384),
    embedding_model text,
    embedded_hash   text
);
CREATE INDEX events_city_starts ON events (city, starts_at);
CREATE INDEX events_starts ON events (starts_at);
CREATE INDEX events_embedding_hnsw ON events
    USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64);

-- One row per action; a user may view, save and purchase the same event. Item ids are not a
-- foreign key: a user's own interaction file (MovieLens style) may name items that are not events.
CREATE TABLE event_interactions (
    user_id     text NOT NULL,
    event_id    text NOT NULL,
    action      text NOT NULL CHECK (action IN ('view', 'save', 'purchase', 'rating')),
    weight      real NOT NULL CHECK (weight >= 0),
    occurred_at timestamptz NOT NULL,
    source      text NOT NULL DEFAULT 'generated',
    PRIMARY KEY (user_id, event_id, action, occurred_at)
);
CREATE INDEX event_interactions_user ON event_interactions (user_id);

CREATE TABLE experiments (
    experiment_id text PRIMARY KEY,
    name          text NOT NULL,
    description   text NOT NULL DEFAULT '',
    -- [{"name": "control", "algorithm": "popularity", "weight": 0.5}, ...]; the first is control
    variants      jsonb NOT NULL,
    goal          text NOT NULL DEFAULT 'purchase' CHECK (goal IN ('view', 'save', 'purchase')),
    status        text NOT NULL DEFAULT 'running' CHECK (status IN ('draft', 'running', 'stopped')),
    starts_at     timestamptz NOT NULL DEFAULT now(),
    ends_at       timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT experiment_window CHECK (ends_at IS NULL OR ends_at > starts_at)
);
CREATE INDEX experiments_running ON experiments (status, starts_at);

-- Every list the API served: which model, algorithm and A/B variant produced it.
CREATE TABLE model_predictions (
    prediction_id uuid PRIMARY KEY,
    model_name    text NOT NULL,
    model_version text,
    experiment_id text REFERENCES experiments (experiment_id) ON DELETE SET NULL,
    variant       text,
    algorithm     text NOT NULL,
    user_id       text NOT NULL,
    items         text[] NOT NULL,
    cached        boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX model_predictions_experiment ON model_predictions (experiment_id, variant, user_id);

CREATE TABLE ml_feedback (
    feedback_id   bigserial PRIMARY KEY,
    prediction_id uuid NOT NULL REFERENCES model_predictions (prediction_id) ON DELETE CASCADE,
    user_id       text NOT NULL,
    event_id      text NOT NULL,
    action        text NOT NULL CHECK (action IN ('view', 'save', 'purchase', 'dismiss')),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ml_feedback_prediction ON ml_feedback (prediction_id);
CREATE INDEX ml_feedback_user ON ml_feedback (user_id);

-- Registered recommender versions and their offline metrics (MLflow holds the artifacts).
CREATE TABLE model_versions (
    model_name  text NOT NULL,
    version     text NOT NULL,
    run_id      text,
    algorithms  text[] NOT NULL,
    metrics     jsonb NOT NULL,
    promoted    boolean NOT NULL DEFAULT false,
    gate        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model_name, version)
);

CREATE TABLE model_retrain_jobs (
    job_id      uuid PRIMARY KEY,
    status      text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    message     text NOT NULL DEFAULT '',
    version     text,
    promoted    boolean,
    metrics     jsonb,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);

CREATE UNLOGGED TABLE recommendation_cache (
    cache_key  text PRIMARY KEY,
    items      text[] NOT NULL,
    scores     real[] NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX recommendation_cache_expiry ON recommendation_cache (expires_at);
