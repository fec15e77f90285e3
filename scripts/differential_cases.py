"""Cases for ``scripts/differential``: run under either implementation, print JSON results.

The package to test comes from ``TOCSIN_DIFF_PKG`` (``dagster`` or ``tocsin``) and is imported
as ``dg``; each case returns a value or raises, and the outcome is printed as text with
implementation-specific details (module paths, memory addresses) removed.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import re
import sys
import warnings

warnings.filterwarnings("ignore")
dg = importlib.import_module(os.environ.get("TOCSIN_DIFF_PKG", "tocsin"))
UTC = dt.UTC
CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def sctx(cursor=None):
    return dg.build_sensor_context(cursor=cursor)


def schctx():
    return dg.build_schedule_context(scheduled_execution_time=dt.datetime(2024, 1, 1, tzinfo=UTC))


def tick(fn, **kwargs):
    result = dg.sensor(job_name="j", name="s", **kwargs)(fn).evaluate_tick(sctx("c0"))
    return {
        "run_keys": [r.run_key for r in result.run_requests],
        "tags": [r.tags for r in result.run_requests],
        "skip": result.skip_message,
        "cursor": result.cursor,
    }


def stick(fn, **kwargs):
    s = dg.schedule(cron_schedule="0 * * * *", job_name="j", name="s", **kwargs)(fn)
    result = s.evaluate_tick(schctx())
    return {
        "requests": [(r.run_key, r.run_config, r.tags) for r in result.run_requests],
        "skip": result.skip_message,
    }


def gen(*items, ret=None):
    def fn():
        yield from items
        return ret

    return fn


RR, SR, SK = dg.RunRequest, dg.SensorResult, dg.SkipReason

# -- sensor return normalization (semantics 2.1) ---------------------------------------------
for _name, _fn in {
    "none": lambda: None,
    "empty_list": lambda: [],
    "list_of_none": lambda: [None],
    "empty_gen": gen(),
    "skip_empty": lambda: SK(),
    "skip_x": lambda: SK("x"),
    "one_request": lambda: RR("a", tags={"t": 1}),
    "two_requests_same_key": lambda: [RR("k"), RR("k")],
    "gen_requests": gen(RR("a"), RR("b")),
    "sensor_result_empty": lambda: SR(),
    "sensor_result_skip_str": lambda: SR(skip_reason="x"),
    "sensor_result_cursor": lambda: SR(run_requests=[RR("a")], cursor="c"),
    "list_sensor_result": lambda: [SR(skip_reason="x")],
    "sensor_result_and_more": lambda: [SR(), RR()],
    "request_and_skip": lambda: [RR(), SK("x")],
    "yield_request_return_skip": gen(RR(), ret=SK("x")),
    "two_skips": lambda: [SK("a"), SK("b")],
    "only_return_skip": gen(ret=SK("x")),
    "yield_and_return_request": gen(RR("a"), ret=RR("b")),
    "scalar_dict": lambda: {"a": 1},
    "list_with_str": lambda: [RR(), "x"],
    "yield_int": gen(5),
}.items():
    CASES[f"sensor_{_name}"] = lambda _fn=_fn: tick(_fn)


@case
def sensor_update_cursor_and_result_cursor():
    def fn(context):
        context.update_cursor("a")
        return SR(cursor="b")

    return tick(fn)


@case
def sensor_update_cursor_only():
    def fn(context):
        context.update_cursor("a")
        return SR(run_requests=[RR("x")])

    return tick(fn)


@case
def sensor_user_error():
    def fn():
        raise ValueError("boom")

    return tick(fn)


@case
def sensor_no_target():
    return dg.sensor(name="s")(lambda: RR()).evaluate_tick(sctx())


@case
def sensor_partition_without_definitions():
    return tick(lambda: RR(partition_key="p"))


# -- run requests and definitions (2.2) -------------------------------------------------------
for _name, _kwargs in {
    "run_key_int": {"run_key": 1},
    "run_config_int": {"run_config": 5},
    "tags_int": {"tags": 5},
    "tags_int_key": {"tags": {1: 2}},
    "job_name_int": {"job_name": 5},
    "partition_key_int": {"partition_key": 5},
    "tags_stringified": {"tags": {"a": 1, "b": None, "c": {"x": 1}}},
}.items():
    CASES[f"run_request_{_name}"] = lambda _kwargs=_kwargs: vars_of(RR(**_kwargs))


def vars_of(request):
    return {k: getattr(request, k) for k in ("run_key", "run_config", "tags", "job_name")}


@case
def skip_reason_int():
    return SK(5)


@case
def sensor_result_both():
    return SR(run_requests=[RR()], skip_reason="x")


@case
def sensor_definition_without_fn():
    return dg.SensorDefinition(name="a")


@case
def sensor_definition_two_targets():
    return dg.SensorDefinition(name="a", evaluation_fn=lambda c: None, job_name="x", jobs=[])


@case
def sensor_bad_name():
    return dg.sensor(job_name="j", name="bad name!")(lambda: None)


@case
def sensor_interval_str():
    return dg.sensor(job_name="j", minimum_interval_seconds="3")(sensor_fn)


def sensor_fn(context):
    return context.cursor


@case
def sensor_default_interval():
    return dg.sensor(job_name="j")(sensor_fn).minimum_interval_seconds


# -- direct invocation (2.3) ------------------------------------------------------------------
@case
def invoke_without_context():
    return dg.sensor(job_name="j")(sensor_fn)()


@case
def invoke_with_none():
    return dg.sensor(job_name="j")(sensor_fn)(None)


@case
def invoke_wrong_kw():
    return dg.sensor(job_name="j")(sensor_fn)(ctx=sctx())


@case
def invoke_two_contexts():
    return dg.sensor(job_name="j")(sensor_fn)(sctx(), sctx())


@case
def invoke_str():
    return dg.sensor(job_name="j")(sensor_fn)("str")


@case
def invoke_context_kw():
    return dg.sensor(job_name="j")(sensor_fn)(context=sctx("q"))


# -- contexts (2.4) ---------------------------------------------------------------------------
@case
def context_cursor_int():
    return dg.build_sensor_context(cursor=5)


@case
def context_instance_missing():
    return dg.build_sensor_context().instance


@case
def schedule_context_no_time():
    return dg.build_schedule_context().scheduled_execution_time


@case
def schedule_context_naive_time():
    return dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2023, 1, 16, 8)
    ).scheduled_execution_time.isoformat()


# -- schedules (2.5, 2.6) ---------------------------------------------------------------------
for _name, _kwargs in {
    "six_fields": {"cron_schedule": "0 * * * * *"},
    "reboot": {"cron_schedule": "@reboot"},
    "feb_30": {"cron_schedule": "0 0 30 2 *"},
    "h_field": {"cron_schedule": "H * * * *"},
    "empty_list": {"cron_schedule": []},
    "bad_timezone": {"cron_schedule": "0 * * * *", "execution_timezone": "Mars/Base"},
    "reserved_tag": {"cron_schedule": "0 * * * *", "tags": {"dagster/foo": "x"}},
    "config_and_fn": {"cron_schedule": "0 * * * *", "run_config": {"a": 1}, "run_config_fn": id},
    "empty_config_and_fn": {"cron_schedule": "0 * * * *", "run_config": {}, "run_config_fn": id},
}.items():
    CASES[f"schedule_def_{_name}"] = lambda _kwargs=_kwargs: (
        dg.ScheduleDefinition(job_name="j", **_kwargs).name
    )


@case
def schedule_default_name():
    return dg.ScheduleDefinition(cron_schedule="0 * * * *", job_name="j").name


@case
def schedule_no_target():
    return dg.ScheduleDefinition(cron_schedule="0 * * * *")


for _name, _fn in {
    "none": lambda: None,
    "skip": lambda: SK("x"),
    "request": lambda: RR(tags={"u": "2"}),
    "dict": lambda: {"a": 1},
    "two_keyed": lambda: [RR("a"), RR("b")],
    "two_unkeyed": lambda: [RR(), RR()],
    "request_and_skip": lambda: [RR("a"), SK()],
    "str": lambda: "x",
}.items():
    CASES[f"schedule_returns_{_name}"] = lambda _fn=_fn: stick(_fn, tags={"t": "1"})


@case
def schedule_user_error():
    def fn():
        raise ValueError("boom")

    return stick(fn)


@case
def schedule_should_execute_false():
    return stick(lambda: {}, should_execute=lambda c: False)


@case
def schedule_direct_dict_copy():
    config = {"a": {"b": 1}}
    result = dg.schedule(cron_schedule="0 * * * *", job_name="j")(lambda: config)(schctx())
    return [result, result is config]


@case
def schedule_plain_invocation():
    return dg.ScheduleDefinition(cron_schedule="0 * * * *", job_name="j")(schctx())


# -- cron ticks through ScheduleDefinition ----------------------------------------------------
TICK_CASES = {
    "ny_spring_0230": ("30 2 * * *", "America/New_York", (2024, 3, 9, 12)),
    "ny_fall_0100": ("0 1 * * *", "America/New_York", (2024, 11, 2, 12)),
    "ny_hourly_fall": ("0 * * * *", "America/New_York", (2024, 11, 3, 4)),
    "berlin_sunday": ("30 2 * * 0", "Europe/Berlin", (2024, 3, 30, 12)),
    "utc_every_15": ("*/15 * * * *", "UTC", (2024, 1, 1, 0)),
    "list_of_crons": (["0 1 * * *", "30 2 * * *"], "UTC", (2024, 1, 1, 0)),
}


def next_ticks(cron, tz, start, count=4):
    s = dg.ScheduleDefinition(cron_schedule=cron, job_name="j", execution_timezone=tz)
    start_dt = dt.datetime(*start, tzinfo=UTC)
    if hasattr(s, "iter_ticks"):
        ticks = s.iter_ticks(start_dt)
    else:  # the reference exposes ticks through a helper
        from dagster._utils.schedules import cron_string_iterator

        ticks = cron_string_iterator(start_dt.timestamp(), cron, tz)
    out = []
    for t in ticks:
        if t.timestamp() <= start_dt.timestamp():
            continue
        out.append(t.astimezone(UTC).isoformat())
        if len(out) == count:
            return out
    return out


for _name, (_cron, _tz, _start) in TICK_CASES.items():
    if isinstance(_cron, list) and os.environ.get("TOCSIN_DIFF_PKG") == "dagster":
        continue
    CASES[f"ticks_{_name}"] = lambda _c=_cron, _t=_tz, _s=_start: next_ticks(_c, _t, _s)


_NOISE = [
    (re.compile(r"<class '(?:dagster|tocsin)[\w.]*\.(\w+)'>"), r"<class '\1'>"),
    (re.compile(r" at 0x[0-9a-f]+"), ""),
    (re.compile(r"\b(?:dagster|tocsin)[\w.]*\.(\w+)"), r"\1"),
]


def _clean(text):
    for pattern, repl in _NOISE:
        text = pattern.sub(repl, text)
    return text


def run(name):
    try:
        value = CASES[name]()
        return _clean("ok " + json.dumps(value, default=repr, sort_keys=True))
    except BaseException as exc:  # the outcome is what is compared
        cause = f" (cause {type(exc.__cause__).__name__})" if exc.__cause__ else ""
        return _clean(f"raises {type(exc).__name__}: {exc}{cause}")


if __name__ == "__main__":
    names = sys.argv[1:] or sorted(CASES)
    print(json.dumps({name: run(name) for name in names if name in CASES}))
