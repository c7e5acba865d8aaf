# plan_tracker: one image for web (gunicorn), Celery worker and beat (see docker-compose.yml).

# Front-end packages (Bootstrap, htmx) from package-lock.json; only their files are kept.
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=plan_tracker.settings \
    WEB_CONCURRENCY=3

# WeasyPrint's libraries (Pango, HarfBuzz subsetting), fonts that cover Vietnamese
# (Liberation 2 = Times New Roman metrics; DejaVu as fallback), gettext for compilemessages.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
        fonts-liberation2 fonts-dejavu-core gettext \
    && rm -rf /var/lib/apt/lists/*

# Locked dependencies only (hashes checked), in their own layer so code changes reuse it.
# A virtual environment: `uv pip sync` would otherwise remove pip from the system Python.
COPY requirements.lock /tmp/requirements.lock
RUN pip install uv==0.13.9 \
    && uv venv --python /usr/local/bin/python3.11 /opt/venv \
    && uv pip sync --python /opt/venv/bin/python --compile-bytecode --no-cache /tmp/requirements.lock \
    && rm /tmp/requirements.lock

RUN useradd --create-home --uid 10001 --user-group app
WORKDIR /app
COPY --chown=app:app . .
# settings.py serves node_modules/<package>/dist under static/vendor/.
COPY --from=assets --chown=app:app /build/node_modules ./node_modules

# Translations and static files are built into the image; the key is a build-time dummy
# (the containers get the real one from .env).
RUN SECRET_KEY=build-only-not-secret \
        python manage.py compilemessages --ignore=.venv --ignore=var -v 0 \
    && SECRET_KEY=build-only-not-secret python manage.py collectstatic --noinput -v 0 \
    && python -m compileall -q -x node_modules . \
    && mkdir -p var/media var/mail \
    && chown -R app:app /app/var

USER app
EXPOSE 8000

CMD ["gunicorn", "plan_tracker.wsgi:application", "--bind", "0.0.0.0:8000", \
     "--no-control-socket", "--access-logfile", "-"]
