#!/bin/sh
# Runs "$@" in a login session of its own when this one's leader is outside this PID namespace.
# There /proc reads the session id as 0 (a CI container, `unshare -p`), and the unlock agent,
# which serves only the terminal session that unlocked (electron/cli/agent-peer.ts), rightly
# declines everything; its tests need a session as a terminal has one. Elsewhere "$@" runs as is.
sid=$(awk '{ print $6 }' /proc/self/stat 2>/dev/null || echo unknown)
if [ "$sid" = 0 ] && command -v setsid >/dev/null 2>&1; then
  exec setsid -w "$@"
fi
exec "$@"
