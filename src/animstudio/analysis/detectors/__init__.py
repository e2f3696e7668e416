"""Built-in shot detectors, registered through the `register_detectors` hook."""

from animstudio.hookspecs import hookimpl


@hookimpl
def register_detectors(register) -> None:  # type: ignore[no-untyped-def]
    from animstudio.analysis.detectors.animation import AnimationDetector
    from animstudio.analysis.detectors.pyscenedetect import PYSCENEDETECT_DETECTORS

    register(AnimationDetector)
    for detector in PYSCENEDETECT_DETECTORS:
        register(detector)
