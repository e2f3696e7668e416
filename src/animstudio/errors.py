"""Errors that animstudio raises on purpose.

Every error is a :class:`StudioError` whose message says what went wrong *and how to fix it*, on
one line. Only the faces (CLI, HTTP API) translate errors: the CLI prints the message and exits
with ``exit_code``; the HTTP API answers with ``http_status`` and a JSON body.

    >>> raise MediaUnreadableError("clip.mp4 is not a media file; pass a video ffmpeg can read")
"""

from __future__ import annotations

from typing import Any


class StudioError(Exception):
    """Base of every error animstudio raises for a reason the user can act on."""

    exit_code: int = 1
    http_status: int = 500

    def __init__(self, message: str) -> None:
        # One line, always: the faces print it as is.
        super().__init__(" ".join(str(message).split()))

    @property
    def message(self) -> str:
        return str(self)


class ConfigError(StudioError):
    """The configuration file or an ANIMSTUDIO_* variable is invalid."""

    http_status = 500


class UnknownBackendError(StudioError):
    """A backend name that no built-in or plugin registered."""

    http_status = 404


class PluginError(StudioError):
    """A plugin registered something that does not keep its kind's contract."""


class MissingDependencyError(StudioError):
    """An optional dependency is not installed; the message names the extra to install."""

    http_status = 501

    @classmethod
    def for_extra(cls, module: str, extra: str, what: str) -> MissingDependencyError:
        return cls(f"{what} needs the Python package '{module}', which is not installed: "
                   f"pip install 'animstudio[{extra}]'")


class ModelError(StudioError):
    """Base for model catalog and warehouse problems."""


class UnknownModelError(ModelError):
    http_status = 404


class ModelNotInstalledError(ModelError):
    http_status = 409


class ModelHashMismatchError(ModelError):
    http_status = 409


class MediaUnreadableError(StudioError):
    """A file that is missing, empty, truncated or not media at all."""

    http_status = 422


class InvalidInputError(StudioError):
    """An argument or option value that cannot work (wrong kind of file, unwritable folder...)."""

    http_status = 422


class ForbiddenError(InvalidInputError):
    """A path or resource that the server is not allowed to read for this request."""

    http_status = 403


class ServiceUnavailableError(StudioError):
    """A configured service (LLM server, Redis, Chroma, GPT-SoVITS) does not answer."""

    http_status = 503


class FFmpegError(StudioError):
    """The ffmpeg binary failed; the message carries the tail of its stderr."""


class CancelledError(StudioError):
    """Work stopped because the user or a job asked it to."""

    exit_code = 130
    http_status = 409


class DeniedError(CancelledError):
    """The user said no to a step that waited for approval: the job ends cancelled, saying which."""


class WaitingError(StudioError):
    """Work paused until the user approves what comes next (a job ends its turn "waiting")."""

    exit_code = 3
    http_status = 409


class NotFoundError(InvalidInputError):
    """A named thing (a job, an artifact) does not exist."""

    http_status = 404


def invalid_input(exc: Any, what: str = "", known: Any = (), known_as: str = "known",
                  fix: str = "") -> InvalidInputError:
    """The one-line InvalidInputError for a pydantic ValidationError: ``what`` it was about, each bad
    value and what is allowed, the names that are known, and how to fix it. Raise it ``from exc``."""
    names = ", ".join(known)
    return InvalidInputError(f"{what + ': ' if what else ''}{describe_invalid(exc)}"
                             f"{f' ({known_as}: {names})' if names else ''}{f'; {fix}' if fix else ''}")


def describe_invalid(exc: Any) -> str:
    """A pydantic ValidationError as one line naming each bad value and what is allowed."""
    errors = exc.errors()
    parts = []
    for err in errors[:2]:
        key = ".".join(str(p) for p in err["loc"]) or "value"
        msg = str(err["msg"]).removeprefix("Value error, ")
        given = err.get("input")
        shown = "" if isinstance(given, dict | list) or err["type"] == "missing" else f" {given!r}"
        parts.append(f"invalid {key}{shown}: {msg[:1].lower() + msg[1:]}")
    more = len(errors) - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")
