"""What every backend (engine, detector, store, tool...) has in common.

A backend class has a ``name``, an optional one-line ``description`` and a nested pydantic
``Options`` model (``extra="forbid"``): the single source of its defaults, CLI flags, API schema
and UI form. Each kind's base class (in its capability package) adds the one required method.

    class Threshold(Backend):
        name = "threshold"
        class Options(Backend.Options):
            threshold: float = 27.0
    Threshold(threshold=30).options.threshold   # 30.0; Threshold(bogus=1) -> InvalidInputError
"""

from __future__ import annotations

from abc import ABC
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from animstudio.errors import invalid_input


class Backend(ABC):  # noqa: B024 - each kind adds its one abstract method
    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    def __init__(self, options: BaseModel | dict[str, Any] | None = None, **kwargs: Any) -> None:
        self.options = self.parse_options(options, **kwargs)

    @classmethod
    def parse_options(cls, options: BaseModel | dict[str, Any] | None = None, **kwargs: Any) -> BaseModel:
        values = options.model_dump() if isinstance(options, BaseModel) else dict(options or {})
        values.update(kwargs)
        try:
            return cls.Options.model_validate(values)
        except ValidationError as exc:
            raise invalid_input(exc, cls.name or cls.__name__, cls.Options.model_fields, "known options") from exc
