# VIE Coach in a container: the pinned wheel, an unprivileged user, the database in /data.
#   docker build -t vie-coach .
#   docker run -d --name vie-coach -e TELEGRAM_BOT_TOKEN=... -v vie-data:/data vie-coach
FROM python:3.11-slim AS build
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --disable-pip-version-check --no-deps --wheel-dir /dist .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /data --create-home vie
COPY --from=build /dist/*.whl /tmp/
COPY constraints.txt /tmp/constraints.txt
RUN pip install --no-cache-dir --disable-pip-version-check -c /tmp/constraints.txt /tmp/*.whl \
 && rm /tmp/*.whl /tmp/constraints.txt
USER vie
WORKDIR /data
# The database and its lock live in the volume; /healthz and /metrics listen on all
# addresses inside the container, published only if you choose to (-p 127.0.0.1:9464:9464).
ENV VIE_STORE_PATH=/data/vie-coach.db \
    VIE_OPS_LISTEN=0.0.0.0 \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
EXPOSE 9464
HEALTHCHECK --interval=60s --timeout=10s --start-period=30s \
  CMD python -c "import os,sys,urllib.request; port = os.environ.get('VIE_OPS_PORT', '9464'); sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=8).status != 200)"
STOPSIGNAL SIGTERM
CMD ["vie-coach", "run"]
