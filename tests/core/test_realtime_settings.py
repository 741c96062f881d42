"""The deployed channel layer's Redis connection outlives channels_redis's blocking read."""

import os
import subprocess
import sys
from pathlib import Path

from channels_redis.core import RedisChannelLayer

ROOT = Path(__file__).resolve().parents[2]


def test_redis_layer_socket_timeout_is_longer_than_the_blocking_receive():
    """redis-py 8 defaults socket_timeout to 5 s, the length of channels_redis's BZPOPMIN: every idle
    feed socket died with redis TimeoutError (the integration test holds one open for a minute)."""
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.CHANNEL_LAYERS['default']['CONFIG']['hosts']))"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"CHANNELS_REDIS_SOCKET_TIMEOUT"}}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            **env,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": "realtime-settings-test-" + "x9Q-kL2v" * 4,  # production checks keys
            "REDIS_URL": "redis://cache:6379/0",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    import json

    (host,) = json.loads(result.stdout.strip().splitlines()[-1])
    assert host["address"] == "redis://cache:6379/0"
    timeout = host["socket_timeout"]
    assert timeout is None or timeout >= RedisChannelLayer.brpop_timeout + 5
    assert host["health_check_interval"] > 0
