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
with TestClient(served.app) as client:
    serving = gc.get_freeze_count()
    scraped = client.get("/metrics", headers={"Authorization": "Bearer metrics-for-the-heap-test"}).text
ours = ("alongside_gc_", "alongside_heap_")
figures = dict(line.split(" ", 1) for line in scraped.splitlines() if line.startswith(ours))
print(built, serving, figures["alongside_heap_blocks"], figures["alongside_gc_next_walk_heap_blocks"],
      figures["alongside_gc_full_walks_total"])
"""


def test_only_the_served_app_freezes_its_startup_heap(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "ALONGSIDE_ENV": "test",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'heap.db'}",
        "SECRET_KEYS": ",".join(TEST_KEYS),
        "METRICS_TOKEN": "metrics-for-the-heap-test",
    }
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "-m", "server", "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    done = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=ROOT, env=env, check=True, capture_output=True, text=True, timeout=120
    )
    built, serving, heap_figure, next_walk_figure, walks_figure = map(float, done.stdout.split()[-5:])
    assert built == 0
    # everything loaded by then: modules, SQLAlchemy's metadata, pydantic's models (~100,000)
    assert serving > 20_000
    # /metrics shows the heap, and the heap at which the frozen set is next walked: twice the heap
    # once ready (a scrape's and the test client's own allocations have moved it a little since)
    assert heap_figure > serving
    assert heap_figure * 1.5 < next_walk_figure < heap_figure * 2.5
    assert walks_figure == 0
