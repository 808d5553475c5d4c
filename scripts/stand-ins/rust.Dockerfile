# Stand-in for the official Rust image, built by scripts/stand-in-images.sh
# only where that image cannot be pulled. Debian's C toolchain plus this
# machine's own Rust toolchain (the context's rust/), laid out as the
# official image lays it out (CARGO_HOME=/usr/local/cargo on PATH).
ARG BASE
FROM ${BASE}
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
# This machine's CA bundle, so cargo reaches crates.io through the same
# network path the host uses.
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY rust /usr/local/rust
ARG RUST_VERSION
ENV RUSTUP_HOME=/usr/local/rustup CARGO_HOME=/usr/local/cargo \
    PATH=/usr/local/cargo/bin:/usr/local/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    RUST_VERSION=${RUST_VERSION}
RUN mkdir -p /usr/local/cargo/bin && chmod -R a+w /usr/local/cargo && rustc --version && cargo --version
