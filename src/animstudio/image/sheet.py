"""Character sheets: one character drawn from the front, the side and the back at one seed (so the
three share a look), each view steered by its pose skeleton when a pose ControlNet is given, laid
side by side on one picture with each view's name under it.

    backend = DiffusersBackend(checkpoint="sdxl-base")
    result = character_sheet(backend, character_preset("Pip"), Path("pip-sheet.png"), seed=7,
                             pose_control="controlnet-openpose-sdxl")
    result.views["side"]     # Path('pip-sheet-side.png'), with its A1111 parameters and a JSON sidecar

Every file is written to a temp name and renamed.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from animstudio.errors import invalid_input
from animstudio.image.base import Control, ImageBackend, ImageRequest
from animstudio.image.characters import CharacterPreset, character_prompt
from animstudio.progress import Progress, ProgressCallback, ignore

VIEW_ORDER = ("front", "side", "back")
SCENE = "full body, standing, plain white background"


class SheetResult(BaseModel):
    """A character sheet's files and how each view was asked for."""

    sheet: Path
    views: dict[str, Path]
    seed: int
    prompts: dict[str, str]
    negative_prompts: dict[str, str]


def _requests(preset: CharacterPreset, scene: str, seed: int, width: int, height: int, steps: int,
              guidance: float, sampler: str, pose_control: str | None, skeletons: Path) -> dict[str, ImageRequest]:
    """One request per view at the same seed; with a pose ControlNet, each view's skeleton saved in
    ``skeletons`` and given as its control image."""
    from animstudio.image.pose import pose_views

    poses = pose_views(width, height) if pose_control else {}
    requests = {}
    for view in VIEW_ORDER:
        prompt, negative = character_prompt(preset, scene, view)
        controls = []
        if pose_control:
            image = skeletons / f"{view}.png"
            poses[view].save(image)
            controls = [Control(model=pose_control, image=str(image))]
        try:
            requests[view] = ImageRequest(prompt=prompt, negative_prompt=negative, seed=seed, width=width,
                                          height=height, steps=steps, guidance=guidance, sampler=sampler,
                                          controls=controls)
        except ValidationError as exc:
            raise invalid_input(exc, "character sheet") from exc
    return requests


def _model(backend: ImageBackend) -> tuple[str, str]:
    """The name and A1111 hash of the backend's checkpoint, where it has one."""
    finder = getattr(backend, "checkpoint", None)
    if not callable(finder):
        return backend.name, ""
    from animstudio.image.checkpoints import short_hash

    found = finder()
    return found.path.stem, short_hash(found.path)


def layout(views: dict[str, Any], background: str = "white") -> Any:
    """The views side by side in their order, each one's name centred in a band under it."""
    from PIL import Image, ImageDraw, ImageFont

    width, height = next(iter(views.values())).size
    band = max(16, height // 10)
    sheet = Image.new("RGB", (width * len(views), height + band), background)
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=max(10, round(band * 0.65)))
    for i, (name, image) in enumerate(views.items()):
        sheet.paste(image.convert("RGB"), (i * width, 0))
        draw.text((i * width + width / 2, height + band / 2), name, fill="black", font=font, anchor="mm")
    return sheet


def character_sheet(backend: ImageBackend, preset: CharacterPreset, output: Path, seed: int = 0, width: int = 512,
                    height: int = 768, steps: int = 30, pose_control: str | None = None, scene: str = SCENE,
                    guidance: float = 5.0, sampler: str = "DPM++ 2M Karras",
                    on_progress: ProgressCallback = ignore) -> SheetResult:
    """Draw ``preset`` from the front, the side and the back at ``seed`` and write the sheet to
    ``output`` (a .png) and each view beside it as OUTPUT-VIEW.png; ``pose_control`` is an OpenPose
    ControlNet (a warehouse name or a diffusers folder) steering each view by its skeleton. One
    progress event per view drawn."""
    from animstudio.files import atomic_output, check_output_file
    from animstudio.image.metadata import parameters_for, write_png

    output = check_output_file(output, "character sheet", (".png",))
    paths = {view: output.with_name(f"{output.stem}-{view}.png") for view in VIEW_ORDER}
    for path in paths.values():
        check_output_file(path, "sheet view", (".png",))
    drawn = {}
    with tempfile.TemporaryDirectory(prefix="animstudio-poses-") as skeletons:
        requests = _requests(preset, scene, seed, width, height, steps, guidance, sampler, pose_control,
                             Path(skeletons))
        for number, (view, request) in enumerate(requests.items(), 1):
            drawn[view] = backend.generate(request)[0]
            on_progress(Progress("character sheet", number, len(requests), "views", message=view))
    model, model_hash = _model(backend)
    for view, image in drawn.items():
        write_png(image, paths[view], parameters_for(requests[view], seed, model, model_hash))
    with atomic_output(output, "character sheet") as tmp:
        layout(drawn).save(tmp, format="PNG")
    return SheetResult(sheet=output, views=paths, seed=seed, prompts={v: r.prompt for v, r in requests.items()},
                       negative_prompts={v: r.negative_prompt for v, r in requests.items()})
