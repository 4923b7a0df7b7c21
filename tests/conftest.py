"""Suite-wide settings: hypothesis profiles.

The default profile keeps property tests quick enough for `make test`; run more
examples with `pytest --hypothesis-profile=slow` (e.g. before a release).
"""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("default", max_examples=20, deadline=None)
settings.register_profile("slow", max_examples=400, deadline=None)
settings.load_profile("default")
