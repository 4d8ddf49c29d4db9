# syntax=docker/dockerfile:1
# daapd: one static binary, run as a non-root user.
#   docker build -t daapd .
#   docker run -d --name daapd --network host \
#     -v /path/to/music:/music:ro -v daapd-state:/state daapd
# Bridge networking cannot carry mDNS (multicast stays inside the Docker
# network and the announcement would carry a 172.17.x address): use
# --network host, or a macvlan network with its own LAN address.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/daapd ./cmd/daapd
# /state must exist in the image, owned by the runtime user: Docker creates a
# missing VOLUME directory root-owned, and a new named volume copies the
# image directory's ownership, so nonroot could not write its state otherwise.
RUN mkdir -p /out/state

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/daapd /usr/local/bin/daapd
COPY --from=build --chown=65532:65532 /out/state /state
ENV DAAPD_MUSIC=/music \
    DAAPD_STATE_DIR=/state
VOLUME ["/music", "/state"]
EXPOSE 3689/tcp 5353/udp
USER nonroot:nonroot
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s \
  CMD ["/usr/local/bin/daapd", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/daapd"]
