"""One time unit for every test wait, scaled for slow or busy machines (websockets' habit)."""

from __future__ import annotations

import os

UNIT = float(os.environ.get("ALONGSIDE_TEST_UNIT", "1.0"))


def units(n: float) -> float:
    return n * UNIT
