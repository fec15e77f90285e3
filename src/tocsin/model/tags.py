"""System tag names. They are the reference's, so user code that reads them moves over."""

from __future__ import annotations

SYSTEM_TAG_PREFIX = "dagster/"
HIDDEN_TAG_PREFIX = ".dagster/"

RUN_KEY_TAG = "dagster/run_key"
SENSOR_NAME_TAG = "dagster/sensor_name"
SCHEDULE_NAME_TAG = "dagster/schedule_name"
TICK_ID_TAG = "dagster/tick"
PARTITION_NAME_TAG = "dagster/partition"
PARTITION_SET_TAG = "dagster/partition_set"
ASSET_PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
ASSET_PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"
SCHEDULED_EXECUTION_TIME_TAG = ".dagster/scheduled_execution_time"
PRIORITY_TAG = "dagster/priority"
MAX_RUNTIME_SECONDS_TAG = "dagster/max_runtime"
BACKFILL_ID_TAG = "dagster/backfill"
REPOSITORY_LABEL_TAG = ".dagster/repository"
AUTO_MATERIALIZE_TAG = "dagster/auto_materialize"
RETRY_NUMBER_TAG = "dagster/retry_number"

# tocsin's own: the instigator that made a run ("<location>:<kind>:<name>"). Together with
# RUN_KEY_TAG it is the unique key that de-duplicates runs in storage.
INSTIGATOR_TAG = "tocsin/instigator"
# Where the run worker finds the code of a run's job (a code location spec as JSON); kept on
# the run but not in the tag index.
CODE_ORIGIN_TAG = ".tocsin/code_origin"
CODE_LOCATION_TAG = "tocsin/code_location"
