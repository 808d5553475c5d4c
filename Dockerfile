# The two images of the stack, from one builder stage, so the workspace
# compiles once:
#   docker build --target api    -t hiring-api .
#   docker build --target client -t hiring-client .
# The build context is the repository root (see .dockerignore).

FROM rust:1.95.0-slim-bookworm AS chef
# Stripped release binaries: the same setting for cook and build, so the
# dependency layer below is reused.
ENV CARGO_PROFILE_RELEASE_STRIP=symbols CARGO_TERM_COLOR=never
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /src

# The dependency graph alone (recipe.json), unchanged by edits to our code.
FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

# Dependencies in their own layer, reused until Cargo.toml or Cargo.lock
# change; then both binaries in one cargo run.
FROM chef AS build
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json --package api --package client
COPY . .
RUN cargo build --release --locked --package api --package client --bins

# What both runtime images share: CA roots, a non-root user and the shared
# volume's layout. A named volume mounted at /shared for the first time is
# filled from the image, so incoming/ (the `docker compose cp` target) is
# there and belongs to the app user from the start.
FROM debian:12.15-slim AS runtime
# CA certificates: rustls in the client (and TLS to a managed database) needs
# the system's roots. Unpinned on purpose: Debian's security updates.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
# /app/var: where the api keeps its SQLite file when run with no DATABASE_URL.
RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /app app \
    && mkdir -p /app/var /shared/incoming /shared/backups /shared/reports /shared/secrets \
    && chown -R app:app /app/var /shared \
    && chmod 0700 /shared/secrets
ENV SHARED_DIR=/shared

FROM runtime AS api
COPY --from=build /src/target/release/api /usr/local/bin/api
COPY data /app/data
WORKDIR /app
USER 10001:10001
ENV API_ADDR=0.0.0.0:8000 DATA_DIR=/app/data
EXPOSE 8000
# On SIGTERM the API finishes the requests in flight, then exits.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --timeout=5s --retries=60 CMD ["api", "--healthcheck"]
ENTRYPOINT ["api"]

FROM runtime AS client
COPY --from=build /src/target/release/client /usr/local/bin/client
WORKDIR /shared
USER 10001:10001
ENV API_URL=http://api:8000
ENTRYPOINT ["client"]
