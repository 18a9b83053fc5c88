# The ari-app image: Python 3.11 on Debian bookworm, espeak-ng for speech synthesis, the
# CPU build of PyTorch, the project, and the English vosk model downloaded at build time.
#   docker build -t ari-app .        (docker compose up --build does this for the lab)
# Runs `ari-app run -c config` as an unprivileged user; mount your configuration on
# /app/config and a volume on /app/var (call records, voicemail).

# ---- the English vosk model, fetched and unpacked in a throw-away stage ---------------
FROM debian:bookworm-slim AS vosk-model
ARG VOSK_MODEL=vosk-model-small-en-us-0.15
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl unzip \
    && rm -rf /var/lib/apt/lists/*
RUN curl -fsSL --retry 3 -o /tmp/model.zip "https://alphacephei.com/vosk/models/${VOSK_MODEL}.zip" \
    && unzip -q /tmp/model.zip -d /tmp/model \
    && mv "/tmp/model/${VOSK_MODEL}" /opt/vosk-model-small-en-us \
    && test -d /opt/vosk-model-small-en-us/am \
    && rm -rf /tmp/model /tmp/model.zip

# ---- the application ------------------------------------------------------------------
FROM python:3.11-slim-bookworm
ARG TORCH_VERSION=2.13.0
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends espeak-ng libespeak-ng1 \
    && rm -rf /var/lib/apt/lists/*

# PyTorch from its CPU index first, so that installing the project does not pull a CUDA
# build (the sentence-embedding model needs torch; the lab has no GPU).
RUN pip install "torch==${TORCH_VERSION}" --index-url https://download.pytorch.org/whl/cpu

WORKDIR /app
COPY setup.cfg pyproject.toml README.md ./
COPY ari_app ./ari_app
RUN pip install . && ari-app --version

COPY --from=vosk-model /opt/vosk-model-small-en-us /opt/vosk-model-small-en-us
COPY config ./config

# The only writable place is /app/var (a volume): call records, voicemail, the speech
# cache, and HOME / XDG_CACHE_HOME for any library that caches files.
RUN useradd --system --uid 10001 --user-group --home-dir /app/var --no-create-home ariapp \
    && mkdir -p /app/var/cache \
    && chown -R ariapp:ariapp /app/var
ENV HOME=/app/var \
    XDG_CACHE_HOME=/app/var/cache
USER ariapp
VOLUME ["/app/var"]

CMD ["ari-app", "run", "-c", "config"]
