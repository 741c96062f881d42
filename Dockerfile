# Tessera image: one image for web (uvicorn), worker and beat (celery). See docs/DEPLOY.md.
#
#   docker build -t tessera .
#   docker run --env-file tessera.env -p 8000:8000 tessera                      # web
#   docker run --env-file tessera.env tessera celery -A config worker -l info --without-gossip --without-mingle   # worker
#   docker run --env-file tessera.env tessera celery -A config beat -l info -s /tmp/celerybeat-schedule  # beat: exactly one

# --- 1. frontend: Vite build -> /build/frontend/dist ---------------------------------------------------
FROM node:20-bookworm-slim AS frontend
WORKDIR /build/frontend
# Lockfile first, so the dependency layer is reused while only sources change.
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY frontend/ ./
RUN npm run build

# --- 2. runtime: Python 3.11, the app, the built frontend and collected static files -----------------
FROM python:3.11-slim-bookworm AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    TESSERA_VAR_DIR=/app/var

RUN groupadd --system --gid 10001 tessera \
    && useradd --system --uid 10001 --gid tessera --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin tessera

WORKDIR /app

# Runtime dependencies only (no [dev]), pinned by constraints.txt. They are read from pyproject.toml
# and installed before the sources are copied, so editing code does not reinstall them. The project
# itself is not pip-installed: it runs from /app (PYTHONPATH), where settings find templates/ and
# frontend/dist/ next to the code.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -c constraints.txt -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Sources are owned by root and read-only for the app user; only var/ is writable.
COPY . .
COPY --from=frontend /build/frontend/dist ./frontend/dist
# Bytecode is compiled once here: PYTHONDONTWRITEBYTECODE stops (read-only) runtime writes, not reads.
RUN chmod 0755 docker/entrypoint.sh \
    && python -m compileall -q -j 0 . \
    && mkdir -p var/media var/static \
    && chown -R tessera:tessera var

USER tessera

# Static files are baked into the image (whitenoise serves them). Production settings refuse to load
# without a strong key, and collectstatic uses no secret: a random key that exists only in this RUN
# (never a fixed one, which config/secret_key.py would have to refuse anyway).
RUN DJANGO_SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    python manage.py collectstatic --noinput -v 0

EXPOSE 8000

# uvicorn limits (overridable per container: UVICORN_* variables are its options). Keep-alive idles
# are short, concurrency is bounded (over it: 503), feed clients send tiny frames. uvicorn has no
# request-body timeout: core/body_timeout.py answers 408, and the compose proxy cuts slow clients first.
ENV UVICORN_TIMEOUT_KEEP_ALIVE=5 \
    UVICORN_LIMIT_CONCURRENCY=1000 \
    UVICORN_WS_MAX_SIZE=65536 \
    UVICORN_TIMEOUT_GRACEFUL_SHUTDOWN=20

# Sends the first DJANGO_ALLOWED_HOSTS entry as Host, so the check passes Django's host validation.
# /healthz answers 503 (urlopen raises) when the database, Redis or storage is unreachable.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; h = (os.environ.get('DJANGO_ALLOWED_HOSTS') or 'localhost').split(',')[0].strip().lstrip('.').replace('*', '') or 'localhost'; u.urlopen(u.Request('http://127.0.0.1:8000/healthz', headers={'Host': h}), timeout=8)"]

ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["uvicorn", "config.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers", "--no-server-header"]
