# Sourced by the scripts that fetch Debian packages or roots (debootstrap
# of a Debian 12 root, base images for Docker, Debian 13's Syncthing and
# Compose). The project names no mirror: it uses the one this machine's apt
# already uses, so a local mirror or a caching proxy works unchanged.
#
#   source scripts/debian-mirror.sh
#   MIRROR=$(debian_mirror) || exit 1     # e.g. for debootstrap ... bookworm DIR "$MIRROR"
#
# $INDAFOTO_DEBIAN_MIRROR, when set, is used as it is. Otherwise the first
# enabled `deb` source for the suite bookworm (Debian 12) in
# /etc/apt/sources.list.d/*.sources (deb822) or /etc/apt/sources.list and
# /etc/apt/sources.list.d/*.list (one-line format). Debian 13 (trixie) is
# fetched from the same mirror. $INDAFOTO_APT_SOURCES_DIR (default /etc/apt)
# lets the tests point the lookup elsewhere.

# debian_mirror [SUITE]: prints the mirror's URI (no trailing slash).
debian_mirror() {
  local suite=${1:-bookworm} dir=${INDAFOTO_APT_SOURCES_DIR:-/etc/apt} uri=""
  if [ -n "${INDAFOTO_DEBIAN_MIRROR:-}" ]; then
    echo "${INDAFOTO_DEBIAN_MIRROR%/}"
    return 0
  fi
  local f
  for f in "$dir"/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # One deb822 stanza per paragraph; fields may be continued on lines that
    # start with a space. Comments (#) are dropped.
    uri=$(awk -v suite="$suite" '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && enabled != "no" && uris != "") {
          split(uris, u, " "); print u[1]; found = 1; exit
        }
        types = suites = uris = ""; enabled = "yes"; field = ""
      }
      BEGIN { enabled = "yes" }
      /^#/ { next }
      /^[ \t]*$/ { flush(); next }
      /^[ \t]/ { sub(/^[ \t]+/, ""); val = $0
                 if (field == "types") types = types " " val
                 else if (field == "suites") suites = suites " " val
                 else if (field == "uris") uris = uris " " val
                 next }
      { field = tolower($0); sub(/:.*/, "", field); val = $0; sub(/^[^:]*:[ \t]*/, "", val)
        if (field == "types") types = val
        else if (field == "suites") suites = val
        else if (field == "uris") uris = val
        else if (field == "enabled") enabled = tolower(val) }
      END { if (!found) flush() }
    ' "$f")
    [ -n "$uri" ] && break
  done
  if [ -z "$uri" ]; then
    for f in "$dir/sources.list" "$dir"/sources.list.d/*.list; do
      [ -f "$f" ] || continue
      # deb [options] URI SUITE COMPONENT...
      uri=$(awk -v suite="$suite" '
        $1 != "deb" { next }
        { i = 2
          if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
          if ($(i + 1) == suite) { print $i; exit } }
      ' "$f")
      [ -n "$uri" ] && break
    done
  fi
  if [ -z "$uri" ]; then
    echo "no Debian mirror for the suite $suite in $dir/sources.list.d/*.sources or $dir/sources.list;" \
      "set INDAFOTO_DEBIAN_MIRROR to a Debian mirror's URI" >&2
    return 1
  fi
  echo "${uri%/}"
}
