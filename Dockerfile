# gale container image: a static binary on distroless, running as non-root.
#   docker build --build-arg VERSION=$(git describe --tags --always) -t gale .
#   docker run -p 8080:8080 -v $PWD/site:/srv:ro gale -root /srv
# The admin listener (GALE_ADMIN below) serves /metrics, /healthz, /readyz;
# HEALTHCHECK runs `gale healthcheck` against it (the image has no curl).
# SIGTERM (docker stop) drains: gale stops accepting new work, finishes
# in-flight requests within -shutdown-timeout (default 30s) and exits 0;
# give `docker stop -t` at least that long. cmd/gale/dockerfile_test.go
# builds the binary with the RUN go build line below, exactly.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
# go.mod replaces gnet with the patched copy in internal/gnet (see its GALE.md):
# the module graph needs it before the download.
COPY internal/gnet/ internal/gnet/
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/gale ./cmd/gale

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/gale /usr/local/bin/gale
USER nonroot:nonroot
ENV GALE_ADMIN=0.0.0.0:9145
EXPOSE 8080 9145
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 CMD ["/usr/local/bin/gale", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/gale"]
