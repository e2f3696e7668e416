"""Text embeddings: a sentence-transformers model from the model catalog (installed on first use), batched.
The knowledge base and the gateway reach it through the registered embedders (``register_embedders``).

    emb = Embedder("all-minilm-l6-v2")              # loads on first use
    vectors = emb.embed(["a cat", "a kitten"])      # (2, 384) float32, unit length
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from animstudio.errors import InvalidInputError, MissingDependencyError


class Embedder:
    def __init__(self, model: str, batch_size: int = 64) -> None:
        self.model_name = model
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                try:
                    from sentence_transformers import SentenceTransformer
                    from transformers.utils import logging as hf_logging
                except ImportError as exc:
                    raise MissingDependencyError.for_extra("sentence-transformers", "knowledge", "Embeddings") from exc
                from animstudio.models.install import ensure

                hf_logging.disable_progress_bar()   # no loading bars in the middle of our own output
                self._model = SentenceTransformer(str(ensure(self.model_name)), device="cpu")
            return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts or not all(isinstance(t, str) for t in texts):
            raise InvalidInputError("embeddings need input: a string or a non-empty list of strings")
        model = self._load()
        vectors = model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)

    def count_tokens(self, texts: list[str]) -> int:
        tokenizer = self._load().tokenizer
        return sum(len(tokenizer(t)["input_ids"]) for t in texts)
