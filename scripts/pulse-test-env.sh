#!/usr/bin/env bash
# A private PulseAudio server for tests and demos: no sound card needed, works as root (CI).
#
#   eval "$(scripts/pulse-test-env.sh start [DIR])"   # prints `export PULSE_SERVER=...`
#   paplay --device=assist_call call_side.wav          # what the customer says (call playback)
#   paplay --device=assist_rep_line rep_side.wav       # what the rep says into the "microphone"
#   scripts/pulse-test-env.sh stop [DIR]
#
# Devices: null sink `assist_call` is the default output, so its monitor `assist_call.monitor`
# is the call's playback that `assist live` finds by itself; `assist_mic` (a remap of the null
# sink `assist_rep_line`'s monitor, so it is not itself a monitor) is the default input.
# The server lives in DIR (default /tmp/assist-pulse-$UID) and only listens on DIR/native.
# It runs until stopped, or with IDLE_EXIT=N until it has had no client for N seconds (tests
# use that, so a killed test run leaves nothing behind). `start` again is cheap and restarts it.
set -euo pipefail
cmd=${1:-start}
dir=${2:-/tmp/assist-pulse-$(id -u)}
socket="$dir/native"

case "$cmd" in
start)
    mkdir -p "$dir" && chmod 700 "$dir"
    export PULSE_SERVER="unix:$socket"
    if ! pactl info >/dev/null 2>&1; then
        # HOME/XDG_RUNTIME_DIR point into DIR: root has no session, and nothing leaks into ~.
        HOME="$dir" XDG_RUNTIME_DIR="$dir" pulseaudio --daemonize=yes -n \
            --exit-idle-time="${IDLE_EXIT:--1}" --use-pid-file=yes \
            --log-target="file:$dir/pulse.log" \
            --load="module-native-protocol-unix socket=$socket auth-anonymous=1" \
            --load="module-null-sink sink_name=assist_call sink_properties=device.description=Call" \
            --load="module-null-sink sink_name=assist_rep_line sink_properties=device.description=RepLine" \
            --load="module-remap-source master=assist_rep_line.monitor source_name=assist_mic source_properties=device.description=Headset" \
            2>>"$dir/pulse.log"
        for _ in $(seq 50); do pactl info >/dev/null 2>&1 && break; sleep 0.1; done
        pactl info >/dev/null 2>&1 || { echo "pulseaudio did not start; see $dir/pulse.log" >&2; exit 1; }
    fi
    pactl set-default-sink assist_call
    pactl set-default-source assist_mic
    echo "export PULSE_SERVER=unix:$socket"
    ;;
stop)
    PULSE_SERVER="unix:$socket" HOME="$dir" XDG_RUNTIME_DIR="$dir" pulseaudio --kill 2>/dev/null \
        || { [ -f "$dir/pulse/pid" ] && kill "$(cat "$dir/pulse/pid")" 2>/dev/null; } || true
    ;;
*)
    echo "usage: $0 start|stop [DIR]" >&2; exit 2 ;;
esac
