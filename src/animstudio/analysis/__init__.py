"""Video analysis: shots, composition, camera motion, temporal coherence and audio.

This is the package's public API (other capabilities and pipelines import from here); each name is
loaded on first use, so importing the package costs nothing.

    from animstudio.analysis import DetectRequest, analyze_video, detect_scenes, extract_features
    result = analyze_video(DetectRequest(file="clip.mp4"))   # a VideoAnalysis: result.shots, result.camera ...
    shots = detect_scenes(features=extract_features("clip.mp4")).shots

Functions named like their module would be shadowed by it (once a module is imported, Python binds
the package attribute to the module): ``analyze`` is exported as ``analyze_clip``.
"""

from __future__ import annotations

from animstudio.lazy import lazy_exports

_WHERE = {
    "VideoAnalysis": "analyze", "SCHEMA_VERSION": "analyze", "analyze_clip": ("analyze", "analyze"),
    "detect_scenes": "scenes", "make_detector": "scenes", "change_signal": "scenes", "SceneResult": "scenes",
    "Shot": "scenes", "DEFAULT_DETECTOR": "scenes",
    "extract_features": "features", "Features": "features",
    "SceneDetector": "detector", "Detection": "detector", "Transition": "detector",
    "camera_motion": "camera", "CameraMotion": "camera",
    "Composition": "composition", "Coherence": "coherence",
    "liveliness": "activity", "motion_per_frame": "activity", "energy_per_frame": "activity",
    "analyze_audio": "audio", "AudioAnalysis": "audio", "Segment": "audio",
    "write_report": "report",
    "ScenesRequest": "commands", "VideoRequest": "commands", "AudioRequest": "commands", "DetectRequest": "commands",
    "ReportRequest": "commands", "CameraResult": "commands", "ReportResult": "commands",
    "find_scenes": "commands", "find_camera": "commands", "measure_audio": "commands", "analyze_video": "commands",
    "make_report": "commands",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _WHERE)
