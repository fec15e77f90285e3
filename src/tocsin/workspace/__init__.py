"""Code locations: where user code is loaded (a worker process) and how the daemon talks to it.

``workspace.py`` reads ``-f``/``-m``/``workspace.yaml`` into ``LocationSpec``s and loads a
spec's ``Definitions``; ``handler.py`` answers requests against loaded definitions;
``worker.py`` is the long-lived process around a handler; ``client.py`` is the daemon's handle
on one worker; ``location.py`` gives both paths (worker and in-process) one interface.
"""

from __future__ import annotations
