"""The serving process freezes its start-up heap once ready (server.heap); apps built by tests do not.

Run in a child process: freezing is process-wide, and this test process must keep collecting.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.live import ROOT, TEST_KEYS

CHILD = """
import gc
from starlette.testclient import TestClient
import server.app as served
from server.settings import load_settings

with TestClient(served.create_app(load_settings())):
    built = gc.get_freeze_count()
with TestClient(served.app):
    serving = gc.get_freeze_count()
print(built, serving)
"""


def test_only_the_served_app_freezes_its_startup_heap(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "ALONGSIDE_ENV": "test",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'heap.db'}",
        "SECRET_KEYS": ",".join(TEST_KEYS),
    }
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "-m", "server", "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    done = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=ROOT, env=env, check=True, capture_output=True, text=True, timeout=120
    )
    built, serving = map(int, done.stdout.split()[-2:])
    assert built == 0
    # everything loaded by then: modules, SQLAlchemy's metadata, pydantic's models (~100,000)
    assert serving > 20_000
