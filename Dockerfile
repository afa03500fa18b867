# gale container image: a static binary on distroless, running as non-root.
#   docker build -t gale .
#   docker run -p 8080:8080 -v $PWD/site:/srv:ro gale -root /srv
# SIGTERM drains in-flight requests (-shutdown-timeout, default 30s) then exits 0.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/gale ./cmd/gale

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/gale /usr/local/bin/gale
USER nonroot:nonroot
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/gale"]
