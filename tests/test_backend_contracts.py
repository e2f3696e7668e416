"""One contract suite over every registered backend of every kind (``plugins.KINDS``): a backend added
through the hooks is checked here without a line of new test. A kind with no backend is skipped.

Every backend passes ``check_backend``, says what it is, has an ``Options`` model that builds from its
defaults (or whose required fields its schema lists and its error names), a JSON schema that refuses
unknown fields, and its kind's method with the base class's parameter names. Tools: the example fits
the schema. Detectors: cuts in range on the sample clip. Pipelines: named steps, relative artifacts.
"""

from __future__ import annotations

import inspect
import os
from pathlib import PurePosixPath
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from animstudio import plugins
from animstudio.errors import InvalidInputError


def registered() -> list[Any]:
    """(kind, name) of animstudio's own backends, read at collection (third-party plugins left out,
    as the tests run them); a kind with none is one skipped case."""
    before = os.environ.get("ANIMSTUDIO_NO_PLUGINS")
    os.environ["ANIMSTUDIO_NO_PLUGINS"] = "1"
    plugins.reset()
    try:
        cases: list[Any] = []
        for kind in plugins.KINDS:
            names = sorted(plugins.backends(kind))
            cases += [pytest.param(kind, name, id=f"{kind}:{name}") for name in names] or [
                pytest.param(kind, None, id=f"{kind}:none",
                             marks=pytest.mark.skip(reason=f"no {kind.replace('_', ' ')} is registered"))]
        return cases
    finally:
        if before is None:
            os.environ.pop("ANIMSTUDIO_NO_PLUGINS", None)
        else:
            os.environ["ANIMSTUDIO_NO_PLUGINS"] = before
        plugins.reset()


CASES = registered()


def only(kind: str) -> list[Any]:
    return [case for case in CASES if case.values[0] == kind]


def own_description(backend: Any) -> str:
    """A class's own ``description`` or docstring (not one inherited from its base); a tool's description."""
    if isinstance(backend, type):
        return (backend.__dict__.get("description") or backend.__doc__ or "").strip()
    return (getattr(backend, "description", "") or "").strip()


def check_json_schema(schema: dict[str, Any], instance: Any = None) -> None:
    """``schema`` is a valid JSON schema (and ``instance``, when given, fits it); with jsonschema
    installed it checks both, else only the shape of an object schema."""
    try:
        from jsonschema import Draft202012Validator
    except ImportError:
        assert schema.get("type") == "object" and isinstance(schema.get("properties", {}), dict), schema
        return
    Draft202012Validator.check_schema(schema)
    if instance is not None:
        Draft202012Validator(schema).validate(instance)


def arguments(kind: str, backend: Any, values: dict[str, Any]) -> BaseModel:
    """``values`` checked the way users' values are: a tool's arguments, a backend's options."""
    return backend.check(values) if kind == "tool" else backend.parse_options(values)


def check_contract(kind: str, name: str, backend: Any) -> None:
    """The contract every backend of every kind keeps (AssertionError naming what it breaks)."""
    assert plugins.check_backend(kind, backend) == name
    assert own_description(backend), f"{kind} {name}: give it a description or a docstring"

    options: type[BaseModel] = backend.Options
    schema = options.model_json_schema()
    check_json_schema(schema)
    assert schema.get("additionalProperties") is False, f"{kind} {name}: its Options must forbid extra fields"
    assert options.model_config.get("extra") == "forbid"
    required = [field for field, info in options.model_fields.items() if info.is_required()]
    if not required:
        defaults = options()
        assert options.model_validate(defaults.model_dump()) == defaults   # the defaults pass its own checks
        assert "required" not in schema
    else:
        with pytest.raises(ValidationError) as info:
            options()
        assert {(e["type"], e["loc"]) for e in info.value.errors()} == {("missing", (f,)) for f in required}
        assert schema["required"] == required
        with pytest.raises(InvalidInputError, match=required[0]):   # the one-line error names what is missing
            arguments(kind, backend, {})

    spec = plugins.KINDS[kind]
    cls = backend if isinstance(backend, type) else type(backend)
    method, base_method = getattr(cls, spec.method), getattr(spec.base_class(), spec.method)
    assert callable(method)
    assert list(inspect.signature(method).parameters) == list(inspect.signature(base_method).parameters), \
        f"{kind} {name}: {spec.method}() must take the parameters of the base class's {spec.method}()"


@pytest.mark.parametrize(("kind", "name"), CASES)
def test_backend_contract(kind, name):
    check_contract(kind, name, plugins.get_backend(kind, name))


def test_the_contract_refuses_what_registration_lets_through():
    from pydantic import ConfigDict

    from animstudio.analysis.detector import Detection, SceneDetector

    class Loose(SceneDetector):
        """Options that take any field."""

        name = "loose"

        class Options(SceneDetector.Options):
            model_config = ConfigDict(extra="allow")

        def process(self, features):
            return Detection()

    class Renamed(SceneDetector):
        """process() under another parameter name."""

        name = "renamed"

        def process(self, frames):
            return Detection()

    for backend, complaint in ((Loose, "must forbid extra fields"), (Renamed, "parameters of the base class")):
        assert plugins.check_backend("detector", backend) == backend.name   # registration takes it
        with pytest.raises(AssertionError, match=complaint):
            check_contract("detector", backend.name, backend)


@pytest.mark.parametrize(("kind", "name"), only("tool"))
def test_a_tools_example_fits_its_schema(kind, name):
    tool = plugins.get_backend(kind, name)
    check_json_schema(tool.schema(), tool.example)
    assert tool.check(tool.example) == tool.Options.model_validate(tool.example)
    with pytest.raises(InvalidInputError, match="not_an_option"):   # a misspelt argument is named, not ignored
        tool.check({**tool.example, "not_an_option": 1})
    check_json_schema(tool.result.model_json_schema())
    if not tool.takes_model:   # the function takes exactly the arguments its schema lists
        assert list(inspect.signature(tool.fn).parameters) == list(tool.Options.model_fields)


@pytest.mark.parametrize(("kind", "name"), only("detector"))
def test_a_detector_finds_cuts_in_range_on_the_sample_clip(kind, name, sample_features):
    from animstudio.analysis.detector import Detection

    features, truth = sample_features
    detection = plugins.get_backend(kind, name)().process(features)
    assert type(detection) is Detection
    assert features.n == truth["frame_count"]
    assert detection.cuts == sorted(set(detection.cuts))
    assert all(0 < cut < features.n for cut in detection.cuts), detection.cuts
    assert all(0 <= t.start_frame < t.end_frame <= features.n for t in detection.transitions), detection.transitions
    assert all(0 <= f < features.n for f in detection.flashes), detection.flashes


@pytest.mark.parametrize(("kind", "name"), only("pipeline"))
def test_a_pipeline_has_named_steps_and_relative_artifacts(kind, name, sample_clip):
    cls = plugins.get_backend(kind, name)
    samples = {"clip": str(sample_clip[0]), "prompts": ["a fox"], "request": "cut a 10 s reel",
               "tool": "analyze.audio"}   # each required field
    required = [f for f, info in cls.Options.model_fields.items() if info.is_required()]
    assert set(required) <= set(samples), f"add a sample value for {set(required) - set(samples)} to this test"
    steps = cls({f: samples[f] for f in required}).steps()
    names = [step for step, _ in steps]
    assert names and all(isinstance(n, str) and n.strip() == n != "" for n in names), names
    assert len(set(names)) == len(names), names
    assert all(callable(fn) for _, fn in steps)
    assert isinstance(cls.artifacts, tuple) and cls.artifacts, cls.artifacts
    for artifact in cls.artifacts:
        path = PurePosixPath(artifact)
        assert isinstance(artifact, str) and artifact and not path.is_absolute() and ".." not in path.parts, artifact
    assert len(set(cls.artifacts)) == len(cls.artifacts)
