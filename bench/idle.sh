#!/usr/bin/env bash
# Startup time and idle memory of the release server on an already-migrated SQLite database.
#   bench/idle.sh            (builds the release binary first)
# Prints: time from process start to /ready answering 200 (median of RUNS), and the resident
# memory (VmRSS) after the server has sat idle for IDLE_SECONDS having served a few requests.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
IDLE_SECONDS=${IDLE_SECONDS:-3}
PORT=${PORT:-18080}

cargo build --release --quiet
bin=target/release/socialgate
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export DATABASE_URL="sqlite://$work/socialgate.db" SOCIALGATE_DATA_DIR="$work" SOCIALGATE_LISTEN="127.0.0.1:$PORT" RUST_LOG=warn
"$bin" migrate >/dev/null

now_ns() { date +%s%N; }
startups=()
for _ in $(seq 1 "$RUNS"); do
  start=$(now_ns)
  "$bin" serve >/dev/null 2>&1 &
  pid=$!
  until curl -fs -o /dev/null "http://127.0.0.1:$PORT/ready"; do sleep 0.005; done
  end=$(now_ns)
  startups+=($(( (end - start) / 1000000 )))
  for _ in 1 2 3; do curl -fs -o /dev/null "http://127.0.0.1:$PORT/signin"; curl -fs -o /dev/null "http://127.0.0.1:$PORT/health"; done
  sleep "$IDLE_SECONDS"
  rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
done
sorted=$(printf '%s\n' "${startups[@]}" | sort -n)
median=$(echo "$sorted" | sed -n "$(( (RUNS + 1) / 2 ))p")
echo "startup to /ready 200: median ${median} ms over ${RUNS} runs (all: $(echo $sorted | tr '\n' ' '))"
echo "idle resident memory (last run): $(( rss_kb / 1024 )) MiB (${rss_kb} kB)"
