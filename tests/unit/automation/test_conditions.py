from __future__ import annotations

from datetime import timedelta

import pytest

from tocsin.automation.conditions import (
    AutoMaterializeDecisionType,
    AutoMaterializePolicy,
    AutoMaterializePolicyType,
    AutoMaterializeRule,
    AutomationCondition,
)
from tocsin.errors import CheckError, DagsterInvalidDefinitionError, ParameterCheckError

AC = AutomationCondition


def test_seed_combination_prints_as_written():
    cond = (
        AC.parent_newer()
        & AC.cron_tick_passed("0 0 * * *")
        & ~AC.materialized_since_cron("0 18 * * *")
        & AC.all_deps_blocking_checks_passed()
    )
    assert str(cond) == (
        "parent_newer() & cron_tick_passed('0 0 * * *') & ~materialized_since_cron('0 18 * * *')"
        " & all_deps_blocking_checks_passed()"
    )
    assert cond.kind == "and"
    assert len(cond.operands) == 4


def test_or_inside_and_gets_parentheses_and_and_inside_or_does_not():
    a, b, c = AC.missing(), AC.newly_updated(), AC.in_progress()
    assert str((a | b) & c) == "(missing() | newly_updated()) & in_progress()"
    assert str(a | b & c) == "missing() | newly_updated() & in_progress()"
    assert str(~(a & b)) == "~(missing() & newly_updated())"
    assert str(~a) == "~missing()"


def test_since_newly_true_and_labels():
    cond = AC.missing().since(AC.newly_updated())
    assert str(cond) == "missing().since(newly_updated())"
    assert cond.name == "SINCE"
    assert str((AC.missing() | AC.in_progress()).newly_true()) == (
        "(missing() | in_progress()).newly_true()"
    )
    labelled = (AC.missing() & AC.in_progress()).with_label("busy")
    assert str(labelled) == "busy"
    assert labelled.get_label() == "busy"
    # a labelled operand is kept whole, not flattened
    assert len((labelled & AC.missing()).operands) == 2


def test_builtins_print_as_their_constructor_and_compare_by_value():
    assert str(AC.eager()) == "eager()"
    assert AC.eager().get_label() == "eager"
    assert str(AC.on_cron("0 * * * *")) == "on_cron('0 * * * *')"
    assert str(AC.on_cron("0 * * * *", "Europe/Paris")) == "on_cron('0 * * * *', 'Europe/Paris')"
    assert str(AC.on_missing()) == "on_missing()"
    assert AC.eager() == AC.eager()
    assert hash(AC.eager()) == hash(AC.eager())
    assert AC.on_cron("0 * * * *") != AC.on_cron("0 1 * * *")
    # the composite keeps its structure for a later evaluator
    kinds = {node.kind for node in AC.eager().walk()}
    assert {"in_latest_time_window", "missing", "any_deps_match", "since"} <= kinds


def test_params_are_kept_and_shown():
    assert str(AC.in_latest_time_window(timedelta(hours=1))) == (
        "in_latest_time_window(datetime.timedelta(seconds=3600))"
    )
    assert AC.cron_tick_passed("0 2 * * 6").param("cron_schedule") == "0 2 * * 6"
    assert str(AC.asset_matches("a/b", AC.missing())) == "asset_matches(missing(), 'a/b')"
    tags = AC.executed_with_tags(tag_keys={"k"})
    assert tags.param("tag_keys") == frozenset({"k"})


def test_every_seed_constructor_exists():
    for name in [
        "parent_newer",
        "missing",
        "parent_materialized",
        "all_deps_blocking_checks_passed",
        "eager",
        "on_missing",
        "newly_updated",
        "any_deps_updated",
        "in_latest_time_window",
    ]:
        assert isinstance(getattr(AC, name)(), AutomationCondition)
    for name in ["cron_tick_passed", "materialized_since_cron", "failed_since_cron", "on_cron"]:
        assert isinstance(getattr(AC, name)("0 0 * * *"), AutomationCondition)


def test_unknown_constructor_lists_the_known_ones():
    with pytest.raises(AttributeError) as exc:
        AC.parent_neewer()
    message = str(exc.value)
    assert "no constructor 'parent_neewer'" in message
    assert "Did you mean 'parent_newer'?" in message
    assert "missing" in message and "on_cron" in message


def test_unknown_rule_constructor_lists_the_known_ones():
    with pytest.raises(AttributeError, match=r"Known constructors: .*materialize_on_cron"):
        AutoMaterializeRule.materialize_on_partent()


def test_bad_cron_is_rejected_with_the_value():
    with pytest.raises(ParameterCheckError, match=r"cron_tick_passed: cron_schedule 'bad'"):
        AC.cron_tick_passed("bad")
    with pytest.raises(ParameterCheckError, match=r"on_cron: cron_schedule must be a str"):
        AC.on_cron(5)  # type: ignore[arg-type]
    with pytest.raises(ParameterCheckError, match="materialize_on_cron"):
        AutoMaterializeRule.materialize_on_cron("* * *")


def test_bad_timezone_type_and_lookback_are_rejected():
    with pytest.raises(ParameterCheckError, match="cron_timezone must be a str"):
        AC.cron_tick_passed("0 0 * * *", 3)  # type: ignore[arg-type]
    with pytest.raises(ParameterCheckError, match=r"lookback_delta must be a datetime\.timedelta"):
        AC.in_latest_time_window(60)  # type: ignore[arg-type]


def test_combining_with_a_non_condition_is_a_clear_error():
    with pytest.raises(CheckError, match="expects an AutomationCondition, got 3"):
        AC.missing() & 3  # type: ignore[operator]
    with pytest.raises(CheckError, match="got 'x'"):
        AC.any_deps_match("x")  # type: ignore[arg-type]


def test_replace_and_allow_ignore():
    cond = AC.eager().replace("any_deps_updated", AC.missing())
    assert AC.missing() in cond.walk()
    assert not any(node.get_label() == "any_deps_updated" for node in cond.walk())
    deps = AC.any_deps_match(AC.missing()).ignore(["x"])
    assert deps.param("ignore_selection") == ["x"]
    with pytest.raises(DagsterInvalidDefinitionError, match="applies only to"):
        AC.missing().allow(["x"])


def test_eager_and_lazy_policies():
    eager = AutoMaterializePolicy.eager()
    assert eager.policy_type == AutoMaterializePolicyType.EAGER
    assert AutoMaterializeRule.materialize_on_missing() in eager.rules
    assert len(eager.rules) == 7
    lazy = AutoMaterializePolicy.lazy()
    assert lazy.policy_type == AutoMaterializePolicyType.LAZY
    assert len(lazy.rules) == 5
    assert eager == AutoMaterializePolicy.eager()
    assert eager.max_materializations_per_minute == 1


def test_seed_from_rules_policies():
    policy = AutoMaterializePolicy.from_rules(
        [
            AutoMaterializeRule.materialize_on_cron("0 2 * * *"),
            AutoMaterializeRule.skip_on_parent_outdated(minutes=360),
        ]
    )
    assert {r.kind for r in policy.rules} == {"materialize_on_cron", "skip_on_parent_outdated"}
    assert [r.kind for r in policy.materialize_rules] == ["materialize_on_cron"]
    outdated = next(iter(policy.skip_rules))
    assert outdated.param("minutes") == 360
    assert "within 360 minutes" in outdated.description
    since = AutoMaterializeRule.skip_on_not_all_parents_updated_since_cron("0 18 * * *")
    assert since.decision_type == AutoMaterializeDecisionType.SKIP
    assert "'0 18 * * *'" in since.description


def test_with_and_without_rules():
    eager = AutoMaterializePolicy.eager()
    cron = AutoMaterializeRule.materialize_on_cron("0 2 * * *")
    assert cron in eager.with_rules(cron).rules
    fewer = eager.without_rules(AutoMaterializeRule.materialize_on_missing())
    assert len(fewer.rules) == 6
    with pytest.raises(DagsterInvalidDefinitionError, match="not in the policy"):
        eager.without_rules(cron)


def test_bad_policy_arguments():
    with pytest.raises(CheckError, match="every rule must be an AutoMaterializeRule"):
        AutoMaterializePolicy.from_rules(["materialize_on_missing"])  # type: ignore[list-item]
    with pytest.raises(CheckError, match="rules must be a list or set"):
        AutoMaterializePolicy.from_rules(AutoMaterializeRule.materialize_on_missing())  # type: ignore[arg-type]
    with pytest.raises(ParameterCheckError, match="max_materializations_per_minute"):
        AutoMaterializePolicy(rules=[], max_materializations_per_minute=0)
    with pytest.raises(ParameterCheckError, match="minutes must be a positive int"):
        AutoMaterializeRule.skip_on_parent_outdated(minutes=-5)


def test_condition_as_policy():
    policy = AC.eager().as_auto_materialize_policy()
    assert policy.asset_condition == AC.eager()
    assert "eager()" in repr(policy)
