from __future__ import annotations

import os

# Tests never read the user's own home; each test that needs one makes its own.
os.environ.pop("TOCSIN_HOME", None)
os.environ.pop("DAGSTER_HOME", None)
