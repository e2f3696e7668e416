"""The ``parameters`` text A1111, Forge and Civitai read from a picture: prompt, negative prompt and one
line of ``Key: value`` pairs; written into PNGs (with a JSON sidecar) and read back.

    p = Parameters(prompt="mira waving", negative_prompt="blurry", steps=30, sampler="DPM++ 2M",
                   schedule_type="Karras", cfg_scale=6, seed=7, width=832, height=1216,
                   model="sd_xl_base_1.0", model_hash="31e35c80fc", loras={"inkwash": 0.6})
    format_parameters(p)
    # mira waving <lora:inkwash:0.6>
    # Negative prompt: blurry
    # Steps: 30, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6, Seed: 7, Size: 832x1216, ...
    write_png(image, Path("out/mira-7.png"), p)         # + out/mira-7.json
    read_png_parameters(Path("out/mira-7.png")) == p    # True

A LoRA lives in the prompt as ``<lora:name:weight>``, as A1111 writes it: ``loras`` is filled from the
tags, and a LoRA given only in ``loras`` has its tag appended. Values holding a comma, colon, quote or
newline are JSON-quoted. Fields this model does not name stay in ``extra``, in order, so a text read
from A1111, Forge or ComfyUI is written back as it was.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from animstudio.errors import InvalidInputError
from animstudio.image.loras import LORA_TAG

# the order A1111 writes its fields in (create_infotext); others follow, then the version
A1111_ORDER = ["Steps", "Sampler", "Schedule type", "CFG scale", "Image CFG scale", "Seed", "Face restoration", "Size",
               "Model hash", "Model", "FP8 weight", "Cache FP16 weight for LoRA", "VAE hash", "VAE", "Variation seed",
               "Variation seed strength", "Seed resize from", "Denoising strength", "Conditional mask weight",
               "Clip skip", "ENSD", "Token merging ratio", "Token merging ratio hr", "Init image hash", "RNG", "Tiling",
               "Lora hashes"]
LAST = ["Version", "User"]
FIELDS = {"Steps": "steps", "Sampler": "sampler", "Schedule type": "schedule_type", "CFG scale": "cfg_scale",
          "Seed": "seed", "Model hash": "model_hash", "Model": "model", "Denoising strength": "denoising_strength",
          "Clip skip": "clip_skip"}
TYPED = {*FIELDS, "Size", "Lora hashes"}
INTS = {"steps", "seed", "clip_skip"}
FLOATS = {"cfg_scale", "denoising_strength"}
PAIR = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')   # Key: value or Key: "json"
NEGATIVE = "Negative prompt:"


class Parameters(BaseModel):
    """One picture's generation parameters, as A1111 names them."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    prompt: str = Field("", description="the prompt as written, LoRA tags included")
    negative_prompt: str = Field("", description="what the picture must not show")
    steps: int | None = Field(None, description="denoising steps")
    sampler: str | None = Field(None, description="the sampler, by its A1111 name")
    schedule_type: str | None = Field(None, description="the sigma schedule (Karras, Exponential...), if given apart")
    cfg_scale: float | None = Field(None, description="guidance (CFG scale)")
    seed: int | None = Field(None, description="the seed")
    width: int | None = Field(None, description="pixels")
    height: int | None = Field(None, description="pixels")
    model: str | None = Field(None, description="the checkpoint's name")
    model_hash: str | None = Field(None, description="A1111's model hash: the first 10 hex digits of the file's sha256")
    loras: dict[str, float] = Field(default_factory=dict, description="LoRA name -> weight")
    lora_hashes: dict[str, str] = Field(default_factory=dict, description="LoRA name -> A1111's 12-digit hash")
    denoising_strength: float | None = Field(None, description="img2img strength")
    clip_skip: int | None = Field(None, description="CLIP layers skipped from the top (A1111's count)")
    extra: dict[str, str] = Field(default_factory=dict, description="other fields (ControlNet, version...), in order")
    order: list[str] = Field(default_factory=list, description="the fields' order where a text had its own")

    @model_validator(mode="after")
    def _lora_tags(self) -> Parameters:
        """The prompt's tags and ``loras`` agree: a weight in ``loras`` rewrites its tag, a missing tag
        is appended."""
        tags: dict[str, float] = {}

        def retag(m: re.Match[str]) -> str:
            name = m.group(1).strip()
            weight = float(m.group(2)) if m.group(2) else 1.0
            tags[name] = self.loras.get(name, weight)
            return m.group(0) if tags[name] == weight else f"<lora:{name}:{_num(tags[name])}>"

        prompt = LORA_TAG.sub(retag, self.prompt)
        added = [f"<lora:{n}:{_num(w)}>" for n, w in self.loras.items() if n not in tags]
        self.prompt = " ".join([prompt, *added]) if prompt and added else prompt or " ".join(added)
        self.loras = {**tags, **{n: w for n, w in self.loras.items() if n not in tags}}
        return self


def _num(value: float | int) -> str:
    """A number as A1111's UI shows it: 7, 6.5, 0.55."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def quote(value: str) -> str:
    """``value`` JSON-quoted where a comma, colon, quote or newline would break the line."""
    return json.dumps(value, ensure_ascii=False) if any(c in value for c in ',:"\n') else value


def unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            return str(json.loads(value))
        except ValueError:
            return value
    return value


def _typed(p: Parameters) -> dict[str, str]:
    """The model's own fields as A1111 writes them."""
    out = {key: getattr(p, name) for key, name in FIELDS.items()}
    if p.width is not None and p.height is not None:
        out["Size"] = f"{p.width}x{p.height}"
    if p.lora_hashes:
        out["Lora hashes"] = ", ".join(f"{n}: {h}" for n, h in p.lora_hashes.items())
    return {k: v if isinstance(v, str) else _num(v) for k, v in out.items() if v is not None}


def _canonical(keys: list[str]) -> list[str]:
    known = [k for k in A1111_ORDER if k in keys]
    return known + [k for k in keys if k not in A1111_ORDER and k not in LAST] + [k for k in LAST if k in keys]


def format_parameters(p: Parameters) -> str:
    """The A1111 ``parameters`` text: the prompt, ``Negative prompt: ...``, then ``Key: value, ...``."""
    values = _typed(p)
    for key, raw in p.extra.items():
        if key not in values:
            values[key] = raw
        else:   # a typed field's own spelling ("7.0") where it still reads as the same value
            read = _read(p, key, raw)
            if read is not None and _typed(read).get(key) == values[key]:
                values[key] = raw
    keys = [k for k in p.order if k in values] + [k for k in _canonical(list(values)) if k not in p.order]
    line = ", ".join(f"{k}: {quote(values[k])}" for k in keys)
    negative = f"\n{NEGATIVE} {p.negative_prompt}" if p.negative_prompt else ""
    return f"{p.prompt}{negative}\n{line}".strip()


def _read(p: Parameters, key: str, value: str) -> Parameters | None:
    """``p`` with field ``key`` set from ``value``, or None where it does not read as that field."""
    try:
        if key == "Size":
            width, height = value.lower().split("x")
            return p.model_copy(update={"width": int(width), "height": int(height)})
        if key == "Lora hashes":
            pairs = [item.split(":", 1) for item in value.split(",")]
            return p.model_copy(update={"lora_hashes": {n.strip(): h.strip() for n, h in pairs}})
        name = FIELDS[key]
        converted: Any = int(value) if name in INTS else float(value) if name in FLOATS else value
        return p.model_copy(update={name: converted})
    except (ValueError, KeyError):
        return None


def parse_parameters(text: str) -> Parameters:
    """The fields of an A1111 / Forge / ComfyUI (A1111-style) ``parameters`` text; a text without a
    ``Key: value`` line is all prompt."""
    lines = text.strip().replace("\r\n", "\n").split("\n")
    found = list(PAIR.finditer(lines[-1]))
    whole = len(lines) > 1 and found and "".join(m.group(0) for m in found) == lines[-1]
    fields = (len(found) >= 3 or whole) and not lines[-1].startswith(NEGATIVE)
    pairs = [(m.group(1), unquote(m.group(2))) for m in found] if fields else []
    if pairs:   # A1111 reads a last line of three pairs or more as fields; so does a line of nothing else
        lines = lines[:-1]
    prompt, negative, seen = [], [], False
    for line in lines:
        if line.startswith(NEGATIVE):
            seen, line = True, line[len(NEGATIVE):].removeprefix(" ")
        (negative if seen else prompt).append(line)
    p = Parameters(prompt="\n".join(prompt), negative_prompt="\n".join(negative))
    extra: dict[str, str] = {}
    for key, value in pairs:
        read = _read(p, key, value) if key in TYPED else None
        if read is None:
            extra[key] = value
            continue
        p = read
        if _typed(p).get(key) != value:   # keep the text's own spelling of it
            extra[key] = value
    keys = [k for k, _ in pairs]
    order = keys if keys != _canonical(keys) else []
    return p.model_copy(update={"extra": extra, "order": order})


# ------------------------------------------------------------------ hashes


def lora_hash(path: str | Path) -> str:
    """A1111's LoRA hash: 12 hex digits of the sha256 of a .safetensors file's tensor data (after its
    header), or of the whole file; a hash the trainer stored in the file's metadata comes first."""
    where = Path(path)
    digest = hashlib.sha256()
    with open(where, "rb") as f:
        start = 0
        if where.suffix.lower() == ".safetensors":
            size = int.from_bytes(f.read(8), "little")
            header = json.loads(f.read(size) or b"{}")
            stored = header.get("__metadata__", {}).get("sshs_model_hash")
            if stored:
                return str(stored)[:12]
            start = 8 + size
        f.seek(start)
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:12]


# ------------------------------------------------------------------ pictures


def parameters_for(request: Any, seed: int, model: str, model_hash: str) -> Parameters:
    """What picture ``seed`` of an image request says it was made with (its LoRAs' hashes where their
    files are found; ControlNets as the ControlNet extension writes them)."""
    from animstudio import __version__
    from animstudio.image.checkpoints import short_hash
    from animstudio.image.loras import resolve, split_tags
    from animstudio.image.schedulers import split_name

    sampler, schedule = split_name(request.sampler)
    hashes = {}
    for name in {**split_tags(request.prompt)[1], **request.loras}:
        try:
            hashes[name] = lora_hash(resolve(name)[0])
        except (InvalidInputError, OSError, ValueError):
            continue
    extra = {f"ControlNet {i}": f"Module: {c.preprocessor or 'none'}, Model: {c.model}, Weight: {_num(c.scale)}, "
                                f"Guidance Start: {_num(c.start)}, Guidance End: {_num(c.end)}"
             for i, c in enumerate(request.controls)}
    if getattr(request, "refiner", None):
        from animstudio.image.diffusers_backend import resolve_checkpoint

        try:
            refiner = resolve_checkpoint(request.refiner)
            extra["Refiner"] = f"{refiner.stem} [{short_hash(refiner)}]"
        except (InvalidInputError, OSError):
            extra["Refiner"] = request.refiner
        extra["Refiner switch at"] = _num(request.refiner_switch)
    extra["Version"] = f"animstudio {__version__}"
    return Parameters(prompt=request.prompt, negative_prompt=request.negative_prompt, steps=request.steps,
                      sampler=sampler, schedule_type=schedule, cfg_scale=request.guidance, seed=seed,
                      width=request.width, height=request.height, model=model, model_hash=model_hash or None,
                      loras=dict(request.loras), lora_hashes=hashes, extra=extra)


def write_png(image: Any, path: str | Path, parameters: Parameters) -> Path:
    """``image`` as a PNG whose ``parameters`` text chunk A1111, Forge and Civitai read, and the same
    fields as JSON beside it (``NAME.json``); each written to a temp name and renamed."""
    from PIL.PngImagePlugin import PngInfo

    from animstudio.files import atomic_output

    where = Path(path)
    info = PngInfo()
    info.add_text("parameters", format_parameters(parameters))   # iTXt where the text is not Latin-1
    with atomic_output(where, "image") as tmp:
        image.save(tmp, format="PNG", pnginfo=info)
    with atomic_output(where.with_suffix(".json"), "parameters sidecar") as tmp:
        tmp.write_text(parameters.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return where


def read_png_parameters(path: str | Path) -> Parameters | None:
    """The parameters in a picture's ``parameters`` text (PNG) or EXIF user comment (JPEG, WebP, as
    A1111 writes them); None where it has none."""
    from PIL import Image, UnidentifiedImageError

    from animstudio.files import check_input_file

    where = check_input_file(path, "image")
    try:
        with Image.open(where) as image:
            text = image.info.get("parameters")
            if text is None and image.format == "PNG":   # text chunks after the pixels
                image.load()
                text = image.info.get("parameters")
            text = text or _user_comment(image)
    except (UnidentifiedImageError, OSError) as exc:
        raise InvalidInputError(f"{where.name} is not a picture ({type(exc).__name__}); give a PNG, JPEG or "
                                "WebP") from None
    return parse_parameters(text) if isinstance(text, str) and text.strip() else None


def _user_comment(image: Any) -> str | None:
    raw = image.getexif().get_ifd(0x8769).get(0x9286)   # Exif IFD, UserComment
    if not isinstance(raw, bytes):
        return raw
    head, body = raw[:8], raw[8:]
    if head == b"UNICODE\0":
        return body.decode("utf-16-be" if body[:1] == b"\0" else "utf-16-le", errors="replace")
    return body.decode("utf-8", errors="replace") if head.rstrip(b"\0") in (b"ASCII", b"") else raw.decode(
        "utf-8", errors="replace")
