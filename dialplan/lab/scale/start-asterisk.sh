#!/usr/bin/env bash
# Start-up of an Asterisk of the scale lab (docker-compose.scale.yml: entrypoint).
#
# First the lab's own start script (../start-asterisk.sh) renders the lab's configuration
# into /etc/asterisk and fetches the prompts; it then runs this script again with
# --overlay, which renders the scale lab's files beside this script over it (ari.conf with
# the outbound WebSocket, websocket_client.conf, asterisk.conf with the system name,
# http.conf on the compose network), substituting only the variables below, and hands
# over to the image's entrypoint with the command line from the compose file.
#
# Environment: the lab's secrets, plus ARI_OUTBOUND_PASSWORD (what Asterisk sends to the
# workers) and ASTERISK_SYSTEM_NAME (ast1, ast2: prefixes every channel id).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
etc="${ASTERISK_ETC:-/etc/asterisk}"
next="${SCALE_LAB_ENTRYPOINT:-${ASTERISK_ENTRYPOINT:-/usr/local/bin/entrypoint.sh}}"
overlay=(ARI_PASSWORD ARI_OUTBOUND_PASSWORD ASTERISK_SYSTEM_NAME)
allowed='^[A-Za-z0-9._~+/=@%!-]+$'

if [ "${1:-}" != --overlay ]; then
  problems=()
  for name in ARI_OUTBOUND_PASSWORD ASTERISK_SYSTEM_NAME; do
    value="${!name:-}"
    if [ -z "$value" ]; then
      problems+=("$name is not set (see .env.example and docker-compose.scale.yml)")
    elif [[ "$value" == change-me* ]]; then
      problems+=("$name still has the example value from .env.example")
    elif ! [[ "$value" =~ $allowed ]]; then
      problems+=("$name may hold only letters, digits and ._~+/=@%!-")
    fi
  done
  if [ "${#problems[@]}" -gt 0 ]; then
    for problem in "${problems[@]}"; do
      echo "start-asterisk (scale): $problem" >&2
    done
    exit 64
  fi
  # The lab's script renders its files, then execs us again with --overlay.
  # (The image's entrypoint is kept for the overlay step in SCALE_LAB_ENTRYPOINT.)
  SCALE_LAB_ENTRYPOINT="$next" ASTERISK_ENTRYPOINT="$here/start-asterisk.sh" \
    exec "$here/../start-asterisk.sh" --overlay "$@"
fi
shift

shell_format=""
for name in "${overlay[@]}"; do
  shell_format+="\${$name} "
done
for src in "$here"/*.conf; do
  dest="$etc/$(basename "$src")"
  tmp="$dest.rendering"
  ( umask 027 && envsubst "$shell_format" <"$src" >"$tmp" )
  mv -f "$tmp" "$dest"
  echo "start-asterisk (scale): wrote $dest"
done

exec "$next" "$@"
