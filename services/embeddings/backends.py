"""The model step of the encoder: token ids in, last hidden states out (ONNX Runtime or torch)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from services.embeddings.onnx_export import OUTPUT


class TransformerRuntime(Protocol):
    """Runs the transformer on one padded batch; safe to call from several threads."""

    name: str
    #: Most texts per run, whatever the settings say (None: no limit of its own).
    max_batch: int | None

    def hidden_states(
        self, input_ids: np.ndarray, attention_mask: np.ndarray, token_type_ids: np.ndarray
    ) -> np.ndarray:
        """(batch, tokens, dim) float32 hidden states."""
        ...


class OnnxRuntime:
    """An ONNX Runtime session on CPU; `run` releases the GIL and is thread-safe.

    A dynamically quantised model quantises activations with one scale per input tensor, so
    in a batch a text's vector would depend on its neighbours (up to 0.04 per component,
    measured): a resumed refresh would not reproduce a clean one and a pasted resume would not
    match its stored vector. int8 therefore runs one text per call, which is deterministic,
    wastes no padding, and measured no slower than batches of 8 or 32 (process CPU seconds
    for 48 corpus chunks: 4.7 at batch 1, 5.0 at 8, 5.3 at 32).
    """

    def __init__(self, model_file: Path, threads: int, name: str, *, quantized: bool) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Spinning workers burn the cores between batches, which starves the API's other
        # threads and neighbours on a shared host for no gain at these batch sizes.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(model_file), options, providers=["CPUExecutionProvider"]
        )
        self.name = name
        self.max_batch = 1 if quantized else None

    def hidden_states(
        self, input_ids: np.ndarray, attention_mask: np.ndarray, token_type_ids: np.ndarray
    ) -> np.ndarray:
        """(batch, tokens, dim) float32 hidden states."""
        (out,) = self._session.run(
            [OUTPUT],
            {
                "input_ids": input_ids,
                "attention_mask": attention_mask,
                "token_type_ids": token_type_ids,
            },
        )
        return out


class TorchRuntime:
    """The Hugging Face transformer in PyTorch on CPU (the reference backend)."""

    name = "torch"
    max_batch = None

    def __init__(self, model_path: Path, threads: int) -> None:
        import torch
        from transformers import AutoModel
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        # Process-wide in torch; the encoding process sets it once.
        torch.set_num_threads(threads)
        self._torch = torch
        self._model = AutoModel.from_pretrained(str(model_path)).eval()

    def hidden_states(
        self, input_ids: np.ndarray, attention_mask: np.ndarray, token_type_ids: np.ndarray
    ) -> np.ndarray:
        """(batch, tokens, dim) float32 hidden states."""
        torch = self._torch
        with torch.inference_mode():
            out = self._model(
                input_ids=torch.from_numpy(input_ids),
                attention_mask=torch.from_numpy(attention_mask),
                token_type_ids=torch.from_numpy(token_type_ids),
            ).last_hidden_state
        return out.numpy()
