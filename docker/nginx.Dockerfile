# circuit-breaker-gateway:latest - Nginx in front of frontier, port 8001, configs/nginx.conf.
# Build from the repository root: docker build -f docker/nginx.Dockerfile .
# Same seeded slim base as the services; nothing is pulled.

FROM debian:bookworm-slim

ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
    && apt-get install -y --no-install-recommends nginx-light \
    && rm -rf /var/lib/apt/lists/* \
    && rm -f /etc/nginx/sites-enabled/default

# The config sends the access log to stdout and errors to stderr (docker logs).
# No `nginx -t` here: it would resolve `frontier`, which exists only inside the Compose network.
COPY configs/nginx.conf /etc/nginx/nginx.conf

# No root: port 8001 needs no privilege; Nginx ignores `user` and its workers run as
# www-data too. It writes only to /run, /var/lib/nginx and /var/log/nginx (tmpfs in Compose,
# emptyDir volumes in Kubernetes), so the root filesystem can be read-only.
USER www-data
EXPOSE 8001
# Nginx's own endpoint, so the gateway's health does not hang on frontier. No curl here: bash.
HEALTHCHECK --interval=3s --timeout=3s --start-period=5s --retries=5 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8001 && printf 'GET /_gateway/healthz HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
