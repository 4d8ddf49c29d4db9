# syntax=docker/dockerfile:1
# daapd in Docker, run as a non-root user. Two targets:
#   default   daapd + ffmpeg, so iTunes and Music.app also get FLAC, Ogg
#             Vorbis, Opus, AIFC, WMA and DSD tracks (as WAV)
#   static    daapd alone (about 12 MB): those formats are hidden from
#             iTunes/Music.app; Rhythmbox and other clients see everything
#
#   docker build -t daapd .
#   docker build --target static -t daapd:static .
#   docker run -d --name daapd --network host \
#     -v /path/to/music:/music:ro -v daapd-state:/state daapd
#   docker buildx build --platform linux/amd64,linux/arm64,linux/arm/v7 -t daapd .
#
# Go cross-compiles on the build machine ($BUILDPLATFORM); only the ffmpeg
# stage runs on the target platform (under emulation when they differ).
# Bridge networking cannot carry mDNS (multicast stays inside the Docker
# network and the announcement would carry a 172.17.x address): use
# --network host, or a macvlan network with its own LAN address.

FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG TARGETARCH
ARG TARGETVARIANT
ARG VERSION=
RUN export CGO_ENABLED=0 GOARCH="${TARGETARCH:-$(go env GOARCH)}"; \
    case "$TARGETVARIANT" in v[5-7]) export GOARM="${TARGETVARIANT#v}" ;; esac; \
    go build -trimpath -ldflags "-s -w ${VERSION:+-X main.version=$VERSION}" -o /out/daapd ./cmd/daapd
# /state must exist in the image, owned by the runtime user: Docker creates a
# missing VOLUME directory root-owned, and a new named volume copies the
# image directory's ownership, so nonroot could not write its state otherwise.
RUN mkdir -p /out/state

# Debian's ffmpeg with exactly the shared libraries it links (no apt, dpkg,
# shell, Mesa drivers or data files), each under its real /usr/lib folder
# (the loader searches there without a cache), the loader at its own path.
FROM debian:bookworm-slim AS ffmpeg
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ffmpeg \
 && rm -rf /var/lib/apt/lists/*
RUN set -e; mkdir -p /out/usr/bin; cp /usr/bin/ffmpeg /out/usr/bin/; \
    ldd /usr/bin/ffmpeg > /tmp/libs; \
    while read -r name arrow path rest; do \
      if [ "$arrow" = "=>" ]; then \
        dir=/out$(readlink -f "$(dirname "$path")"); mkdir -p "$dir"; cp -L "$path" "$dir/"; \
      elif [ "${name#/}" != "$name" ]; then cp --parents -L "$name" /out/; fi; \
    done < /tmp/libs; \
    chroot /out /usr/bin/ffmpeg -hide_banner -version >/dev/null

FROM gcr.io/distroless/static-debian12:nonroot AS static
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

# The default target: the last stage.
FROM static AS full
COPY --from=ffmpeg /out/ /
