#!/usr/bin/env bash
# Start-up of the lab's Asterisk container (docker-compose.yml: entrypoint).
#
# Asterisk does not expand environment variables in its .conf files, so this script
# renders the lab's configuration into /etc/asterisk first: every *.conf beside this
# script, and the inbound dialplan ../extensions_ari_app.conf, with the secrets below
# substituted from the environment (and nothing else: other ${...} in the files are
# dialplan variables and stay as they are). Then it fetches Asterisk's English prompts
# once (the image ships none; voicemail needs them) and hands over to the image's own
# entrypoint with the command line from docker-compose.yml.
#
# Settings (environment): ASTERISK_ETC (default /etc/asterisk), ASTERISK_SOUNDS_DIR
# (default /var/lib/asterisk/sounds), LAB_FETCH_SOUNDS=no to skip the prompts,
# ASTERISK_ENTRYPOINT (default /usr/local/bin/entrypoint.sh, the image's).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
etc="${ASTERISK_ETC:-/etc/asterisk}"
sounds="${ASTERISK_SOUNDS_DIR:-/var/lib/asterisk/sounds}"
next="${ASTERISK_ENTRYPOINT:-/usr/local/bin/entrypoint.sh}"
sounds_url="https://downloads.asterisk.org/pub/telephony/sounds/releases/asterisk-core-sounds-en-ulaw-1.6.1.tar.gz"

secrets=(ARI_PASSWORD SIP_PASSWORD_100 SIP_PASSWORD_201 SIP_PASSWORD_202 SIP_PASSWORD_301 VOICEMAIL_PIN)
allowed='^[A-Za-z0-9._~+/=@%!-]+$'

problems=()
for name in "${secrets[@]}"; do
  value="${!name:-}"
  if [ -z "$value" ]; then
    problems+=("$name is not set (copy .env.example to .env and fill it in)")
  elif [[ "$value" == change-me* ]]; then
    problems+=("$name still has the example value from .env.example")
  elif [ "$name" = VOICEMAIL_PIN ] && ! [[ "$value" =~ ^[0-9]+$ ]]; then
    problems+=("$name must be digits only (it is dialled on a phone's keypad)")
  elif ! [[ "$value" =~ $allowed ]]; then
    problems+=("$name may hold only letters, digits and ._~+/=@%!- (a ';' would start a comment in Asterisk's configuration)")
  fi
done
if [ "${#problems[@]}" -gt 0 ]; then
  for problem in "${problems[@]}"; do
    echo "start-asterisk: $problem" >&2
  done
  exit 64
fi

shell_format=""
for name in "${secrets[@]}"; do
  shell_format+="\${$name} "
done

mkdir -p "$etc"
sources=("$here"/*.conf "$here/../extensions_ari_app.conf")
for src in "${sources[@]}"; do
  dest="$etc/$(basename "$src")"
  tmp="$dest.rendering"
  ( umask 027 && envsubst "$shell_format" <"$src" >"$tmp" )
  mv -f "$tmp" "$dest"
  echo "start-asterisk: wrote $dest"
done

if [ "${LAB_FETCH_SOUNDS:-yes}" != no ] && [ ! -e "$sounds/en/vm-intro.ulaw" ]; then
  echo "start-asterisk: fetching Asterisk's English prompts (once) from $sounds_url"
  mkdir -p "$sounds/en"
  if ! curl -fsSL --retry 3 "$sounds_url" | tar -xz -C "$sounds/en"; then
    echo "start-asterisk: could not fetch the prompts; voicemail will play no greetings" >&2
  fi
fi

exec "$next" "$@"
