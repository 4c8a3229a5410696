"""Shared test settings: a bounded hypothesis profile for CI, a longer one on demand."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=60, deadline=None, derandomize=True, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile("long", max_examples=5_000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# the columnar stage's cache of typed fact files and check results (kpidsl.columnar.cache):
# never the user's own folder, and a fresh one for each test (below), so that no test
# depends on what another left there; tests that need it off say so
_CACHE = tempfile.mkdtemp(prefix="kpidsl-test-cache-")
os.environ["KPIDSL_CACHE_DIR"] = _CACHE
os.environ.pop("KPIDSL_CACHE", None)
atexit.register(shutil.rmtree, _CACHE, True)


@pytest.fixture(autouse=True)
def _fresh_kpidsl_cache(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.setenv("KPIDSL_CACHE_DIR", str(tmp_path_factory.mktemp("kpidsl-cache")))
