-- pgvector for embeddings; pg_trgm is not needed: full-text search uses built-in tsvector.
CREATE EXTENSION IF NOT EXISTS vector;
