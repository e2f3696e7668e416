"""The image tools (registered through ``register_tools``): each takes one request model of
:mod:`animstudio.image.requests`, the same one the ``animstudio image`` command's flags come from.

    get_tool("image.generate")(prompt="a fox in the snow", output="out", seed=3)
    animstudio tools call image.generate --args '{"prompt": "a fox", "output": "out", "count": 2}'
"""

from __future__ import annotations

from typing import Any

from animstudio.hookspecs import hookimpl
from animstudio.image import commands
from animstudio.image.requests import Checked, CheckRequest, Generated, GenerateRequest, Sheet, SheetRequest
from animstudio.tools import tool


@tool("image.generate", example={"prompt": "a red fox in a snowy cel-shaded forest, (flat colours:1.2)",
                                 "output": "images", "seed": 7, "count": 2, "preset": "standard"},
      plan=("character", "negative_prompt", "count", "preset", "output"))
def generate(request: GenerateRequest) -> Generated:
    """Draw pictures of a scene, or of a character of the bible in a scene (character: their name), with an
    SDXL or SD 1.5 checkpoint (LoRAs, ControlNets, A1111 samplers and prompt weights): PNGs named
    NAME-SEED.png carrying A1111 parameters, with JSON sidecars."""
    return commands.generate_to_files(request)


@tool("image.character_sheet", example={"character": "Mira", "output": "mira-sheet.png", "seed": 3}, plan=())
def character_sheet(request: SheetRequest) -> Sheet:
    """A character's turnaround (model sheet): front, side and back views of a character of the
    knowledge base's bible (appearance, palette, LoRA), at one seed so they share a look, optionally
    held to pose skeletons by an OpenPose ControlNet, laid out on one sheet."""
    return commands.render_sheet(request)


@tool("image.check", example={"images": ["out/image-7.png"], "references": ["refs/mira/"]}, plan=("threshold",))
def check(request: CheckRequest) -> Checked:
    """Does each picture show the same character as the references? Whole-character appearance (colours
    by body region, texture, silhouette; not faces, which fail on cartoons): a score per picture and
    whether it reaches the threshold."""
    return commands.check_images(request)


@hookimpl
def register_tools(register: Any) -> None:
    """Register this capability's tools."""
    register(generate)
    register(character_sheet)
    register(check)
