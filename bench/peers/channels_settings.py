"""The minimal Django settings for bench/peers/channels_server.py: no database, no apps of
ours, no middleware; one ``RedisChannelLayer`` on ``REDIS_URL``."""

from __future__ import annotations

import os
import secrets

SECRET_KEY = secrets.token_urlsafe(32)  # nothing is signed; Django only insists on having one
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
LOGGING_CONFIG = None
ASGI_APPLICATION = "bench.peers.channels_server.application"
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # redis-py's pool raises once 100 connections are in use (a burst of 500 sockets leaving
            # at once does that); ours waits for a connection instead. A bigger pool, so the peer
            # is not failed by a pool size
            "hosts": [{"address": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), "max_connections": 1024}],
            # messages held per consumer before group_send drops them (default 100); ours buffers
            # 1,024 frames per connection before it gives up on a client, so the same here
            "capacity": 1024,
        },
    }
}
