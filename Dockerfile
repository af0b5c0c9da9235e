# ecr-audit in a container: the release binary on a small base image.
#   docker build -t ecr-audit .
#   docker run --rm ecr-audit scan --demo
FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY . .
# The version string names the commit when .git is in the build context.
RUN apt-get update && apt-get install -y --no-install-recommends git \
    && cargo build --profile dist --locked --bin ecr-audit \
    && cp target/dist/ecr-audit /ecr-audit

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates awscli \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 ecr-audit
COPY --from=build /ecr-audit /usr/local/bin/ecr-audit
COPY examples/aws-batch/run-shard.sh /usr/local/bin/run-shard
USER ecr-audit
WORKDIR /tmp
ENTRYPOINT ["ecr-audit"]
