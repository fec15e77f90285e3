"""Auto-materialize policies and rules: the older, rule-based form of declarative automation.

An ``AutoMaterializePolicy`` is a set of ``AutoMaterializeRule``s (or one
``AutomationCondition`` in their place), kept as data like the conditions are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from tocsin.automation.automation_condition import (
    AutomationCondition,
    _check_condition,
    _fmt_arg,
    _KnownConstructors,
    _static_names,
    check_cron,
)
from tocsin.errors import CheckError, DagsterInvalidDefinitionError, ParameterCheckError


class AutoMaterializeDecisionType(Enum):
    """Whether a rule asks for a materialization or holds one back."""

    MATERIALIZE = "MATERIALIZE"
    SKIP = "SKIP"
    DISCARD = "DISCARD"


class AutoMaterializePolicyType(Enum):
    EAGER = "EAGER"
    LAZY = "LAZY"


_RULE_DESCRIPTIONS: dict[str, tuple[AutoMaterializeDecisionType, str]] = {
    "materialize_on_missing": (
        AutoMaterializeDecisionType.MATERIALIZE,
        "materialization is missing",
    ),
    "materialize_on_parent_updated": (
        AutoMaterializeDecisionType.MATERIALIZE,
        "upstream data has changed since latest materialization",
    ),
    "materialize_on_required_for_freshness": (
        AutoMaterializeDecisionType.MATERIALIZE,
        "required to meet this or downstream asset's freshness policy",
    ),
    "materialize_on_cron": (
        AutoMaterializeDecisionType.MATERIALIZE,
        "not materialized since last cron schedule tick of {cron_schedule!r} "
        "(timezone: {timezone})",
    ),
    "skip_on_parent_missing": (
        AutoMaterializeDecisionType.SKIP,
        "waiting on upstream data to be present",
    ),
    "skip_on_parent_outdated": (
        AutoMaterializeDecisionType.SKIP,
        "waiting on upstream data to be up to date",
    ),
    "skip_on_not_all_parents_updated": (
        AutoMaterializeDecisionType.SKIP,
        "waiting on upstream data to be updated",
    ),
    "skip_on_not_all_parents_updated_since_cron": (
        AutoMaterializeDecisionType.SKIP,
        "waiting until all upstream assets have updated since the last cron schedule tick of "
        "{cron_schedule!r} (timezone: {timezone})",
    ),
    "skip_on_required_but_nonexistent_parents": (
        AutoMaterializeDecisionType.SKIP,
        "required parent partitions do not exist",
    ),
    "skip_on_backfill_in_progress": (
        AutoMaterializeDecisionType.SKIP,
        "targeted by an in-progress backfill",
    ),
    "skip_on_run_in_progress": (
        AutoMaterializeDecisionType.SKIP,
        "targeted by an in-progress run",
    ),
}


@dataclass(frozen=True)
class AutoMaterializeRule(metaclass=_KnownConstructors):
    """One rule of an ``AutoMaterializePolicy``: a reason to materialize or to hold back.

    Build rules with the static constructors, e.g.
    ``AutoMaterializeRule.materialize_on_cron("0 2 * * *")``.
    """

    kind: str
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def decision_type(self) -> AutoMaterializeDecisionType:
        return _RULE_DESCRIPTIONS[self.kind][0]

    @property
    def description(self) -> str:
        text = _RULE_DESCRIPTIONS[self.kind][1]
        desc = text.format(**dict(self.params))
        minutes = self.param("minutes")
        return f"{desc} (within {minutes} minutes)" if minutes is not None else desc

    def param(self, name: str, default: Any = None) -> Any:
        return dict(self.params).get(name, default)

    def __str__(self) -> str:
        args = ", ".join(f"{k}={_fmt_arg(v)}" for k, v in self.params)
        return f"AutoMaterializeRule.{self.kind}({args})"

    @staticmethod
    def materialize_on_missing() -> AutoMaterializeRule:
        return AutoMaterializeRule("materialize_on_missing")

    @staticmethod
    def materialize_on_parent_updated(updated_parent_filter: Any = None) -> AutoMaterializeRule:
        params = (
            ()
            if updated_parent_filter is None
            else (("updated_parent_filter", updated_parent_filter),)
        )
        return AutoMaterializeRule("materialize_on_parent_updated", params)

    @staticmethod
    def materialize_on_required_for_freshness() -> AutoMaterializeRule:
        return AutoMaterializeRule("materialize_on_required_for_freshness")

    @staticmethod
    def materialize_on_cron(
        cron_schedule: str, timezone: str = "UTC", all_partitions: bool = False
    ) -> AutoMaterializeRule:
        check_cron(cron_schedule, "AutoMaterializeRule.materialize_on_cron")
        params = (
            ("cron_schedule", cron_schedule),
            ("timezone", timezone),
            ("all_partitions", bool(all_partitions)),
        )
        return AutoMaterializeRule("materialize_on_cron", params)

    @staticmethod
    def skip_on_parent_missing() -> AutoMaterializeRule:
        return AutoMaterializeRule("skip_on_parent_missing")

    @staticmethod
    def skip_on_parent_outdated(minutes: int | None = None) -> AutoMaterializeRule:
        """Hold back while a parent is outdated; ``minutes`` (seeds' form) bounds the check."""
        if minutes is None:
            return AutoMaterializeRule("skip_on_parent_outdated")
        if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
            raise ParameterCheckError(
                "AutoMaterializeRule.skip_on_parent_outdated: minutes must be a positive int "
                f"(e.g. 360 for six hours) or None, got {minutes!r}."
            )
        return AutoMaterializeRule("skip_on_parent_outdated", (("minutes", minutes),))

    @staticmethod
    def skip_on_not_all_parents_updated(
        require_update_for_all_parent_partitions: bool = False,
    ) -> AutoMaterializeRule:
        params = (
            (
                "require_update_for_all_parent_partitions",
                bool(require_update_for_all_parent_partitions),
            ),
        )
        return AutoMaterializeRule("skip_on_not_all_parents_updated", params)

    @staticmethod
    def skip_on_not_all_parents_updated_since_cron(
        cron_schedule: str, timezone: str = "UTC"
    ) -> AutoMaterializeRule:
        check_cron(cron_schedule, "AutoMaterializeRule.skip_on_not_all_parents_updated_since_cron")
        params = (("cron_schedule", cron_schedule), ("timezone", timezone))
        return AutoMaterializeRule("skip_on_not_all_parents_updated_since_cron", params)

    @staticmethod
    def skip_on_required_but_nonexistent_parents() -> AutoMaterializeRule:
        return AutoMaterializeRule("skip_on_required_but_nonexistent_parents")

    @staticmethod
    def skip_on_backfill_in_progress(all_partitions: bool = False) -> AutoMaterializeRule:
        params = (("all_partitions", bool(all_partitions)),)
        return AutoMaterializeRule("skip_on_backfill_in_progress", params)

    @staticmethod
    def skip_on_run_in_progress() -> AutoMaterializeRule:
        return AutoMaterializeRule("skip_on_run_in_progress")


AutoMaterializeRule._constructor_names = _static_names(AutoMaterializeRule)  # type: ignore[misc]


def _check_rules(rules: Any, where: str) -> frozenset[AutoMaterializeRule]:
    if isinstance(rules, AutoMaterializeRule) or not isinstance(rules, Iterable):
        raise CheckError(
            f"{where}: rules must be a list or set of AutoMaterializeRule, got {rules!r}."
        )
    out = []
    for rule in rules:
        if not isinstance(rule, AutoMaterializeRule):
            raise CheckError(
                f"{where}: every rule must be an AutoMaterializeRule (built with e.g. "
                f"AutoMaterializeRule.materialize_on_missing()), got {rule!r} of type "
                f"{type(rule).__name__}."
            )
        out.append(rule)
    return frozenset(out)


class AutoMaterializePolicy:
    """A set of rules that say when an asset should be materialized, kept as data.

    Args:
        rules: the ``AutoMaterializeRule``s.
        max_materializations_per_minute: limit on materializations per minute (None: no limit).
        asset_condition: an ``AutomationCondition`` that replaces the rules.
    """

    def __init__(
        self,
        rules: Iterable[AutoMaterializeRule] = (),
        max_materializations_per_minute: int | None = 1,
        asset_condition: AutomationCondition | None = None,
    ):
        self.rules = _check_rules(rules, "AutoMaterializePolicy")
        limit = max_materializations_per_minute
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 1
        ):
            raise ParameterCheckError(
                "AutoMaterializePolicy: max_materializations_per_minute must be a positive int "
                f"or None, got {limit!r}."
            )
        if asset_condition is not None:
            _check_condition(asset_condition, "AutoMaterializePolicy(asset_condition=...)")
        self.max_materializations_per_minute = limit
        self.asset_condition = asset_condition

    @staticmethod
    def eager(max_materializations_per_minute: int | None = 1) -> AutoMaterializePolicy:
        """Materialize as soon as the asset is missing or a parent updated."""
        r = AutoMaterializeRule
        return AutoMaterializePolicy(
            {r.materialize_on_missing(), r.materialize_on_parent_updated(), *_lazy_rules()},
            max_materializations_per_minute,
        )

    @staticmethod
    def lazy(max_materializations_per_minute: int | None = 1) -> AutoMaterializePolicy:
        """Materialize only when needed to meet a freshness policy."""
        return AutoMaterializePolicy(_lazy_rules(), max_materializations_per_minute)

    @staticmethod
    def from_rules(
        rules: Iterable[AutoMaterializeRule], max_materializations_per_minute: int | None = 1
    ) -> AutoMaterializePolicy:
        """A policy made of exactly ``rules`` (the seeds' constructor)."""
        return AutoMaterializePolicy(rules, max_materializations_per_minute)

    @staticmethod
    def from_automation_condition(condition: AutomationCondition) -> AutoMaterializePolicy:
        return AutoMaterializePolicy((), None, condition)

    def with_rules(self, *rules: AutoMaterializeRule) -> AutoMaterializePolicy:
        added = _check_rules(rules, "AutoMaterializePolicy.with_rules")
        return AutoMaterializePolicy(self.rules | added, self.max_materializations_per_minute)

    def without_rules(self, *rules: AutoMaterializeRule) -> AutoMaterializePolicy:
        removed = _check_rules(rules, "AutoMaterializePolicy.without_rules")
        absent = removed - self.rules
        if absent:
            raise DagsterInvalidDefinitionError(
                "AutoMaterializePolicy.without_rules: these rules are not in the policy: "
                f"{', '.join(sorted(str(r) for r in absent))}. The policy has: "
                f"{', '.join(sorted(str(r) for r in self.rules))}."
            )
        return AutoMaterializePolicy(self.rules - removed, self.max_materializations_per_minute)

    @property
    def policy_type(self) -> AutoMaterializePolicyType:
        if AutoMaterializeRule.materialize_on_parent_updated() in self.rules:
            return AutoMaterializePolicyType.EAGER
        return AutoMaterializePolicyType.LAZY

    @property
    def materialize_rules(self) -> frozenset[AutoMaterializeRule]:
        return frozenset(
            r for r in self.rules if r.decision_type == AutoMaterializeDecisionType.MATERIALIZE
        )

    @property
    def skip_rules(self) -> frozenset[AutoMaterializeRule]:
        return frozenset(
            r for r in self.rules if r.decision_type == AutoMaterializeDecisionType.SKIP
        )

    def _key(self) -> tuple[Any, ...]:
        return (self.rules, self.max_materializations_per_minute, self.asset_condition)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AutoMaterializePolicy) and other._key() == self._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        rules = ", ".join(sorted(str(r) for r in self.rules))
        cond = f", asset_condition={self.asset_condition}" if self.asset_condition else ""
        return (
            f"AutoMaterializePolicy(rules=[{rules}], max_materializations_per_minute="
            f"{self.max_materializations_per_minute}{cond})"
        )


def _lazy_rules() -> set[AutoMaterializeRule]:
    r = AutoMaterializeRule
    return {
        r.materialize_on_required_for_freshness(),
        r.skip_on_parent_outdated(),
        r.skip_on_parent_missing(),
        r.skip_on_required_but_nonexistent_parents(),
        r.skip_on_backfill_in_progress(),
    }
