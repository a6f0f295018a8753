# Quolum Bot as a container: `docker build -t quolum-bot .`, then see README.md, "Self-hosting with Docker".
# tests/test_dockerfile.py runs this file's install, `db upgrade` and `serve` commands in a clean venv;
# CI lints it with hadolint. Python 3.11, the version the suite runs on.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    QUOLUM_DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=3000

WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY handlers ./handlers
COPY services ./services
COPY messages ./messages
COPY providers ./providers
COPY sandbox ./sandbox
COPY storage ./storage
COPY core ./core
RUN pip install .

# Not root: the bot owns only its data directory (the SQLite database and a generated key, when used).
RUN groupadd --system --gid 10001 quolum \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin quolum \
    && mkdir -p /data \
    && chown quolum /data \
    && chmod 0700 /data
USER 10001:10001
VOLUME ["/data"]
EXPOSE 3000

# python rather than curl, which the slim image does not have
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]

CMD ["quolum-bot", "serve"]
