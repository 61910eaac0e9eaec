"""Database bootstrap custom resource: pgvector, the application role and the SQL migrations."""
