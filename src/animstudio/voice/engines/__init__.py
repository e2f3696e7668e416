"""Built-in text-to-speech engines, registered through the `register_tts_engines` hook."""

from animstudio.hookspecs import hookimpl


@hookimpl
def register_tts_engines(register) -> None:  # type: ignore[no-untyped-def]
    from animstudio.voice.engines.espeak import EspeakEngine
    from animstudio.voice.engines.gpt_sovits import GPTSoVITSEngine
    from animstudio.voice.engines.kokoro import KokoroEngine
    from animstudio.voice.engines.piper import PiperEngine

    register(PiperEngine)
    register(KokoroEngine)
    register(EspeakEngine)
    register(GPTSoVITSEngine)
