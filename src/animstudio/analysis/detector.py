"""The shot detector interface: one required method, ``process(features) -> Detection``.

A detector reads the shared per-frame features of one decode pass (see ``features.py``) and
returns hard cuts and gradual transitions. Detectors are registered backends (kind ``detector``);
each has a nested ``Options`` model that is its CLI flags and API schema.

    class Mine(SceneDetector):
        name = "mine"
        class Options(SceneDetector.Options):
            threshold: float = 0.5
        def process(self, features):
            return Detection(cuts=[...], transitions=[])
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Literal

from pydantic import BaseModel, Field

from animstudio.analysis.features import Features
from animstudio.backend import Backend

TransitionType = Literal["dissolve", "fade_in", "fade_out"]


class Transition(BaseModel):
    type: TransitionType
    start_frame: int = Field(description="first frame of the blend")
    end_frame: int = Field(description="first frame after the blend")
    color: Literal["black", "white"] | None = Field(None, description="what a fade goes to or comes from")


class Detection(BaseModel):
    cuts: list[int] = Field(default_factory=list, description="hard cuts: frame n starts a new shot")
    transitions: list[Transition] = Field(default_factory=list)
    flashes: list[int] = Field(default_factory=list, description="frames that flash and are not cuts")


class SceneDetector(Backend):
    """Base of shot detectors."""

    @abstractmethod
    def process(self, features: Features) -> Detection:
        """Find cuts and transitions in the features of one video."""
