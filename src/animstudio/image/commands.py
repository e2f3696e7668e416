"""The image commands as functions (the CLI, the tools and the API call these).

    generate_to_files(GenerateRequest(prompt="a fox", output=Path("out"), seed=3, count=2))
"""

from __future__ import annotations

import time
from typing import Any

from animstudio.image.requests import (
    Checked,
    CheckRequest,
    Generated,
    GenerateRequest,
    Renders,
    Sheet,
    SheetRequest,
)
from animstudio.progress import ProgressCallback, ignore


def backend_for(request: GenerateRequest | Renders) -> Any:
    from animstudio.plugins import get_backend

    cls = get_backend("image_backend", request.backend)
    options = {"checkpoint": request.checkpoint, "device": request.device, "precision": request.precision}
    return cls(**{k: v for k, v in options.items() if k in cls.Options.model_fields})


def generate_to_files(request: GenerateRequest, on_progress: ProgressCallback = ignore) -> Generated:
    """Generate ``request.count`` images and write each as NAME-SEED.png with A1111 ``parameters`` and a
    JSON sidecar (written to a temp name and renamed)."""
    from animstudio.image.checkpoints import short_hash
    from animstudio.image.metadata import parameters_for, write_png

    if request.character:   # the bible's character in the prompt's scene
        from animstudio.image.characters import character_preset, character_prompt

        prompt, negative = character_prompt(character_preset(request.character), request.prompt)
        request = request.model_copy(update={"prompt": prompt, "negative_prompt": ", ".join(
            p for p in (negative, request.negative_prompt) if p)})
    backend = backend_for(request)
    found = backend.checkpoint()
    started = time.perf_counter()
    images = backend.generate(request, on_progress=on_progress)
    seconds = time.perf_counter() - started
    request.output.mkdir(parents=True, exist_ok=True)
    model_hash = short_hash(found.path)
    files, seeds = [], []
    for i, image in enumerate(images):
        seed = request.seed + i
        path = request.output / f"{request.name}-{seed}.png"
        write_png(image, path, parameters_for(request, seed, found.path.stem, model_hash))
        files.append(path)
        seeds.append(seed)
    return Generated(files=files, seeds=seeds, checkpoint=str(found.path), seconds=round(seconds, 3))


def render_sheet(request: SheetRequest, on_progress: ProgressCallback = ignore) -> Sheet:
    """Front, side and back views of a character of the bible, at one seed, on one sheet."""
    from animstudio.image.characters import character_preset
    from animstudio.image.sheet import character_sheet

    preset = character_preset(request.character)
    done = character_sheet(backend_for(request), preset, request.output, seed=request.seed, width=request.width,
                           height=request.height, steps=request.steps, pose_control=request.pose_control,
                           sampler=request.sampler, on_progress=on_progress)
    return Sheet(sheet=done.sheet, views=done.views, seed=done.seed, prompts=done.prompts)


def check_images(request: CheckRequest) -> Checked:
    """Whether each picture shows the character of the references (one score per picture)."""
    from animstudio.image.consistency import check

    found = check(request.images, request.references, embedder=request.embedder, threshold=request.threshold)
    return Checked(results=[r.model_dump(mode="json") for r in found])
