"""Per-process figures for Prometheus (``GET /metrics``, see docs/operations.md).

Each process has its own registry and is scraped on its own: nothing is shared between
processes, so a dashboard sums them (or compares them). Fan-out is the hot path (W2 in
bench/ delivers ~80,000 frames/s), so counters there move once per event by the number of
sockets it reached, never once per socket, and the latency histogram is observed once per
event. What the process already holds (open sockets, followed rooms, the broker's state,
database failures) is read only when scraped.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from server.heap import full_walks, next_walk_at

if TYPE_CHECKING:
    from server.hub import Hub

# fan-out is microseconds for a few sockets; a wait for a gap filled from the database is milliseconds
FANOUT_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
SEND_OUTCOMES = ("acked", "held", "refused", "unavailable", "failed")


class Metrics:
    """The counters the hot paths move, and the registry ``/metrics`` renders."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        for collector in (ProcessCollector, PlatformCollector, GCCollector):
            collector(registry=self.registry)
        r = self.registry
        self.connections_opened = Counter(
            "alongside_connections_opened", "WebSockets that passed the handshake (got hello)", registry=r
        )
        self.connections_closed = Counter(
            "alongside_connections_closed",
            "WebSockets ended, by the close code the server chose ('peer': the client left or the socket failed)",
            ["code"],
            registry=r,
        )
        self.handshakes_refused = Counter(
            "alongside_handshakes_refused",
            "WebSocket handshakes refused: origin (403), throttled (429), unauthorized (4001), unavailable (1013)",
            ["reason"],
            registry=r,
        )
        self.frames_refused = Counter(
            "alongside_frames_refused",
            "Client frames answered with an error frame, by error code (rate_limited, invalid, too_large, ...)",
            ["code"],
            registry=r,
        )
        sends = Counter(
            "alongside_messages",
            "Messages sent by clients, by outcome: acked (committed, acknowledged with a seq), held for review, "
            "refused (muted, locked, not a member, ...), unavailable (database down, nothing stored), failed (a bug)",
            ["outcome"],
            registry=r,
        )
        self.sends = {outcome: sends.labels(outcome) for outcome in SEND_OUTCOMES}
        self.delivered = Counter(
            "alongside_events_delivered",
            "Stored events (messages, reactions, ...) put into local sockets' buffers by live fan-out",
            registry=r,
        )
        self.backlog = Counter(
            "alongside_backlog_events", "Stored events sent from history to a socket joining with since", registry=r
        )
        self.ephemeral = Counter(
            "alongside_ephemeral_delivered",
            "Ephemeral frames (typing, presence) put into local sockets' buffers",
            registry=r,
        )
        self.gap_fills = Counter(
            "alongside_gap_fills",
            "Times a room waited for a missing seq and read it from the database (a publish lost or reordered)",
            registry=r,
        )
        self.fanout = Histogram(
            "alongside_fanout_seconds",
            "Per stored event: from the moment this process has it (its own commit returned, or the broker handed it "
            "over) until it is in the buffer of every local subscriber of its room, waits for a gap included",
            buckets=FANOUT_BUCKETS,
            registry=r,
        )
        self.commit = Histogram(
            "alongside_commit_seconds",
            "Per batch of client messages: from handing it to the database until its transaction committed, waits "
            "for the writer included (its sends are acknowledged right after)",
            buckets=FANOUT_BUCKETS,
            registry=r,
        )

    def fanned(self, pushed: int, received_at: float | None) -> None:
        """One stored event went out to ``pushed`` sockets; ``received_at`` is a ``perf_counter()``."""
        self.delivered.inc(pushed)
        if received_at is not None:
            self.fanout.observe(time.perf_counter() - received_at)

    def closed(self, code: int | None) -> None:
        self.connections_closed.labels("peer" if code is None else str(code)).inc()

    def watch(self, hub: Hub) -> None:
        """Read the hub's own state (and its broker's and database's) at each scrape."""
        self.registry.register(_HubState(hub))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _HubState(Collector):
    """Gauges and counters read from what the process holds anyway, only when scraped."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def collect(self) -> Iterator[Metric]:
        hub = self.hub
        yield GaugeMetricFamily(
            "alongside_connections_open", "WebSockets open on this process", value=len(hub.connections)
        )
        yield GaugeMetricFamily(
            "alongside_rooms_followed",
            "Rooms this process follows (subscribed on the broker) because a local socket joined them",
            value=len(hub.rooms),
        )
        yield GaugeMetricFamily(
            "alongside_room_subscriptions",
            "Joined (socket, room) pairs on this process",
            value=sum(len(channel.subs) for channel in list(hub.rooms.values())),
        )
        yield GaugeMetricFamily(
            "alongside_broker_connected",
            "1 while the broker (Redis pub/sub) is connected and subscribed; always 1 in-process",
            value=1 if hub.broker.connected else 0,
        )
        yield CounterMetricFamily(
            "alongside_broker_reconnects",
            "Times the broker came back after losing Redis (each followed by a catch-up from the database)",
            value=getattr(hub.broker, "reconnects", 0),
        )
        yield CounterMetricFamily(
            "alongside_broker_publishes_dropped",
            "Publishes dropped while Redis was unreachable or far behind (clients catch up from the database)",
            value=getattr(hub.broker, "dropped", 0),
        )
        yield GaugeMetricFamily(
            "alongside_heap_blocks",
            "Blocks of memory the interpreter's small-object allocator has in use: the live Python heap",
            value=sys.getallocatedblocks(),
        )
        next_walk = next_walk_at()
        if next_walk is not None:
            yield GaugeMetricFamily(
                "alongside_gc_next_walk_heap_blocks",
                "The heap at which the frozen survivors are walked again to free their cycles (server.heap)",
                value=next_walk,
            )
        yield CounterMetricFamily(
            "alongside_gc_full_walks",
            "Times the heap had doubled and one full collection walked everything, frozen or not (server.heap)",
            value=full_walks(),
        )
        yield CounterMetricFamily(
            "alongside_db_unavailable",
            "Database operations that failed because the database was unreachable (answered 'unavailable')",
            value=hub.db.unavailable,
        )
