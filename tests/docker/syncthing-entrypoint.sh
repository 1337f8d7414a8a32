#!/bin/sh
# Entrypoint of the Syncthing stand-in image (see syncthing-debian.Dockerfile),
# after the official image's: as root, chown HOME and drop to PUID:PGID.
# Debian 12's Syncthing (1.19) does not read $STHOMEDIR (2.x does), so the
# home is also given as --home, a flag that 1.19, 1.29 and 2.x all accept.
set -eu
[ -n "${UMASK:-}" ] && umask "$UMASK"
binary=$1
shift
if [ "$#" -eq 0 ]; then
  set -- serve --home="$STHOMEDIR" --no-browser
fi
if [ "$(id -u)" = 0 ]; then
  chown "${PUID}:${PGID}" "${HOME}" || true
  exec setpriv --reuid="$PUID" --regid="$PGID" --clear-groups env HOME="$HOME" "$binary" "$@"
fi
exec "$binary" "$@"
