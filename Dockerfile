# relgate: `docker build -t relgate .`, then for example
#   docker run -p 8080:8080 -v relgate-data:/var/lib/relgate \
#     -e RELGATE_WEBHOOK_SECRET -e GITHUB_TOKEN relgate \
#     serve --addr 0.0.0.0:8080 --data-dir /var/lib/relgate \
#       --repo https://github.com/OWNER/NAME.git --branch main
# A GitHub App instead of a token: mount the key and pass --github-app-id,
# --github-app-key-file and --github-installation-id (or GITHUB_APP_*).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# timetzdata embeds the zone database: the policy's timezone (Asia/Shanghai
# by default) loads without tzdata in the image.
RUN CGO_ENABLED=0 go build -trimpath -tags timetzdata -ldflags="-s -w" -o /out/relgate ./controller/cmd/relgate

FROM debian:bookworm-slim
# git: go-git fetches from a local path through git-upload-pack; https
# remotes need only the CA certificates.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates git \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/relgate --create-home relgate
COPY --from=build /out/relgate /usr/local/bin/relgate
USER 10001
WORKDIR /var/lib/relgate
VOLUME /var/lib/relgate
EXPOSE 8080
# Probes: GET /healthz (alive) and GET /readyz (mirror fetched, not stopping).
STOPSIGNAL SIGTERM
ENTRYPOINT ["relgate"]
CMD ["serve", "--help"]
