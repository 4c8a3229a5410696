"""Fixtures for the engine's tests (helpers live in evalkit.py)."""

from __future__ import annotations

import pytest
from evalkit import example_model as _example_model

from kpidsl.model import PlanModel


@pytest.fixture
def example_model() -> PlanModel:
    return _example_model()
