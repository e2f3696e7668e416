"""The embedded engine's prompt cache on disk: once llama.cpp has read a long fixed prefix (the
agent planner's system prompt and examples: thousands of tokens, minutes on a laptop's CPU), its
slot is saved in the studio home; a server loaded later, in this process or another, restores it
before its first request with that prefix and reads only what follows.

    cache = PromptCache(home / "cache" / "prompts", "qwen2.5-coder-1.5b-instruct:16384x1:2t")
    key = cache.key(request)           # None: no system prompt to keep
    cache.restore(server, key)         # before the request (once per server)
    cache.save(server, key, response)  # after it, when it read a long prefix
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

SAVE_AFTER = 512     # a request that read at least this many prompt tokens leaves its slot on disk
KEEP = 4             # prefixes kept (each is the slot's KV cache: ~30 KB a token for a 1.5B model)


class PromptCache:
    def __init__(self, folder: Path, held_as: str) -> None:
        self.folder = folder
        self.held_as = held_as
        self._loaded: dict[str, str] = {}    # a server (its address) -> the prefix its slot holds
        self._lock = threading.Lock()         # a streamed answer's save may still run when the next request comes

    def key(self, request: dict[str, Any]) -> str | None:
        """The request's fixed prefix (its leading system messages, for this model and context) as a
        file name; None without one."""
        head = []
        for message in request.get("messages", []):
            if message.get("role") not in ("system", "developer"):
                break
            head.append(message.get("content"))
        if not head:
            return None
        digest = hashlib.sha256(json.dumps([self.held_as, head], sort_keys=True, default=str).encode()).hexdigest()
        return f"{digest[:32]}.bin"

    def _slots(self, server: Any, action: str, name: str) -> dict[str, Any] | None:
        import httpx

        try:
            reply = httpx.post(f"{server.listening_address}/slots/0?action={action}", json={"filename": name},
                               timeout=120)
        except httpx.HTTPError:
            return None
        return reply.json() if reply.status_code == 200 else None

    def restore(self, server: Any, key: str | None) -> bool:
        """Put the prefix's saved slot into ``server`` unless it holds it already; whether it did."""
        with self._lock:
            return self._restore(server, key)

    def _restore(self, server: Any, key: str | None) -> bool:
        if key is None or self._loaded.get(server.listening_address) == key or not (self.folder / key).is_file():
            return False
        done = self._slots(server, "restore", key) is not None
        if done:
            self._loaded[server.listening_address] = key
            (self.folder / key).touch()
        else:   # a file llama.cpp cannot read (another build, cut short) is made again next time
            with contextlib.suppress(OSError):
                (self.folder / key).unlink()
        return done

    def save(self, server: Any, key: str | None, response: dict[str, Any]) -> bool:
        """Keep the slot on disk when this request read a long prefix; whether it did. The file is
        written under a temporary name and renamed, so a reader never restores half of it."""
        read = (response.get("timings") or {}).get("prompt_n") or 0
        with self._lock:
            self._loaded[server.listening_address] = key or ""
            if key is None or read < SAVE_AFTER:
                return False
            self.folder.mkdir(parents=True, exist_ok=True)
            part = f"{key}.part"
            done = self._slots(server, "save", part) is not None
            if done:
                os.replace(self.folder / part, self.folder / key)
            else:
                with contextlib.suppress(OSError):
                    (self.folder / part).unlink()
            for old in sorted(self.folder.glob("*.bin"), key=lambda p: p.stat().st_mtime, reverse=True)[KEEP:]:
                with contextlib.suppress(OSError):
                    old.unlink()
            return done
