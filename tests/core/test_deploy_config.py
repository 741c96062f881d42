"""The shipped deployment cuts slow clients off: a reverse proxy in docker-compose with timeouts and
upload limits aligned with the app's settings, and bounded uvicorn options in the image and `make run`.
(Nothing here starts containers; the 408 of the app itself is tested on a real uvicorn in
tests/integration/test_body_timeout.py.)"""

import re
from pathlib import Path

import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
NGINX_CONF = ROOT / "docker" / "nginx.conf"


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _nginx() -> str:
    return NGINX_CONF.read_text()


def _directive(conf: str, name: str) -> str:
    match = re.search(rf"^\s*{name}\s+([^;]+);", conf, re.MULTILINE)
    assert match, f"{name} missing from docker/nginx.conf"
    return match.group(1).strip()


def _seconds(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([smh]?)", value).groups()
    return int(number) * {"": 1, "s": 1, "m": 60, "h": 3600}[unit]


def _bytes(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kmg]?)", value.lower()).groups()
    return int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit]


def test_compose_puts_an_official_nginx_in_front_of_web():
    services = _compose()["services"]

    proxy = services["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert "./docker/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    assert proxy["ports"] == ["127.0.0.1:8000:8080"]
    assert "ports" not in services["web"]  # only the proxy reaches uvicorn
    assert services["web"]["environment"]["FORWARDED_ALLOW_IPS"] == "*"


def test_proxy_timeouts_and_limits_match_the_app():
    conf = _nginx()

    assert _seconds(_directive(conf, "client_body_timeout")) == settings.REQUEST_BODY_TIMEOUT_SECONDS
    assert 0 < _seconds(_directive(conf, "client_header_timeout")) <= 30
    assert _bytes(_directive(conf, "client_max_body_size")) > settings.ANNOTATION_IMPORT_MAX_BYTES
    assert _directive(conf, "proxy_request_buffering") == "on"
    assert _directive(conf, "server_tokens") == "off"


def test_proxy_passes_websockets_with_long_idle_timeouts():
    conf = _nginx()
    ws = conf[conf.index("location /ws/") :]
    ws = ws[: ws.index("}")]

    assert "proxy_set_header Upgrade $http_upgrade;" in ws
    assert "proxy_set_header Connection $connection_upgrade;" in ws
    assert _seconds(_directive(ws, "proxy_read_timeout")) >= 3600


def test_image_and_make_run_bound_uvicorn():
    from uvicorn.main import main as uvicorn_cli

    options = {f"UVICORN_{param.name.upper()}" for param in uvicorn_cli.params}
    dockerfile = (ROOT / "Dockerfile").read_text()
    set_in_image = dict(re.findall(r"(UVICORN_[A-Z_]+)=(\S+)", dockerfile))

    assert set(set_in_image) <= options  # every variable is a real uvicorn option
    assert {"UVICORN_TIMEOUT_KEEP_ALIVE", "UVICORN_LIMIT_CONCURRENCY", "UVICORN_WS_MAX_SIZE"} <= set(
        set_in_image
    )
    run = (ROOT / "Makefile").read_text().split("\nrun:")[1].split("\n\n")[0]
    assert "--timeout-keep-alive" in run
    assert "--limit-concurrency" in run
