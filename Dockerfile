# syntax=docker/dockerfile:1
# Build: dependencies first, in a layer of their own, so a change of the code does not rebuild them.
FROM rust:1-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
# Stand-ins for every target Cargo.toml declares (lib, bin, bench), so `cargo build` compiles only the
# dependencies here.
RUN mkdir -p src benches \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && echo 'fn main() {}' > benches/import.rs \
    && cargo build --release --locked \
    && rm -rf src benches
COPY build.rs ./
COPY src ./src
# The fonts the archive PDF embeds (include_bytes! in src/documents/pdf).
COPY assets ./assets
COPY migrations ./migrations
COPY benches ./benches
# The stand-ins are older than nothing: make sure the real sources are compiled.
RUN touch src/main.rs src/lib.rs && cargo build --release --locked --bin stafettlogg

# Run: the binary and libpq only, as an unprivileged user.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home stafettlogg
COPY --from=build /src/target/release/stafettlogg /usr/local/bin/stafettlogg
USER 10001
ENV BIND_ADDR=0.0.0.0:8080 RUST_LOG=info LOG_FORMAT=json
EXPOSE 8080
# Readiness through the binary itself (GET /health/ready: the process answers and the database does).
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 CMD ["stafettlogg", "health"]
ENTRYPOINT ["stafettlogg"]
CMD ["serve"]
