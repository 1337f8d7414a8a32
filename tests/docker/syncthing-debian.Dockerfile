# A stand-in for the official syncthing/syncthing image, built from Debian's
# own syncthing package (no image registry is needed, only the Debian mirror
# that the base image's apt sources name). It keeps what packaging/compose.yaml
# relies on in the official image:
#   - the home at /var/syncthing/config (STHOMEDIR), HOME=/var/syncthing,
#     one volume /var/syncthing;
#   - Syncthing runs as PUID:PGID (default 1000:1000), the entrypoint starts
#     as root, chowns HOME and drops privileges (su-exec there, setpriv here);
#   - the GUI/API on 0.0.0.0:8384 (STGUIADDRESS), sync on 22000, local
#     discovery on 21027/udp, and the same HEALTHCHECK on /rest/noauth/health.
# Used by tests/docker_compose_test.sh: SYNCTHING_IMAGE=<this image>.
#
#   docker build -f tests/docker/syncthing-debian.Dockerfile -t indafoto-test/syncthing-debian tests/docker
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends syncthing curl ca-certificates \
 && rm -rf /var/lib/apt/lists/*
EXPOSE 8384 22000/tcp 22000/udp 21027/udp
VOLUME ["/var/syncthing"]
ENV PUID=1000 PGID=1000 HOME=/var/syncthing
HEALTHCHECK --interval=1m --timeout=10s \
  CMD curl -fkLsS -m 2 127.0.0.1:8384/rest/noauth/health | grep -o --color=never OK || exit 1
ENV STGUIADDRESS=0.0.0.0:8384
ENV STHOMEDIR=/var/syncthing/config
COPY syncthing-entrypoint.sh /bin/entrypoint.sh
RUN chmod 755 /bin/entrypoint.sh
ENTRYPOINT ["/bin/entrypoint.sh", "/usr/bin/syncthing"]
