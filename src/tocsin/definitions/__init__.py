"""What users declare: ops, graphs, jobs, assets, resources, config, partitions, loggers.

Pure values with no I/O; this package imports only ``tocsin.errors``, ``tocsin.model`` and
``tocsin.cron``. Public names are reached through ``tocsin`` itself.
"""

from __future__ import annotations
