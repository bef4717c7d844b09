# crmbot in a container: `docker build -t crmbot .`
#   docker run -it --rm -v crmbot-data:/data crmbot                 # the demo console
#   docker run --rm -v crmbot-data:/data crmbot db upgrade           # then any crmbot command
# Configure with CRMBOT_* environment variables (see .env.example), e.g. CRMBOT_DATABASE_URL.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies and code, installed at the versions the test suite ran with; the source
# directory is removed afterwards (the package lives in site-packages).
COPY pyproject.toml README.md constraints.txt ./
COPY bot ./bot
COPY handlers ./handlers
COPY crm_core ./crm_core
COPY retrieval ./retrieval
COPY schedules ./schedules
RUN pip install -c constraints.txt . \
    && cd / && rm -rf /app

# Run as an unprivileged user that owns only the data directory.
RUN useradd --system --create-home --uid 10001 --home-dir /home/crmbot crmbot \
    && mkdir -p /data \
    && chown crmbot:crmbot /data

ENV CRMBOT_DATA_DIR=/data
VOLUME ["/data"]
WORKDIR /data
USER crmbot

ENTRYPOINT ["crmbot"]
CMD ["console", "--demo"]
