"""Declarative automation kept as data: ``AutomationCondition``, ``AutoMaterializePolicy``,
``AutoMaterializeRule``.

Nothing here evaluates anything yet. A condition is an immutable tree: leaves name a fact
about an asset (``missing()``, ``cron_tick_passed("0 0 * * *")``), inner nodes combine them
(``&``, ``|``, ``~``, ``.since(...)``, ``any_deps_match(...)``). The tree compares by value and
prints the way it was written, so a definition can be stored, shown and later evaluated by the
asset automation daemon. Constructor names are the reference's, plus the seeds' older names
(``parent_newer``, ``parent_materialized``, ``materialized_since_cron``, ``failed_since_cron``),
which are built from the reference ones. An unknown constructor is an ``AttributeError`` that
lists the known ones.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import Enum
from typing import Any

from tocsin.errors import CheckError, DagsterInvalidDefinitionError, ParameterCheckError
from tocsin.model.asset_key import AssetKey


def check_cron(cron_schedule: Any, where: str) -> str:
    """Return ``cron_schedule`` if it is a valid 5-field cron string, else raise saying why."""
    if not isinstance(cron_schedule, str):
        raise ParameterCheckError(
            f"{where}: cron_schedule must be a str such as '0 2 * * *', "
            f"got {cron_schedule!r} of type {type(cron_schedule).__name__}."
        )
    reason = _cron_problem(cron_schedule)
    if reason is not None:
        raise ParameterCheckError(
            f"{where}: cron_schedule {cron_schedule!r} is not a valid cron string: {reason}. "
            "Use 5 fields (minute hour day-of-month month day-of-week), e.g. '0 2 * * *'."
        )
    return cron_schedule


def _cron_problem(expr: str) -> str | None:
    try:
        from tocsin import cron
    except ImportError:  # pragma: no cover - the cron module is part of the package
        cron = None  # type: ignore[assignment]
    parse = getattr(cron, "CronSchedule", None)
    if parse is not None:
        try:
            parse.parse(expr)
        except ValueError as exc:
            return str(exc).rstrip(".")
        return None
    if len(expr.split()) != 5:  # fallback until the cron module is in place
        return f"it has {len(expr.split())} fields, not 5"
    return None


def _check_condition(value: Any, where: str) -> AutomationCondition:
    if not isinstance(value, AutomationCondition):
        raise CheckError(
            f"{where} expects an AutomationCondition, got {value!r} of type "
            f"{type(value).__name__}. Build one with AutomationCondition.<constructor>(), "
            "e.g. AutomationCondition.missing()."
        )
    return value


def _fmt_arg(value: Any) -> str:
    if isinstance(value, AssetKey):
        return repr(value.to_user_string())
    if isinstance(value, (set, frozenset)):
        return repr(sorted(value))
    return repr(value)


class _KnownConstructors(type):
    """Turns ``AutomationCondition.<typo>()`` into an error that lists the real names."""

    _constructor_names: tuple[str, ...] = ()

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        known = cls._constructor_names
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise AttributeError(
            f"{cls.__name__} has no constructor {name!r}.{hint} "
            f"Known constructors: {', '.join(known)}."
        )


_OPERATOR_KINDS = frozenset({"and", "or", "not", "since", "newly_true"})


@dataclass(frozen=True)
class AutomationCondition(metaclass=_KnownConstructors):
    """A condition under which an asset should be materialized, kept as data.

    Build conditions with the static constructors (``AutomationCondition.eager()``,
    ``AutomationCondition.missing()``, ...) and combine them with ``&``, ``|`` and ``~``.

    Attributes:
        kind: the constructor or operator that made this node (``"missing"``, ``"and"``).
        params: the constructor's arguments as ``(name, value)`` pairs.
        operands: child conditions.
        label: a label set by ``with_label`` or by a built-in composite such as ``eager``.
    """

    kind: str
    params: tuple[tuple[str, Any], ...] = ()
    operands: tuple[AutomationCondition, ...] = ()
    label: str | None = None
    display: str | None = field(default=None, compare=False)

    # -- operators --------------------------------------------------------------------------
    def __and__(self, other: AutomationCondition) -> AutomationCondition:
        _check_condition(other, "AutomationCondition '&'")
        return AutomationCondition("and", operands=(*self._flat("and"), *other._flat("and")))

    def __or__(self, other: AutomationCondition) -> AutomationCondition:
        _check_condition(other, "AutomationCondition '|'")
        return AutomationCondition("or", operands=(*self._flat("or"), *other._flat("or")))

    def __invert__(self) -> AutomationCondition:
        return AutomationCondition("not", operands=(self,))

    def _flat(self, kind: str) -> tuple[AutomationCondition, ...]:
        return self.operands if self.kind == kind and self.label is None else (self,)

    def since(self, reset_condition: AutomationCondition) -> AutomationCondition:
        """True once this condition became true, until ``reset_condition`` becomes true."""
        _check_condition(reset_condition, "AutomationCondition.since()")
        return AutomationCondition("since", operands=(self, reset_condition))

    def newly_true(self) -> AutomationCondition:
        """True only on the evaluation where this condition turns from false to true."""
        return AutomationCondition("newly_true", operands=(self,))

    def since_last_handled(self) -> AutomationCondition:
        """True since this condition became true, until the asset is requested or updated."""
        return self.since(_handled())

    def with_label(self, label: str | None) -> AutomationCondition:
        """The same condition under a label that is shown instead of its structure."""
        if label is not None and not isinstance(label, str):
            raise CheckError(f"with_label expects a str or None, got {label!r}.")
        return replace(self, label=label, display=label)

    def replace(
        self, old: AutomationCondition | str, new: AutomationCondition
    ) -> AutomationCondition:
        """Replace every sub-condition equal to ``old`` (or labelled ``old``) with ``new``."""
        if (isinstance(old, str) and self.label == old) or self == old:
            return new
        if not self.operands:
            return self
        return replace(self, operands=tuple(op.replace(old, new) for op in self.operands))

    def allow(self, selection: Any) -> AutomationCondition:
        """For a deps condition: consider only the dependencies in ``selection``."""
        return self._with_param("allow_selection", selection)

    def ignore(self, selection: Any) -> AutomationCondition:
        """For a deps condition: leave out the dependencies in ``selection``."""
        return self._with_param("ignore_selection", selection)

    def _with_param(self, name: str, value: Any) -> AutomationCondition:
        if self.kind not in ("any_deps_match", "all_deps_match"):
            raise DagsterInvalidDefinitionError(
                f"{name.split('_')[0]}() applies only to any_deps_match / all_deps_match "
                f"conditions, not to {self}."
            )
        params = (*(p for p in self.params if p[0] != name), (name, value))
        return replace(self, params=params)

    # -- introspection ----------------------------------------------------------------------
    @property
    def children(self) -> tuple[AutomationCondition, ...]:
        return self.operands

    @property
    def name(self) -> str:
        return self.kind.upper() if self.kind in _OPERATOR_KINDS else self.kind

    @property
    def description(self) -> str:
        return str(self)

    def get_label(self) -> str | None:
        return self.label

    def param(self, name: str, default: Any = None) -> Any:
        return dict(self.params).get(name, default)

    def walk(self) -> Iterable[AutomationCondition]:
        """This node and every node below it, depth first."""
        yield self
        for op in self.operands:
            yield from op.walk()

    def as_auto_materialize_policy(self) -> AutoMaterializePolicy:
        return AutoMaterializePolicy(rules=(), asset_condition=self)

    # -- text -------------------------------------------------------------------------------
    def __str__(self) -> str:
        if self.display is not None:
            return self.display
        ops = self.operands
        if self.kind == "and":
            return " & ".join(op._wrapped(("or",)) for op in ops)
        if self.kind == "or":
            return " | ".join(str(op) for op in ops)
        if self.kind == "not":
            return "~" + ops[0]._wrapped(("and", "or"))
        if self.kind == "since":
            return f"{ops[0]._wrapped(('and', 'or', 'not'))}.since({ops[1]})"
        if self.kind == "newly_true":
            return f"{ops[0]._wrapped(('and', 'or', 'not'))}.newly_true()"
        args = [str(op) for op in ops] + [
            _fmt_arg(v) for k, v in self.params if not (k == "cron_timezone" and v == "UTC")
        ]
        return f"{self.kind}({', '.join(args)})"

    def _wrapped(self, kinds: tuple[str, ...]) -> str:
        text = str(self)
        return f"({text})" if self.display is None and self.kind in kinds else text

    # -- leaves -----------------------------------------------------------------------------
    @staticmethod
    def missing() -> AutomationCondition:
        """The asset (partition) has never been materialized."""
        return _leaf("missing")

    @staticmethod
    def run_in_progress() -> AutomationCondition:
        return _leaf("run_in_progress")

    @staticmethod
    def backfill_in_progress() -> AutomationCondition:
        return _leaf("backfill_in_progress")

    @staticmethod
    def in_progress() -> AutomationCondition:
        """A run or a backfill targeting the asset is in progress."""
        cond = AutomationCondition.run_in_progress() | AutomationCondition.backfill_in_progress()
        return _builtin("in_progress", cond)

    @staticmethod
    def execution_failed() -> AutomationCondition:
        return _leaf("execution_failed")

    @staticmethod
    def newly_updated() -> AutomationCondition:
        return _leaf("newly_updated")

    @staticmethod
    def newly_requested() -> AutomationCondition:
        return _leaf("newly_requested")

    @staticmethod
    def newly_missing() -> AutomationCondition:
        return _builtin("newly_missing", AutomationCondition.missing().newly_true())

    @staticmethod
    def will_be_requested() -> AutomationCondition:
        return _leaf("will_be_requested")

    @staticmethod
    def initial_evaluation() -> AutomationCondition:
        return _leaf("initial_evaluation")

    @staticmethod
    def code_version_changed() -> AutomationCondition:
        return _leaf("code_version_changed")

    @staticmethod
    def data_version_changed() -> AutomationCondition:
        return _leaf("data_version_changed")

    @staticmethod
    def check_passed() -> AutomationCondition:
        return _leaf("check_passed")

    @staticmethod
    def check_failed() -> AutomationCondition:
        return _leaf("check_failed")

    @staticmethod
    def freshness_passed() -> AutomationCondition:
        return _leaf("freshness_passed")

    @staticmethod
    def freshness_warned() -> AutomationCondition:
        return _leaf("freshness_warned")

    @staticmethod
    def freshness_failed() -> AutomationCondition:
        return _leaf("freshness_failed")

    @staticmethod
    def executed_with_root_target() -> AutomationCondition:
        return _leaf("executed_with_root_target")

    @staticmethod
    def executed_with_tags(
        *, tag_keys: Iterable[str] | None = None, tag_values: Mapping[str, str] | None = None
    ) -> AutomationCondition:
        return _tag_leaf("executed_with_tags", tag_keys, tag_values)

    @staticmethod
    def any_new_update_has_run_tags(
        *, tag_keys: Iterable[str] | None = None, tag_values: Mapping[str, str] | None = None
    ) -> AutomationCondition:
        return _tag_leaf("any_new_update_has_run_tags", tag_keys, tag_values)

    @staticmethod
    def all_new_updates_have_run_tags(
        *, tag_keys: Iterable[str] | None = None, tag_values: Mapping[str, str] | None = None
    ) -> AutomationCondition:
        return _tag_leaf("all_new_updates_have_run_tags", tag_keys, tag_values)

    @staticmethod
    def in_latest_time_window(lookback_delta: timedelta | None = None) -> AutomationCondition:
        """The partition is in the latest time window (always true if unpartitioned)."""
        if lookback_delta is not None and not isinstance(lookback_delta, timedelta):
            raise ParameterCheckError(
                "AutomationCondition.in_latest_time_window: lookback_delta must be a "
                f"datetime.timedelta or None, got {lookback_delta!r}."
            )
        params = () if lookback_delta is None else (("lookback_delta", lookback_delta),)
        return AutomationCondition("in_latest_time_window", params=params)

    @staticmethod
    def cron_tick_passed(cron_schedule: str, cron_timezone: str = "UTC") -> AutomationCondition:
        """A tick of ``cron_schedule`` happened since the previous evaluation."""
        check_cron(cron_schedule, "AutomationCondition.cron_tick_passed")
        return _cron_leaf("cron_tick_passed", cron_schedule, cron_timezone)

    # -- dependencies, checks, other assets --------------------------------------------------
    @staticmethod
    def any_deps_match(condition: AutomationCondition) -> AutomationCondition:
        _check_condition(condition, "AutomationCondition.any_deps_match")
        return AutomationCondition("any_deps_match", operands=(condition,))

    @staticmethod
    def all_deps_match(condition: AutomationCondition) -> AutomationCondition:
        _check_condition(condition, "AutomationCondition.all_deps_match")
        return AutomationCondition("all_deps_match", operands=(condition,))

    @staticmethod
    def any_checks_match(
        condition: AutomationCondition, blocking_only: bool = False
    ) -> AutomationCondition:
        _check_condition(condition, "AutomationCondition.any_checks_match")
        params = (("blocking_only", True),) if blocking_only else ()
        return AutomationCondition("any_checks_match", params=params, operands=(condition,))

    @staticmethod
    def all_checks_match(
        condition: AutomationCondition, blocking_only: bool = False
    ) -> AutomationCondition:
        _check_condition(condition, "AutomationCondition.all_checks_match")
        params = (("blocking_only", True),) if blocking_only else ()
        return AutomationCondition("all_checks_match", params=params, operands=(condition,))

    @staticmethod
    def asset_matches(key: Any, condition: AutomationCondition) -> AutomationCondition:
        _check_condition(condition, "AutomationCondition.asset_matches")
        params = (("key", AssetKey.from_coercible(key)),)
        return AutomationCondition("asset_matches", params=params, operands=(condition,))

    @staticmethod
    def any_deps_updated() -> AutomationCondition:
        updated = (
            AutomationCondition.newly_updated() & ~AutomationCondition.executed_with_root_target()
        ).with_label("newly_updated_without_root")
        cond = AutomationCondition.any_deps_match(updated | AutomationCondition.will_be_requested())
        return _builtin("any_deps_updated", cond)

    @staticmethod
    def any_deps_missing() -> AutomationCondition:
        cond = AutomationCondition.any_deps_match(
            AutomationCondition.missing() & ~AutomationCondition.will_be_requested()
        )
        return _builtin("any_deps_missing", cond)

    @staticmethod
    def any_deps_in_progress() -> AutomationCondition:
        cond = AutomationCondition.any_deps_match(AutomationCondition.in_progress())
        return _builtin("any_deps_in_progress", cond)

    @staticmethod
    def all_deps_updated_since_cron(
        cron_schedule: str, cron_timezone: str = "UTC"
    ) -> AutomationCondition:
        check_cron(cron_schedule, "AutomationCondition.all_deps_updated_since_cron")
        tick = AutomationCondition.cron_tick_passed(cron_schedule, cron_timezone)
        cond = AutomationCondition.all_deps_match(
            AutomationCondition.newly_updated().since(tick)
            | AutomationCondition.will_be_requested()
        )
        return _builtin(
            "all_deps_updated_since_cron", cond, _cron_args(cron_schedule, cron_timezone)
        )

    @staticmethod
    def all_deps_blocking_checks_passed() -> AutomationCondition:
        checks = AutomationCondition.all_checks_match(
            AutomationCondition.check_passed() | AutomationCondition.will_be_requested(),
            blocking_only=True,
        )
        return _builtin(
            "all_deps_blocking_checks_passed", AutomationCondition.all_deps_match(checks)
        )

    @staticmethod
    def any_downstream_conditions() -> AutomationCondition:
        return _leaf("any_downstream_conditions")

    # -- composites -------------------------------------------------------------------------
    @staticmethod
    def eager() -> AutomationCondition:
        """Materialize when missing or when a dependency updates, unless blocked."""
        ac = AutomationCondition
        trigger = (ac.newly_missing() | ac.any_deps_updated()).since_last_handled()
        cond = (
            ac.in_latest_time_window()
            & trigger
            & ~ac.any_deps_missing()
            & ~ac.any_deps_in_progress()
            & ~ac.in_progress()
        )
        return _builtin("eager", cond)

    @staticmethod
    def on_cron(cron_schedule: str, cron_timezone: str = "UTC") -> AutomationCondition:
        """Materialize once per cron tick, after all dependencies updated since that tick."""
        check_cron(cron_schedule, "AutomationCondition.on_cron")
        ac = AutomationCondition
        cond = (
            ac.in_latest_time_window()
            & ac.cron_tick_passed(cron_schedule, cron_timezone).since_last_handled()
            & ac.all_deps_updated_since_cron(cron_schedule, cron_timezone)
        )
        return _builtin("on_cron", cond, _cron_args(cron_schedule, cron_timezone))

    @staticmethod
    def on_missing() -> AutomationCondition:
        """Materialize missing partitions once their dependencies are present."""
        ac = AutomationCondition
        cond = (
            ac.in_latest_time_window()
            & (ac.missing().newly_true().since_last_handled())
            & ~ac.any_deps_missing()
        )
        return _builtin("on_missing", cond)

    # -- the seeds' names ---------------------------------------------------------------------
    @staticmethod
    def parent_newer() -> AutomationCondition:
        """A dependency was updated more recently than this asset (``any_deps_updated``)."""
        return _builtin("parent_newer", AutomationCondition.any_deps_updated())

    @staticmethod
    def parent_materialized() -> AutomationCondition:
        """Every dependency has been materialized (none is missing)."""
        return _builtin("parent_materialized", ~AutomationCondition.any_deps_missing())

    @staticmethod
    def materialized_since_cron(
        cron_schedule: str, cron_timezone: str = "UTC"
    ) -> AutomationCondition:
        """The asset was updated since the latest tick of ``cron_schedule``."""
        check_cron(cron_schedule, "AutomationCondition.materialized_since_cron")
        tick = AutomationCondition.cron_tick_passed(cron_schedule, cron_timezone)
        cond = AutomationCondition.newly_updated().since(tick)
        return _builtin("materialized_since_cron", cond, _cron_args(cron_schedule, cron_timezone))

    @staticmethod
    def failed_since_cron(cron_schedule: str, cron_timezone: str = "UTC") -> AutomationCondition:
        """A run of the asset failed since the latest tick of ``cron_schedule``."""
        check_cron(cron_schedule, "AutomationCondition.failed_since_cron")
        tick = AutomationCondition.cron_tick_passed(cron_schedule, cron_timezone)
        cond = AutomationCondition.execution_failed().since(tick)
        return _builtin("failed_since_cron", cond, _cron_args(cron_schedule, cron_timezone))


def _leaf(kind: str, params: tuple[tuple[str, Any], ...] = ()) -> AutomationCondition:
    return AutomationCondition(kind, params=params)


def _cron_args(cron_schedule: str, cron_timezone: str) -> tuple[tuple[str, Any], ...]:
    if not isinstance(cron_timezone, str):
        raise ParameterCheckError(
            f"cron_timezone must be a str such as 'UTC' or 'Europe/Paris', got {cron_timezone!r}."
        )
    return (("cron_schedule", cron_schedule), ("cron_timezone", cron_timezone))


def _cron_leaf(kind: str, cron_schedule: str, cron_timezone: str) -> AutomationCondition:
    return _leaf(kind, _cron_args(cron_schedule, cron_timezone))


def _tag_leaf(
    kind: str, tag_keys: Iterable[str] | None, tag_values: Mapping[str, str] | None
) -> AutomationCondition:
    params: list[tuple[str, Any]] = []
    if tag_keys is not None:
        params.append(("tag_keys", frozenset(tag_keys)))
    if tag_values is not None:
        params.append(("tag_values", tuple(sorted(dict(tag_values).items()))))
    return _leaf(kind, tuple(params))


def _builtin(
    label: str, cond: AutomationCondition, args: tuple[tuple[str, Any], ...] = ()
) -> AutomationCondition:
    """A composite under a built-in label; it prints as the constructor call that made it."""
    shown = [_fmt_arg(v) for k, v in args if not (k == "cron_timezone" and v == "UTC")]
    return replace(cond, label=label, display=f"{label}({', '.join(shown)})")


def _handled() -> AutomationCondition:
    ac = AutomationCondition
    return (ac.newly_requested() | ac.newly_updated() | ac.initial_evaluation()).with_label(
        "handled"
    )


def _static_names(cls: type) -> tuple[str, ...]:
    return tuple(
        sorted(
            n for n, v in vars(cls).items() if isinstance(v, staticmethod) and not n.startswith("_")
        )
    )


AutomationCondition._constructor_names = _static_names(AutomationCondition)  # type: ignore[misc]


# ----------------------------------------------------------------------------------------------
# Auto-materialize policies and rules (the older, rule-based form)


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
