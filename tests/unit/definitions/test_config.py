from __future__ import annotations

import enum
import re
import subprocess
import sys
import typing

import pytest

from tocsin.definitions.config import (
    Array,
    BoolSource,
    Enum,
    EnumValue,
    EnvVar,
    Field,
    IntSource,
    Map,
    Noneable,
    Permissive,
    RunConfig,
    Selector,
    Shape,
    StringSource,
    convert_config_schema,
    process_config,
    to_field,
)
from tocsin.errors import DagsterInvalidConfigError, DagsterInvalidDefinitionError


def errors_of(schema, value, **kwargs) -> list[str]:
    with pytest.raises(DagsterInvalidConfigError) as info:
        process_config(schema, value, **kwargs)
    return info.value.errors


# --------------------------------------------------------------------------- scalars


@pytest.mark.parametrize(
    ("schema", "value"),
    [(int, 3), (float, 2.5), (str, "x"), (bool, False), (typing.Any, object), (list, [1, "a"])],
)
def test_scalars_accept_their_type(schema, value):
    assert process_config(schema, value) == value


def test_int_is_accepted_as_float_and_becomes_float():
    result = process_config({"a": float}, {"a": 1})
    assert result == {"a": 1.0}
    assert isinstance(result["a"], float)


@pytest.mark.parametrize(
    ("schema", "value", "expected"),
    [
        (int, True, "root: expected Int, got True (bool)."),
        (float, False, "root: expected Float, got False (bool)."),
        (int, 1.0, "root: expected Int, got 1.0 (float)."),
        (str, 5, "root: expected String, got 5 (int)."),
        (bool, "yes", "root: expected Bool, got 'yes' (str)."),
    ],
)
def test_scalar_type_errors_name_expected_type_and_value(schema, value, expected):
    assert errors_of(schema, value) == [expected]


def test_long_values_are_truncated_in_messages():
    (message,) = errors_of(int, "x" * 500)
    assert "..." in message
    assert len(message) < 200


def test_dict_type_accepts_any_keys():
    assert process_config(dict, {"a": 1, "b": {"c": 2}}) == {"a": 1, "b": {"c": 2}}


# --------------------------------------------------------------------------- shapes and fields


def test_dict_shorthand_fills_defaults_and_nested_optional_shapes():
    schema = {
        "filename": str,
        "retries": Field(int, default_value=3),
        "inner": {"a": Field(float, default_value=1), "b": Field(int, is_required=False)},
    }
    assert process_config(schema, {"filename": "f"}) == {
        "filename": "f",
        "retries": 3,
        "inner": {"a": 1.0},
    }


def test_field_required_rules():
    assert Field(int).is_required
    assert not Field(int, default_value=1).is_required
    assert not Field(int, is_required=False).is_required
    assert not Field(Noneable(int)).is_required
    assert not Field({"a": Field(int, default_value=1)}).is_required
    assert Field({"a": int}).is_required
    assert Field(Permissive()).default_value == {}


def test_optional_field_without_default_is_omitted():
    assert process_config({"a": Field(int, is_required=False)}, {}) == {}


def test_noneable_field_defaults_to_none_and_accepts_none():
    schema = {"a": Noneable(int)}
    assert process_config(schema, {}) == {"a": None}
    assert process_config(schema, {"a": None}) == {"a": None}
    assert process_config(schema, {"a": 4}) == {"a": 4}


def test_explicit_none_for_a_field_with_default_uses_the_default():
    assert process_config({"a": Field(int, default_value=2)}, {"a": None}) == {"a": 2}


def test_explicit_none_for_required_field_is_a_type_error():
    assert errors_of({"a": str}, {"a": None}) == ["a: expected String, got None (NoneType)."]


def test_missing_required_field_names_path_and_type():
    schema = {"ops": {"process_file": {"config": {"filename": str}}}}
    errors = errors_of(schema, {"ops": {"process_file": {"config": {}}}})
    assert errors == [
        "ops.process_file.config: missing required field 'filename' (expected String)."
    ]


def test_nested_wrong_type_has_dotted_path():
    schema = {"ops": {"process_file": {"config": {"filename": str}}}}
    errors = errors_of(schema, {"ops": {"process_file": {"config": {"filename": 3}}}})
    assert errors == ["ops.process_file.config.filename: expected String, got 3 (int)."]


def test_unknown_field_suggests_the_closest_name():
    errors = errors_of({"filename": str}, {"filename": "a", "filenme": "b"})
    assert errors == [
        "root: unexpected field 'filenme'. Did you mean 'filename'? "
        "Fields allowed here: 'filename'."
    ]


def test_unknown_field_without_close_match_lists_allowed_fields():
    (message,) = errors_of({"alpha": Field(int, default_value=1)}, {"zzz": 1})
    assert "Did you mean" not in message
    assert "Fields allowed here: 'alpha'." in message


def test_unknown_field_on_empty_shape():
    (message,) = errors_of({}, {"x": 1})
    assert message == "root: unexpected field 'x'. No fields are allowed here."


def test_every_problem_is_reported_at_once():
    schema = {"a": int, "b": str, "c": {"d": bool}}
    errors = errors_of(schema, {"a": "x", "c": {"d": 1}, "e": 0})
    assert len(errors) == 4
    assert any("missing required field 'b'" in e for e in errors)
    assert any(e.startswith("c.d: expected Bool") for e in errors)


def test_path_prefix_and_preamble_in_the_exception():
    with pytest.raises(DagsterInvalidConfigError) as info:
        process_config(
            {"x": int},
            {"x": "no"},
            path=("resources", "db", "config"),
            preamble="Error in config for job j",
        )
    text = str(info.value)
    assert text.splitlines()[0] == "Error in config for job j"
    assert "resources.db.config.x: expected Int, got 'no' (str)." in text
    assert info.value.config_value == {"x": "no"}


def test_non_dict_for_shape():
    assert errors_of({"a": int}, [1]) == ["root: expected {a: Int}, got [1] (list)."]


def test_top_level_none_counts_as_empty_dict():
    assert process_config({"a": Field(int, default_value=1)}, None) == {"a": 1}
    assert errors_of({"a": int}, None) == ["root: missing required field 'a' (expected Int)."]


def test_no_schema_accepts_anything():
    assert process_config(None, {"anything": [1]}) == {"anything": [1]}


def test_top_level_field_default():
    assert process_config(Field(int, default_value=5), None) == 5


def test_processing_does_not_share_default_objects():
    schema = {"tags": Field([str], default_value=["a"])}
    first = process_config(schema, {})
    first["tags"].append("b")
    assert process_config(schema, {}) == {"tags": ["a"]}


def test_permissive_keeps_extra_keys_and_checks_declared_ones():
    schema = Permissive({"a": int})
    assert process_config(schema, {"a": 1, "z": {"k": 1}}) == {"a": 1, "z": {"k": 1}}
    assert errors_of(schema, {"a": "x"}) == ["a: expected Int, got 'x' (str)."]


# --------------------------------------------------------------------------- selector


def test_selector_takes_exactly_one_key():
    schema = Selector({"in_process": {}, "multiprocess": {"max": Field(int, default_value=4)}})
    assert process_config(schema, {"multiprocess": {}}) == {"multiprocess": {"max": 4}}
    assert process_config(schema, {"multiprocess": None}) == {"multiprocess": {"max": 4}}


def test_selector_with_no_key():
    errors = errors_of(Selector({"a": int, "b": str}), {})
    assert errors == ["root: expected exactly one of 'a', 'b', got none."]


def test_selector_with_two_keys():
    errors = errors_of(
        {"execution": Selector({"a": int, "b": str})}, {"execution": {"a": 1, "b": ""}}
    )
    assert errors == ["execution: expected exactly one of 'a', 'b', got 2: 'a', 'b'."]


def test_selector_unknown_key_suggests():
    (message,) = errors_of(Selector({"alpha": int, "beta": int}), {"alpah": 1})
    assert "unexpected field 'alpah'. Did you mean 'alpha'?" in message


def test_selector_single_optional_field_is_chosen_when_empty():
    schema = {"s": Selector({"only": Field(int, default_value=7)})}
    assert process_config(schema, {}) == {"s": {"only": 7}}


def test_selector_wrong_inner_type():
    assert errors_of(Selector({"a": int}), {"a": "x"}) == ["a: expected Int, got 'x' (str)."]


def test_selector_needs_fields():
    with pytest.raises(DagsterInvalidDefinitionError, match="at least one field"):
        Selector({})


# --------------------------------------------------------------------------- arrays, maps, enums


def test_array_shorthand_and_index_in_path():
    assert process_config({"a": [int]}, {"a": [1, 2]}) == {"a": [1, 2]}
    assert errors_of({"a": [int]}, {"a": [1, "x"]}) == ["a[1]: expected Int, got 'x' (str)."]
    assert errors_of(Array(str), "abc") == ["root: expected [String], got 'abc' (str)."]


def test_array_of_shapes_paths():
    errors = errors_of({"rows": [{"id": int}]}, {"rows": [{"id": 1}, {"idd": 2}]})
    assert errors[0] == "rows[1]: missing required field 'id' (expected Int)."


def test_map_shorthand():
    assert process_config({str: int}, {"a": 1}) == {"a": 1}
    assert errors_of({str: int}, {"a": "x"}) == ["a: expected Int, got 'x' (str)."]
    assert errors_of(Map(str, int), {1: 1}) == ["root: key 1 (int) is not a String."]


def test_generic_aliases_convert():
    assert process_config(list[int], [1]) == [1]
    assert process_config(dict[str, int], {"a": 1}) == {"a": 1}
    assert process_config(typing.Optional[int], None) is None  # noqa: UP045


def test_enum_maps_config_value_to_python_value():
    color = Enum("Color", [EnumValue("RED"), EnumValue("BLUE", python_value=3)])
    assert process_config(color, "RED") == "RED"
    assert process_config(color, "BLUE") == 3
    assert errors_of({"c": color}, {"c": "GREEN"}) == [
        "c: expected Color (one of 'RED', 'BLUE'), got 'GREEN' (str)."
    ]


def test_enum_from_python_enum():
    class Mode(enum.Enum):
        FAST = 1
        SLOW = 2

    schema = Enum.from_python_enum(Mode)
    assert process_config(schema, "SLOW") is Mode.SLOW
    assert process_config(schema, Mode.FAST) is Mode.FAST
    assert process_config(Mode, "FAST") is Mode.FAST


def test_enum_definition_errors():
    with pytest.raises(DagsterInvalidDefinitionError, match="non-empty list of EnumValue"):
        Enum("E", ["A"])
    with pytest.raises(DagsterInvalidDefinitionError, match="config_value must be a str"):
        EnumValue(1)


# --------------------------------------------------------------------------- sources and EnvVar


def test_string_source_literal_and_env(monkeypatch):
    monkeypatch.setenv("TOCSIN_TEST_VAR", "secret")
    assert process_config(StringSource, "lit") == "lit"
    assert process_config(StringSource, {"env": "TOCSIN_TEST_VAR"}) == "secret"


def test_int_and_bool_sources_parse_env(monkeypatch):
    monkeypatch.setenv("TOCSIN_TEST_INT", "42")
    monkeypatch.setenv("TOCSIN_TEST_BOOL", "True")
    assert process_config(IntSource, {"env": "TOCSIN_TEST_INT"}) == 42
    assert process_config(BoolSource, {"env": "TOCSIN_TEST_BOOL"}) is True
    assert process_config(IntSource, 7) == 7


def test_env_value_that_does_not_parse(monkeypatch):
    monkeypatch.setenv("TOCSIN_TEST_INT", "forty")
    assert errors_of({"n": IntSource}, {"n": {"env": "TOCSIN_TEST_INT"}}) == [
        "n: environment variable 'TOCSIN_TEST_INT' is 'forty', which is not an Int."
    ]


def test_missing_env_var_is_named(monkeypatch):
    monkeypatch.delenv("TOCSIN_MISSING_VAR", raising=False)
    errors = errors_of(
        {"password": StringSource},
        {"password": {"env": "TOCSIN_MISSING_VAR"}},
        path=("resources", "db", "config"),
    )
    assert errors == [
        "resources.db.config.password: environment variable 'TOCSIN_MISSING_VAR' is not set. "
        "Set it where the run executes, or give the value in the config directly."
    ]


def test_source_rejects_other_dicts():
    (message,) = errors_of(StringSource, {"environ": "X"})
    assert "expected String | {env: String}" in message
    assert "{'env': 'VARIABLE_NAME'}" in message


def test_env_key_must_be_a_name():
    assert errors_of(StringSource, {"env": 3}) == [
        "root: 'env' must name an environment variable, got 3 (int)."
    ]


def test_envvar_values_resolve_anywhere(monkeypatch):
    monkeypatch.setenv("TOCSIN_TEST_INT", "5")
    assert process_config({"n": int}, {"n": EnvVar("TOCSIN_TEST_INT")}) == {"n": 5}
    monkeypatch.delenv("TOCSIN_TEST_INT")
    (message,) = errors_of({"n": int}, {"n": EnvVar("TOCSIN_TEST_INT")})
    assert "environment variable 'TOCSIN_TEST_INT' is not set" in message


def test_envvar_api(monkeypatch):
    monkeypatch.setenv("TOCSIN_TEST_VAR", "v")
    monkeypatch.delenv("TOCSIN_MISSING_VAR", raising=False)
    var = EnvVar("TOCSIN_TEST_VAR")
    assert isinstance(var, str)
    assert var.env_var_name == "TOCSIN_TEST_VAR"
    assert var.get_value() == "v"
    assert EnvVar("TOCSIN_MISSING_VAR").get_value() is None
    assert EnvVar("TOCSIN_MISSING_VAR").get_value(default="d") == "d"
    assert repr(var) == "EnvVar('TOCSIN_TEST_VAR')"
    monkeypatch.setenv("TOCSIN_TEST_INT", "9")
    assert EnvVar.int("TOCSIN_TEST_INT").get_value() == 9


def test_defaults_with_env_are_not_read_at_definition_time(monkeypatch):
    monkeypatch.delenv("TOCSIN_MISSING_VAR", raising=False)
    field = Field(StringSource, default_value={"env": "TOCSIN_MISSING_VAR"})
    monkeypatch.setenv("TOCSIN_MISSING_VAR", "later")
    assert process_config({"x": field}, {}) == {"x": "later"}


# --------------------------------------------------------------------------- definitions


@pytest.mark.parametrize(
    ("schema", "match"),
    [
        (5, "5 \\(int\\) is not a config schema"),
        ([str, int], "exactly one element type"),
        ({1: int, 2: str}, "field names must be strings"),
        (object(), "is not a config schema"),
    ],
)
def test_invalid_schemas(schema, match):
    with pytest.raises(DagsterInvalidDefinitionError, match=match):
        convert_config_schema(schema)


def test_field_definition_errors():
    with pytest.raises(DagsterInvalidDefinitionError, match="cannot have a default_value"):
        Field(int, default_value=1, is_required=True)
    with pytest.raises(DagsterInvalidDefinitionError, match="Invalid default_value 'x'"):
        Field(int, default_value="x")
    with pytest.raises(DagsterInvalidDefinitionError, match="another Field"):
        Field(Field(int))
    with pytest.raises(DagsterInvalidDefinitionError, match="Map keys"):
        Map(list, int)
    with pytest.raises(DagsterInvalidDefinitionError, match="takes a dict"):
        Shape([1])


def test_convert_passes_types_through_and_none_means_no_schema():
    shape = Shape({"a": int})
    assert convert_config_schema(shape) is shape
    assert convert_config_schema(None) is None
    assert convert_config_schema(Field(str)).describe() == "String"


def test_to_field_keeps_field_and_wraps_others():
    field = Field(int, default_value=1)
    assert to_field(field) is field
    assert to_field({"a": int}).is_required
    assert not to_field(None).is_required


def test_describe_of_composites():
    schema = convert_config_schema(
        {"a": int, "b": Field(str, is_required=False), "c": Noneable([bool])}
    )
    assert schema.describe() == "{a: Int, b?: String, c?: [Bool] | None}"
    assert Permissive({"a": int}).describe() == "{a: Int, ...}"
    assert Selector({"x": int, "y": str}).describe() == "one of {x: Int | y: String}"


# --------------------------------------------------------------------------- RunConfig


def test_run_config_plain_dicts():
    rc = RunConfig(
        ops={"a": {"config": {"x": 1}}},
        resources={"db": {"config": {"password": EnvVar("PW")}}},
        execution={"config": {"multiprocess": {}}},
    )
    assert rc.to_config_dict() == {
        "loggers": {},
        "resources": {"db": {"config": {"password": {"env": "PW"}}}},
        "ops": {"a": {"config": {"x": 1}}},
        "execution": {"config": {"multiprocess": {}}},
    }


def test_run_config_bad_arguments():
    with pytest.raises(
        DagsterInvalidDefinitionError, match=re.escape("RunConfig(ops=...) takes a dict")
    ):
        RunConfig(ops=[1])
    with pytest.raises(
        DagsterInvalidDefinitionError, match=re.escape("RunConfig(execution=...) takes a dict")
    ):
        RunConfig(execution="x")


# --------------------------------------------------------------------------- import cost


def test_config_module_imports_without_pydantic():
    code = (
        "import sys\n"
        "from tocsin.definitions.config import *\n"
        "from tocsin.definitions.config import process_config, Field\n"
        "process_config({'a': Field(int, default_value=1)}, {})\n"
        "assert 'pydantic' not in sys.modules, 'pydantic was imported'\n"
        "from tocsin.definitions.config import Config\n"
        "assert 'pydantic' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_unknown_module_attribute():
    import tocsin.definitions.config as config_module

    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = config_module.Nope


def test_long_type_descriptions_are_shortened():
    big = {f"field_number_{i}": Field(int, default_value=i) for i in range(30)}
    (message,) = errors_of({"big": big}, {"big": 5})
    assert message.startswith("big: expected {field_number_0?: Int")
    assert " ...}, got 5 (int)." in message
    assert len(message) < 250


def test_converted_field_keeps_its_default_and_optionality():
    converted = convert_config_schema(Field(int, default_value=3, description="n"))
    assert converted.describe() == "Int"
    assert process_config(converted, None) == 3
    assert process_config(converted, 4) == 4
    assert not to_field(converted).is_required
    nested = Field(converted)
    assert nested.default_value == 3
    assert nested.description == "n"
    assert process_config({"x": converted}, {}) == {"x": 3}
    optional = convert_config_schema(Field(int, is_required=False))
    assert process_config({"x": optional}, {}) == {}
    assert convert_config_schema(Field(str)) is convert_config_schema(str)
    assert process_config(convert_config_schema(Field(Noneable(int), default_value=5)), None) == 5
    shape = Shape({"a": Field(int, default_value=1)})
    assert convert_config_schema(Field(shape)) is shape
