-- Jobs workload: postings and resumes (source data) with their embeddings and retrieval chunks.
-- Source rows carry content_hash (what the text is now); embedded_hash/embedding_model say what
-- the stored vector was computed from, so the refresh embeds exactly the rows whose pair differs.

CREATE TABLE job_postings (
    job_id          text PRIMARY KEY,
    title           text NOT NULL,
    company         text NOT NULL,
    location        text NOT NULL,
    remote          boolean NOT NULL DEFAULT false,
    seniority       text NOT NULL,
    role_family     text,
    skills          text[] NOT NULL DEFAULT '{}',
    salary_min      integer,
    salary_max      integer,
    description     text NOT NULL,
    posted_at       date,
    content_hash    text NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    embedding       vector(384),
    embedding_model text,
    embedded_hash   text,
    embedded_at     timestamptz,
    CONSTRAINT salary_range CHECK (salary_min IS NULL OR salary_max IS NULL OR salary_min <= salary_max)
);

CREATE TABLE resumes (
    resume_id        text PRIMARY KEY,
    name             text,
    headline         text NOT NULL,
    summary          text NOT NULL,
    skills           text[] NOT NULL DEFAULT '{}',
    years_experience integer,
    location         text,
    seniority        text,
    role_family      text,
    content_hash     text NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    embedding        vector(384),
    embedding_model  text,
    embedded_hash    text,
    embedded_at      timestamptz
);

-- Passages of postings for question answering: one row per chunk, cited by job_id.
CREATE TABLE job_chunks (
    job_id     text NOT NULL REFERENCES job_postings (job_id) ON DELETE CASCADE,
    chunk_no   integer NOT NULL,
    content    text NOT NULL,
    embedding  vector(384) NOT NULL,
    search_tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED,
    PRIMARY KEY (job_id, chunk_no)
);

CREATE INDEX job_postings_embedding_hnsw ON job_postings
    USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64);
CREATE INDEX resumes_embedding_hnsw ON resumes
    USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64);
CREATE INDEX job_chunks_embedding_hnsw ON job_chunks
    USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64);
CREATE INDEX job_chunks_search_tsv ON job_chunks USING gin (search_tsv);
CREATE INDEX job_postings_filters ON job_postings (seniority, remote, location);
