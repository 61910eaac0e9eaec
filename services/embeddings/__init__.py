"""Embeddings service: encoder, chunking and the incremental refresh into pgvector."""
