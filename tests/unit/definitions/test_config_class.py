from __future__ import annotations

import enum
from typing import Literal, Optional

import pydantic
import pytest

from tocsin.definitions.config import (
    EnvVar,
    RunConfig,
    Shape,
    convert_config_schema,
    is_config_class,
    process_config,
)
from tocsin.definitions.config_class import Config, PermissiveConfig, config_to_instance
from tocsin.errors import (
    DagsterInvalidConfigError,
    DagsterInvalidDefinitionError,
    DagsterInvalidInvocationError,
)


class Color(enum.Enum):
    RED = 1
    GREEN = 2


class Inner(Config):
    x: int = 1


class FileConfig(Config):
    filename: str
    retries: int = 3
    ratio: float = 0.5
    verbose: bool = False
    inner: Inner = Inner()
    owner: Optional[str] = None  # noqa: UP045 - the spelling users write
    tags: list[str] = pydantic.Field(default_factory=list)
    limits: dict[str, int] = {}
    color: Color = Color.RED
    mode: Literal["fast", "slow"] = "fast"
    note: str = pydantic.Field(default="n", description="A note.")


def test_config_class_is_a_schema():
    assert is_config_class(FileConfig)
    assert not is_config_class(FileConfig(filename="a"))
    assert not is_config_class(dict)
    schema = convert_config_schema(FileConfig)
    assert isinstance(schema, Shape)
    assert schema.fields["filename"].is_required
    assert not schema.fields["retries"].is_required
    assert schema.fields["note"].description == "A note."
    assert schema.fields["color"].default_value == "RED"


def test_processing_fills_defaults_and_builds_the_instance():
    processed = process_config(FileConfig, {"filename": "f.csv", "color": "GREEN"})
    assert processed["inner"] == {"x": 1}
    assert processed["color"] is Color.GREEN
    instance = config_to_instance(FileConfig, processed)
    assert instance == FileConfig(filename="f.csv", color=Color.GREEN)
    assert instance.inner.x == 1
    assert instance.owner is None


def test_int_given_for_float_field():
    processed = process_config(FileConfig, {"filename": "f", "ratio": 1})
    assert config_to_instance(FileConfig, processed).ratio == 1.0


def test_run_config_for_config_class_errors_have_paths():
    with pytest.raises(DagsterInvalidConfigError) as info:
        process_config(
            FileConfig,
            {"filenme": "a", "retries": "3", "inner": {"x": 1.5}, "mode": "medium"},
            path=("ops", "process_file", "config"),
        )
    errors = info.value.errors
    assert "ops.process_file.config.retries: expected Int, got '3' (str)." in errors
    assert "ops.process_file.config.inner.x: expected Int, got 1.5 (float)." in errors
    assert any(e.startswith("ops.process_file.config.mode: expected") for e in errors)
    assert any("missing required field 'filename'" in e for e in errors)
    assert any("unexpected field 'filenme'. Did you mean 'filename'?" in e for e in errors)


def test_instances_are_immutable():
    config = FileConfig(filename="a")
    with pytest.raises(DagsterInvalidInvocationError, match="immutable; cannot set 'filename'"):
        config.filename = "b"
    assert config.model_copy(update={"filename": "b"}).filename == "b"


def test_unknown_keyword_is_rejected():
    with pytest.raises(pydantic.ValidationError, match="filenam"):
        FileConfig(filenam="a")


def test_permissive_config_keeps_extra_keys():
    class Loose(PermissiveConfig):
        a: int = 1

    processed = process_config(Loose, {"b": "x"})
    assert processed == {"a": 1, "b": "x"}
    instance = config_to_instance(Loose, processed)
    assert instance.model_extra == {"b": "x"}
    assert RunConfig(ops={"o": instance}).to_config_dict()["ops"]["o"] == {
        "config": {"a": 1, "b": "x"}
    }


def test_run_config_turns_config_objects_into_config_dicts():
    rc = RunConfig(
        ops={"process_file": FileConfig(filename="a", color=Color.GREEN), "other": {"x": 1}},
        resources={"db": Inner(x=2)},
    )
    assert rc.to_config_dict() == {
        "loggers": {},
        "resources": {"db": {"config": {"x": 2}}},
        "ops": {
            "process_file": {
                "config": {
                    "filename": "a",
                    "retries": 3,
                    "ratio": 0.5,
                    "verbose": False,
                    "inner": {"x": 1},
                    "tags": [],
                    "limits": {},
                    "color": "GREEN",
                    "mode": "fast",
                    "note": "n",
                }
            },
            "other": {"x": 1},
        },
        "execution": {},
    }


def test_envvar_in_config_object_resolves_at_processing(monkeypatch):
    monkeypatch.setenv("TOCSIN_FILE", "from_env.csv")
    config = FileConfig(filename=EnvVar("TOCSIN_FILE"))
    assert isinstance(config.filename, EnvVar)
    run_config = RunConfig(ops={"p": config}).to_config_dict()
    assert run_config["ops"]["p"]["config"]["filename"] == {"env": "TOCSIN_FILE"}
    processed = process_config(FileConfig, run_config["ops"]["p"]["config"])
    assert config_to_instance(FileConfig, processed).filename == "from_env.csv"


def test_envvar_in_config_object_missing(monkeypatch):
    monkeypatch.delenv("TOCSIN_NOT_SET", raising=False)
    run_config = RunConfig(ops={"p": FileConfig(filename=EnvVar("TOCSIN_NOT_SET"))})
    with pytest.raises(DagsterInvalidConfigError) as info:
        process_config(
            {"p": {"config": FileConfig}},
            run_config.to_config_dict()["ops"],
            path=("ops",),
        )
    assert info.value.errors == [
        "ops.p.config.filename: environment variable 'TOCSIN_NOT_SET' is not set. "
        "Set it where the run executes, or give the value in the config directly."
    ]


def test_nested_config_with_envvar(monkeypatch):
    class Db(Config):
        password: str

    class Outer(Config):
        db: Db

    monkeypatch.setenv("TOCSIN_PW", "pw")
    as_dict = RunConfig(resources={"r": Outer(db=Db(password=EnvVar("TOCSIN_PW")))})
    raw = as_dict.to_config_dict()["resources"]["r"]["config"]
    assert raw == {"db": {"password": {"env": "TOCSIN_PW"}}}
    assert config_to_instance(Outer, process_config(Outer, raw)).db.password == "pw"


def test_all_optional_config_processes_from_none():
    assert config_to_instance(Inner, process_config(Inner, None)) == Inner()
    assert config_to_instance(Inner, None) == Inner()


def test_pydantic_validators_become_config_errors():
    class Positive(Config):
        n: int = pydantic.Field(default=1, gt=0)

    processed = process_config(Positive, {"n": -1})
    with pytest.raises(DagsterInvalidConfigError) as info:
        config_to_instance(Positive, processed, path=("ops", "o", "config"))
    (message,) = info.value.errors
    assert message.startswith("ops.o.config.n: Input should be greater than 0")
    assert "(got -1 (int))" in message


def test_config_to_instance_needs_a_dict():
    with pytest.raises(DagsterInvalidConfigError, match="must be a dict"):
        config_to_instance(Inner, [1])


def test_unsupported_annotation_is_a_definition_error():
    class Bad(Config):
        when: bytes

    with pytest.raises(DagsterInvalidDefinitionError, match=r"Bad\.when: the type"):
        Bad.to_config_schema()


def test_invalid_default_names_the_field():
    class BadDefault(Config):
        n: int = "x"  # type: ignore[assignment]

    with pytest.raises(
        DagsterInvalidDefinitionError, match=r"BadDefault\.n: Invalid default_value"
    ):
        BadDefault.to_config_schema()


def test_none_default_on_plain_type_is_noneable():
    class Maybe(Config):
        n: int = None  # type: ignore[assignment]

    assert process_config(Maybe, {}) == {"n": None}
    assert process_config(Maybe, {"n": 2}) == {"n": 2}


def test_lazy_access_through_config_module():
    from tocsin.definitions import config as config_module

    assert config_module.Config is Config
    assert config_module.config_to_instance is config_to_instance
