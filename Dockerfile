# commerce-profile-sync: the `profile-sync` consumer image.
#
#   make native-wheel                                # first: the native core's wheel (cargo)
#   docker build -t commerce-profile-sync .          # any base with Python 3.11+ and pip:
#   docker build --build-arg BASE_IMAGE=python:3.12-slim-bookworm -t commerce-profile-sync .
#   make image                                       # buildah, on a locally built Debian base
#
# The runtime dependencies come from requirements.lock, every file checked against its hash
# (`make lock`). The wheel is built from the runtime packages only (consumer, mappers, schemas), so neither the
# AEP emulator nor the dev tools can reach the image. The runtime stage copies one virtualenv
# and runs as uid 10001; everything it writes goes under /var/lib/profile-sync and /tmp, which a
# read-only root filesystem leaves to mounted volumes.

# checkov:skip=CKV_DOCKER_7: the base is this ARG, whose default carries a version tag
# checkov:skip=CKV_DOCKER_2: Kubernetes ignores HEALTHCHECK; the chart probes /livez and /readyz
ARG BASE_IMAGE=python:3.12-slim-bookworm

FROM ${BASE_IMAGE} AS build
ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md requirements.lock ./
COPY consumer/ consumer/
COPY mappers/ mappers/
COPY schemas/ schemas/
# The native core's wheel, built beforehand on the build host (`make native-wheel`; `make
# image` does it): no Rust toolchain in the build stage or the image.
COPY native/dist/ /native-wheels/
# pip settings of the build host (index, certificate bundle) arrive as a build secret, so a
# private index URL never lands in a layer; without the secret pip uses its defaults.
RUN --mount=type=secret,id=pip.conf,target=/run/secrets/pip.conf \
    set -eu; \
    if [ -s /run/secrets/pip.conf ]; then export PIP_CONFIG_FILE=/run/secrets/pip.conf; fi; \
    python3 -m venv /opt/profile-sync; \
    /opt/profile-sync/bin/pip wheel --no-deps --wheel-dir /wheels .; \
    /opt/profile-sync/bin/pip install --require-hashes --no-deps -r requirements.lock; \
    /opt/profile-sync/bin/pip install --no-deps /wheels/commerce_profile_sync-*.whl; \
    /opt/profile-sync/bin/pip install --no-deps /native-wheels/profile_sync_core-*.whl; \
    /opt/profile-sync/bin/pip uninstall -y -q pip setuptools; \
    /opt/profile-sync/bin/profile-sync --help >/dev/null

FROM ${BASE_IMAGE} AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="commerce-profile-sync" \
      org.opencontainers.image.description="Adobe Commerce customer events from Kafka to Adobe Experience Platform profiles" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="LicenseRef-Proprietary" \
      org.opencontainers.image.vendor="commerce-profile-sync"
# A named user for tools that look uid 10001 up; the numeric USER below is what Kubernetes'
# runAsNonRoot can verify.
RUN groupadd --gid 10001 profile-sync \
    && useradd --uid 10001 --gid 10001 --no-create-home \
       --home-dir /var/lib/profile-sync --shell /usr/sbin/nologin profile-sync \
    && mkdir -p /var/lib/profile-sync/state \
    && chown -R 10001:10001 /var/lib/profile-sync
COPY --from=build /opt/profile-sync /opt/profile-sync
ENV PATH=/opt/profile-sync/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/var/lib/profile-sync \
    TMPDIR=/tmp \
    PROFILE_SYNC_STATE_DIR=/var/lib/profile-sync/state \
    PROFILE_SYNC_HEALTH_PORT=8080
WORKDIR /var/lib/profile-sync
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["profile-sync"]
CMD ["run"]
