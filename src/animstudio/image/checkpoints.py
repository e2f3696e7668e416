"""What a checkpoint is, before anything heavy loads: an SDXL, SDXL refiner or SD 1.5 pipeline (a
diffusers folder or one A1111/Civitai-style ``.safetensors`` file), a ControlNet or a LoRA; found
from the folder's ``model_index.json`` / ``config.json`` or the file's tensor names, so a wrong or
broken file is one clear line instead of a loader's traceback.

    identify("~/models/sd_xl_base_1.0.safetensors")    # Checkpoint(path=..., kind="sdxl", layout="file")
    short_hash(path)                                   # "31e35c80fc", A1111's model hash
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from animstudio.errors import InvalidInputError

Kind = Literal["sdxl", "sdxl-refiner", "sd15", "sd2", "controlnet", "lora", "unknown"]
NAMES = {"sdxl": "an SDXL pipeline", "sdxl-refiner": "an SDXL refiner", "sd15": "an SD 1.5 pipeline",
         "sd2": "an SD 2.x pipeline", "controlnet": "a ControlNet", "lora": "a LoRA", "unknown": "no known model"}
PIPELINES = {"StableDiffusionXLPipeline": "sdxl", "StableDiffusionXLImg2ImgPipeline": "sdxl-refiner",
             "StableDiffusionPipeline": "sd15", "ControlNetModel": "controlnet"}


class Checkpoint(BaseModel):
    path: Path
    kind: str
    layout: Literal["folder", "file"]


LORA_KEY = re.compile(r"lora[._](down|up|A|B)[._]")


def _file_kind(keys: list[str]) -> str:
    """The kind of a single-file checkpoint, from its tensor names."""
    def has(prefix: str) -> bool:
        return any(k.startswith(prefix) for k in keys)

    if any(LORA_KEY.search(k) or k.startswith("lora_") for k in keys):   # Kohya, peft and diffusers layouts
        return "lora"
    if has("control_model.") or has("controlnet_cond_embedding") or has("input_hint_block"):
        return "controlnet"
    if has("conditioner.embedders.1."):
        return "sdxl"
    if has("conditioner.embedders.0.model."):
        return "sdxl-refiner"
    if has("cond_stage_model.transformer."):
        return "sd15"
    if has("cond_stage_model.model."):
        return "sd2"
    return "unknown"


def identify(path: str | Path) -> Checkpoint:
    """The checkpoint at ``path``; InvalidInputError when it is missing, unreadable or broken."""
    where = Path(path).expanduser()
    if where.is_dir():
        for name in ("model_index.json", "config.json"):
            if (where / name).is_file():
                try:
                    cls = json.loads((where / name).read_text(encoding="utf-8")).get("_class_name", "")
                except (OSError, ValueError) as exc:
                    raise InvalidInputError(f"{where / name} is not readable JSON ({exc}); the folder is not a "
                                            "whole diffusers model: copy it again") from None
                kind = PIPELINES.get(cls, "unknown")
                if kind == "unknown" and (where / "adapter_config.json").is_file():
                    kind = "lora"
                return Checkpoint(path=where, kind=kind, layout="folder")
        raise InvalidInputError(f"{where} holds no model_index.json or config.json, so it is not a diffusers model "
                                "folder; give the folder saved by diffusers, or one .safetensors file")
    if not where.is_file():
        raise InvalidInputError(f"no checkpoint at {where}; give a diffusers folder or a .safetensors file "
                                "(animstudio models list shows the warehouse)")
    if where.suffix.lower() in (".ckpt", ".pt", ".pth", ".bin"):
        raise InvalidInputError(f"{where.name} is a pickled checkpoint, which can run code when loaded; use the "
                                ".safetensors version of the model")
    try:
        from safetensors import safe_open

        with safe_open(str(where), framework="pt") as f:
            keys = list(f.keys())
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types for broken files
        raise InvalidInputError(f"{where.name} is not a readable .safetensors file ({str(exc).splitlines()[0]}); "
                                "it may be cut short: download it again") from None
    return Checkpoint(path=where, kind=_file_kind(keys), layout="file")


def require(path: str | Path, *kinds: str) -> Checkpoint:
    """``identify(path)``, refused in one line unless it is one of ``kinds``."""
    found = identify(path)
    if found.kind not in kinds:
        wanted = " or ".join(NAMES[k] for k in kinds)
        raise InvalidInputError(f"{found.path.name} is {NAMES.get(found.kind, found.kind)}, not {wanted}; give "
                                f"{wanted} checkpoint")
    return found


CONFIGS = Path(__file__).with_name("configs")
CROSS_WIDTHS = {768: "sd15", 1024: "sd2", 2048: "sdxl"}   # a UNet's text width names its base model


def cross_attention_width(path: Path) -> int | None:
    """The text width a single file's UNet or ControlNet attends to (read from one tensor's shape)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        for key in f.keys():
            if key.endswith("attn2.to_k.weight"):
                return int(f.get_slice(key).get_shape()[1])
    return None


def base_of(found: Checkpoint) -> str:
    """The base model (sdxl, sd15, sd2) a ControlNet was trained for."""
    if found.layout == "folder":
        width = json.loads((found.path / "config.json").read_text(encoding="utf-8")).get("cross_attention_dim")
    else:
        width = cross_attention_width(found.path)
    return CROSS_WIDTHS.get(width, "unknown")


def file_config(found: Checkpoint) -> Path:
    """The diffusers configs that describe a single-file checkpoint's parts: the studio's own, for the
    standard SDXL, SD 1.5 and ControlNet architectures (a single file holds weights only)."""
    kind = found.kind if found.kind != "controlnet" else f"controlnet-{base_of(found)}"
    folder = CONFIGS / kind
    if not folder.is_dir():
        raise InvalidInputError(f"{found.path.name} is {NAMES.get(found.kind, found.kind)} ({kind}), which loads "
                                "only as a diffusers folder; give the folder saved by diffusers")
    return folder


def load_weights(cls: Any, found: Checkpoint, dtype: Any, what: str = "", config: str | Path | None = None) -> Any:
    """``cls`` (a diffusers pipeline or model class) from ``found``'s folder or single file, offline; a
    loader's error becomes one line naming the file (``what``: e.g. "the ControlNet "). A single file
    is read with ``config``, a diffusers folder whose configs describe it (default: the studio's for
    its kind); tokenizers missing from that folder are CLIP's."""
    if found.layout == "folder":
        load, extra = cls.from_pretrained, {}
    else:
        folder = Path(config).expanduser() if config else file_config(found)
        load, extra = cls.from_single_file, {"config": str(folder)}
        if (folder / "model_index.json").is_file():
            from animstudio.image.tokenizers import clip_tokenizer

            index = json.loads((folder / "model_index.json").read_text(encoding="utf-8"))
            for name, pad in (("tokenizer", "<|endoftext|>"), ("tokenizer_2", "!")):
                if (index.get(name) or [None])[0] and not (folder / name).is_dir():
                    extra[name] = clip_tokenizer(pad)
    try:
        return load(found.path, torch_dtype=dtype, local_files_only=True, **extra)
    except (OSError, ValueError, RuntimeError) as exc:
        raise InvalidInputError(f"could not load {what}{found.path.name}: {str(exc).splitlines()[0]}") from None


@functools.lru_cache(maxsize=64)
def _file_hash(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:10]


def short_hash(path: str | Path) -> str:
    """A1111's model hash: the first 10 hex digits of the file's sha256 (of the UNet's weights for a
    diffusers folder)."""
    where = Path(path)
    if where.is_dir():
        files = sorted((where / "unet").glob("*.safetensors")) or sorted(where.rglob("*.safetensors"))
        if not files:
            return ""
        where = files[0]
    stat = where.stat()   # hashed once per process while the file is unchanged (checkpoints run to gigabytes)
    return _file_hash(where.resolve(), stat.st_size, stat.st_mtime_ns)
