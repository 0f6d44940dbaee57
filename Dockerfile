# syntax=docker/dockerfile:1
# Same steps as the Makefile: uv installs exactly what uv.lock pins.
FROM python:3.11-slim AS build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
RUN pip install --no-cache-dir "uv==0.13.8"
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY bot ./bot
COPY connectors ./connectors
COPY ledger ./ledger
COPY digests ./digests
COPY migrations ./migrations
COPY alembic.ini ./
RUN uv sync --frozen --no-dev --no-editable

FROM python:3.11-slim AS runtime
RUN useradd --create-home --uid 10001 stackspend
WORKDIR /app
COPY --from=build --chown=stackspend:stackspend /app /app
ENV PATH="/app/.venv/bin:$PATH" PYTHONUNBUFFERED=1
USER stackspend
# SQLite users: mount a volume here and point STACKSPEND_DATABASE_URL at it.
VOLUME ["/data"]
ENV STACKSPEND_DATABASE_URL=sqlite:////data/stackspend.db
EXPOSE 3000
# Probes HTTP mode (the default command). For Socket Mode run the image with
# `--no-healthcheck ... stackspend serve` and SLACK_APP_TOKEN set.
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
  CMD python -c "import sys,urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=2).status == 200 else 1)" || exit 1
# Migrations are a separate step: docker run ... stackspend db upgrade
CMD ["stackspend", "serve", "--http", "--port", "3000"]
