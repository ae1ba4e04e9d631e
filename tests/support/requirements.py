"""Skip a test whose service is missing, unless CI says it must run (then fail instead)."""

from __future__ import annotations

import os

import pytest


def missing(service: str, why: str, env_flag: str) -> None:
    if os.environ.get(env_flag) == "1":
        pytest.fail(f"{service} is required ({env_flag}=1) but unavailable: {why}")
    pytest.skip(f"{service} unavailable: {why}")
