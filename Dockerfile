# One image for both roles: `llmesh sidecar` (injected into pods) and `llmesh operator`.
# The binary is linked with the static Swift standard library: the runtime image needs only glibc, libstdc++, zlib
# and the CA roots, which debian:bookworm-slim has. It runs as a non-root user (65532) with no shell use.
#
#   docker build -t ghcr.io/llmesh/llmesh:0.1.0 .

FROM swift:6.1-bookworm AS build
WORKDIR /src
# Dependencies first, so source edits do not refetch them.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product llmesh --static-swift-stdlib \
    && mkdir -p /out \
    && cp "$(swift build -c release --show-bin-path)/llmesh" /out/llmesh \
    && strip /out/llmesh

FROM debian:bookworm-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 65532 llmesh \
    && useradd --system --uid 65532 --gid 65532 --no-create-home --shell /usr/sbin/nologin llmesh
COPY --from=build /out/llmesh /usr/local/bin/llmesh
USER 65532:65532
EXPOSE 15080 15090 8443 8080
ENTRYPOINT ["/usr/local/bin/llmesh"]
CMD ["--help"]
