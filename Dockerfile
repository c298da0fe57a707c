# The one afterlife binary, for docker-compose.yml (workers, scheduler, report server).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/afterlife ./cmd/afterlife

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /data afterlife && mkdir -p /data && chown afterlife /data
COPY --from=build /out/afterlife /usr/local/bin/afterlife
USER afterlife
ENV AFTERLIFE_DATA=/data
ENTRYPOINT ["afterlife"]
