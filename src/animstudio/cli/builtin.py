"""Built-in command groups, registered through the same hook as plugins' commands."""

from __future__ import annotations

import typer

from animstudio.hookspecs import hookimpl


@hookimpl
def register_commands(app: typer.Typer) -> None:
    from animstudio.cli import (
        agent,
        analyze,
        config,
        doctor,
        edit,
        image,
        kb,
        llm,
        media,
        models,
        plugins,
        studio,
        tools,
        voice,
    )

    app.add_typer(config.app, name="config", help="Show the effective configuration.")
    app.add_typer(analyze.app, name="analyze", help="Shots, camera motion, composition, coherence, audio, reports.")
    app.add_typer(edit.app, name="edit", help="Render timelines, export them for NLEs, make highlight reels.")
    app.add_typer(llm.app, name="llm", help="Chat with a model, list models, serve the OpenAI-compatible gateway.")
    app.add_typer(voice.app, name="voice", help="Speak lines, list voices, transcribe recordings.")
    app.add_typer(image.app, name="image", help="Generate pictures (SDXL, LoRA, ControlNet), check characters.")
    app.add_typer(kb.app, name="kb", help="The knowledge base: add, search, ask, sync, evaluate.")
    app.add_typer(models.app, name="models", help="Install, verify and locate model weights.")
    app.add_typer(media.app, name="media", help="Probe media, extract frames and audio, make the sample clip.")
    app.add_typer(plugins.app, name="plugins", help="List plugins and the backends they register.")
    app.add_typer(agent.app, name="agent", help="Plan a request with the LLM and carry it out with the tools.")
    app.add_typer(tools.app, name="tools", help="Every capability as a typed tool: list them, call one with JSON.")
    app.command("parody", help="Re-dub a clip as a parody (plan, voices, beats, captions, render, report).")(
        studio.parody)
    app.command("narrate", help="A documentary-style voice-over of a clip.")(studio.narrate)
    app.add_typer(studio.jobs_app, name="jobs", help="List, show, cancel and resume creative jobs.")
    app.add_typer(studio.studio_app, name="studio", help="Serve the studio's HTTP API.")
    app.command("doctor", help="Check what this installation has and can do.")(doctor.doctor)
