"""Automation: sensors, schedules, what they return, their contexts and their evaluation.

``evaluate.py`` is the one place user sensor/schedule code is called; the daemon, the CLI
preview and ``evaluate_tick`` all go through it. This layer imports definitions, model,
cron and errors only; it is handed an instance object, never imports one.
"""

from __future__ import annotations
