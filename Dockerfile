# verbonden: multi-stage image; the runtime stage holds only the locked runtime packages and the code.
FROM python:3.11-slim AS build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
RUN pip install --no-cache-dir uv
WORKDIR /srv/verbonden
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY app ./app
COPY instrument ./instrument
COPY psychometrics ./psychometrics
COPY migrations ./migrations
COPY alembic.ini ./
RUN uv sync --frozen --no-dev

FROM python:3.11-slim AS runtime
RUN groupadd --system verbonden && useradd --system --gid verbonden --home-dir /srv/verbonden verbonden
WORKDIR /srv/verbonden
COPY --from=build --chown=verbonden:verbonden /srv/verbonden /srv/verbonden
ENV PATH="/srv/verbonden/.venv/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    VERBONDEN_HOST=0.0.0.0 \
    VERBONDEN_PORT=8000 \
    VERBONDEN_WORKERS=2 \
    VERBONDEN_DATABASE_URL=sqlite:////srv/verbonden/data/verbonden.sqlite3
RUN mkdir -p /srv/verbonden/data && chown verbonden:verbonden /srv/verbonden/data
USER verbonden
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"VERBONDEN_PORT\", \"8000\")}/healthz', timeout=2)"
# Migrations first (idempotent), then the server; VERBONDEN_WORKERS sets the number of workers.
CMD ["sh", "-c", "verbonden db upgrade && exec verbonden serve"]
