"""``AutomationCondition``: when an asset should be materialized, as an immutable tree.

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
from typing import TYPE_CHECKING, Any

from tocsin.errors import CheckError, DagsterInvalidDefinitionError, ParameterCheckError
from tocsin.model.asset_key import AssetKey

if TYPE_CHECKING:  # auto_materialize builds on this module; it is imported where it is used
    from tocsin.automation.auto_materialize import AutoMaterializePolicy


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
        from tocsin.automation.auto_materialize import AutoMaterializePolicy

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
