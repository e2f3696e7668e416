"""LoRAs: a registry of the studio's (``loras.yaml`` in the project folder or the studio home, like the
voice registry) and applying several at once to a loaded pipeline as peft adapters.

    # loras.yaml
    mira:
      file: loras/mira_v2.safetensors    # beside this file, a path, or a name in the warehouse
      kind: character                    # character, style or background
      triggers: [mira girl]              # added to the prompt when missing
      weight: 0.8                        # default weight

    apply_loras(pipe, "mira girl waving <lora:inkwash:0.6>", {"mira": 1.0}, "sdxl")

A LoRA is loaded once per pipeline and switched on or off by ``set_adapters`` per request, so swapping
LoRAs never reloads the base model. Kohya / A1111 files load as diffusers converts them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from animstudio.errors import InvalidInputError, invalid_input

REGISTRY = "loras.yaml"


class LoraEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    file: str = Field(min_length=1, description="the .safetensors file")
    kind: Literal["character", "style", "background"] = Field("style", description="what it adds")
    triggers: list[str] = Field(default_factory=list, description="words that call it up")
    weight: float = Field(1.0, ge=-4, le=4, description="default weight")
    base: Literal["sdxl", "sd15"] | None = Field(None, description="the base model it was trained on")
    description: str = ""


def registry_files() -> list[Path]:
    """The registries read, later ones overriding earlier: the studio home's, then the project's."""
    from animstudio.config import load_settings

    return [p for p in (load_settings().home / REGISTRY, Path.cwd() / REGISTRY) if p.is_file()]


def load_registry(files: list[Path] | None = None) -> dict[str, tuple[LoraEntry, Path]]:
    """name -> (entry, the folder its relative file is read from)."""
    found: dict[str, tuple[LoraEntry, Path]] = {}
    for path in registry_files() if files is None else files:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise InvalidInputError(f"{path} is not readable YAML ({str(exc).splitlines()[0]}); fix the file") from None
        if not isinstance(data, dict):
            raise InvalidInputError(f"{path} must map LoRA names to their entries (name: {{file: ..., weight: ...}})")
        for name, entry in data.items():
            try:
                found[str(name)] = (LoraEntry.model_validate(entry), path.parent)
            except ValidationError as exc:
                raise invalid_input(exc, f"LoRA {name!r} in {path}", LoraEntry.model_fields, "known fields") from exc
    return found


def resolve(name: str, registry: dict[str, tuple[LoraEntry, Path]] | None = None) -> tuple[Path, LoraEntry]:
    """The file of LoRA ``name`` (a registry name, a path or a warehouse name) and its entry."""
    from animstudio.config import load_settings

    registry = load_registry() if registry is None else registry
    entry, folder = registry.get(name, (LoraEntry(file=name), Path.cwd()))
    warehouse = load_settings().warehouse
    for candidate in (folder / entry.file, Path(entry.file).expanduser(), warehouse / entry.file,
                      warehouse / f"{entry.file}.safetensors"):
        if candidate.is_file():
            return candidate, entry
    known = ", ".join(sorted(registry)) or "none yet"
    raise InvalidInputError(f"no LoRA {name!r}: not in the registry ({known}), nor a file; add it to {REGISTRY} "
                            "or give the .safetensors path")


LORA_TAG = re.compile(r"<lora:([^:>]+)(?::([-+]?\d*\.?\d+))?>")


def split_tags(prompt: str) -> tuple[str, dict[str, float]]:
    """The prompt without its ``<lora:name:weight>`` tags, and the tags (weight 1 when not given)."""
    tags = {m.group(1).strip(): float(m.group(2)) if m.group(2) else 1.0 for m in LORA_TAG.finditer(prompt)}
    return re.sub(r"\s{2,}", " ", LORA_TAG.sub("", prompt)).strip(" ,"), tags


def adapter_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", Path(name).stem) or "lora"


def apply_loras(pipe: Any, prompt: str, loras: dict[str, float], base: str) -> str:
    """Set the pipeline's adapters to the request's LoRAs (the prompt's tags and ``loras``); the prompt
    without tags and with missing trigger words added."""
    text, tags = split_tags(prompt)
    wanted = {**tags, **loras}
    loaded: set[str] = getattr(pipe, "studio_loras", set())
    if not wanted:
        if loaded:
            pipe.disable_lora()
        return text
    registry = load_registry()
    names, weights = [], []
    for name, weight in wanted.items():
        path, entry = resolve(name, registry)
        if entry.base is not None and entry.base != base:
            raise InvalidInputError(f"LoRA {name!r} was trained for {entry.base}, but the checkpoint is {base}; use a "
                                    f"LoRA made for {base}")
        adapter = adapter_name(name)
        if adapter not in loaded:
            _load(pipe, path, adapter, name, base)
            loaded.add(adapter)
            pipe.studio_loras = loaded
        names.append(adapter)
        weights.append(weight if name in loras or name in tags else entry.weight)
        missing = [t for t in entry.triggers if t.lower() not in text.lower()]
        if missing:
            text = ", ".join([text, *missing])
    pipe.enable_lora()
    pipe.set_adapters(names, adapter_weights=weights)
    return text


def _load(pipe: Any, path: Path, adapter: str, name: str, base: str) -> None:
    from animstudio.image.checkpoints import identify

    kind = identify(path).kind
    if kind != "lora":
        raise InvalidInputError(f"{path.name} (LoRA {name!r}) is not a LoRA but {kind}; give a LoRA file")
    if getattr(pipe, "fusing_unet", False):   # the fast path's fused QKV projections would skip the LoRA's q, k, v
        pipe.unfuse_qkv_projections(unet=True, vae=False)
    try:
        pipe.load_lora_weights(str(path), adapter_name=adapter)
    except (ValueError, RuntimeError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise InvalidInputError(f"LoRA {name!r} does not fit this {base} checkpoint ({first}); it was probably "
                                f"trained for another base model: use one made for {base}") from None
