"""Text embeddings: a sentence-transformers model from the model catalog (installed on first use), batched.
The knowledge base and the gateway reach it through the registered embedders (``register_embedders``).

    emb = Embedder("all-minilm-l6-v2")              # loads on first use
    vectors = emb.embed(["a cat", "a kitten"])      # (2, 384) float32, unit length
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import numpy as np

from animstudio.errors import InvalidInputError, MissingDependencyError


class Embedder:
    def __init__(self, model: str, batch_size: int = 64) -> None:
        self.model_name = model
        self.batch_size = batch_size

    def _load(self) -> Any:
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging
        except ImportError as exc:
            raise MissingDependencyError.for_extra("sentence-transformers", "knowledge", "Embeddings") from exc
        from animstudio.models.install import ensure

        hf_logging.disable_progress_bar()   # no loading bars in the middle of our own output
        return SentenceTransformer(str(ensure(self.model_name)), device="cpu")

    def _model(self) -> AbstractContextManager[Any]:
        """The model, held by the broker and pinned while in use."""
        from animstudio.models.broker import broker

        return broker().use(self.model_name, self._load)

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts or not all(isinstance(t, str) for t in texts):
            raise InvalidInputError("embeddings need input: a string or a non-empty list of strings")
        with self._model() as model:
            vectors = model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                   convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)

    def count_tokens(self, texts: list[str]) -> int:
        with self._model() as model:
            return sum(len(model.tokenizer(t)["input_ids"]) for t in texts)
