"""PySceneDetect's detectors as animstudio detectors: content, adaptive, threshold, histogram, hash.

They need full frames, so they decode the video again (at 320 px wide, PySceneDetect's own
default working size is similar) and feed PySceneDetect's `process_frame`. Install with
`pip install 'animstudio[analysis]'`.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from animstudio.analysis.detector import Detection, SceneDetector
from animstudio.analysis.features import Features
from animstudio.errors import MissingDependencyError
from animstudio.media import iter_frames


def _scenedetect() -> Any:
    try:
        import scenedetect.detectors as detectors
    except ImportError as exc:
        raise MissingDependencyError.for_extra("scenedetect", "analysis", "PySceneDetect detectors") from exc
    return detectors


class _PySceneDetect(SceneDetector):
    class_name = ""

    class Options(SceneDetector.Options):
        min_scene_len: int = Field(15, ge=1, description="frames (PySceneDetect's default)")

    def _make(self) -> Any:
        return getattr(_scenedetect(), self.class_name)(**self.options.model_dump())

    def process(self, features: Features) -> Detection:
        detector = self._make()
        cuts: list[int] = []
        for frame in iter_frames(features.info.path, width=320, fmt="bgr24"):
            for cut in detector.process_frame(frame.index, frame.image) or []:
                cuts.append(int(cut))
        if hasattr(detector, "post_process"):
            cuts += [int(c) for c in detector.post_process(features.n - 1) or []]
        return Detection(cuts=sorted(c for c in set(cuts) if 0 < c < features.n))


class ContentDetector(_PySceneDetect):
    name, class_name = "content", "ContentDetector"
    description = "PySceneDetect: HSV content change over a threshold"

    class Options(_PySceneDetect.Options):
        threshold: float = 27.0


class AdaptiveDetector(_PySceneDetect):
    name, class_name = "adaptive", "AdaptiveDetector"
    description = "PySceneDetect: content change against a rolling average"

    class Options(_PySceneDetect.Options):
        adaptive_threshold: float = 3.0


class ThresholdDetector(_PySceneDetect):
    name, class_name = "threshold", "ThresholdDetector"
    description = "PySceneDetect: fades through black by mean brightness"

    class Options(_PySceneDetect.Options):
        threshold: float = 12.0


class HistogramDetector(_PySceneDetect):
    name, class_name = "histogram", "HistogramDetector"
    description = "PySceneDetect: YUV histogram correlation"

    class Options(_PySceneDetect.Options):
        threshold: float = 0.05


class HashDetector(_PySceneDetect):
    name, class_name = "hash", "HashDetector"
    description = "PySceneDetect: perceptual hash distance"

    class Options(_PySceneDetect.Options):
        threshold: float = 0.395


PYSCENEDETECT_DETECTORS = [ContentDetector, AdaptiveDetector, ThresholdDetector, HistogramDetector, HashDetector]
