# syntax=docker/dockerfile:1
# deskbot: a static binary (pure-Go SQLite, CGO_ENABLED=0) in a distroless
# image that runs as nonroot. Build: docker build -t deskbot .

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, in their own layer: a change of code does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/deskbot ./cmd/deskbot \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/deskbot /usr/local/bin/deskbot
# The SQLite file lives here when DATABASE_URL is empty; mount a volume to keep it.
COPY --from=build --chown=nonroot:nonroot /out/data /data
ENV DESKBOT_ADDR=:8080 \
    DESKBOT_SQLITE_PATH=/data/deskbot.db
VOLUME /data
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/deskbot"]
CMD ["serve"]
