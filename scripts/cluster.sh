#!/usr/bin/env bash
# A forecasting cluster on this machine: PostgreSQL, three silo processes, and a client that deploys a model,
# streams observations as observe-and-forecast calls and prints throughput, latency, memory and a bit-for-bit check
# against a single-process engine.
#
#   scripts/cluster.sh [--series N] [--days D] [--seconds S] [--workers W] [--verify K] [--kill-every SECONDS] [--groups G]
#   scripts/cluster.sh --train-shards S [--series N] [--days D]
#
# --train-shards S trains the N × D panel as S shards across the three silos instead of streaming (see the sample's
# train-shards command) and prints each shard's time, silo, peak memory and MASE.
# --extra E generates E days after D to stream (a run stops after E laps of the panel).
# --groups G keeps the series in G group grains and streams each group's day as one call (see the load command).
# The model is trained once per N × D and kept in $MLNETRNN_CLUSTER_DIR/models between runs.
#
# --kill-every kills silo 1 or 2 (in turn) with kill -9 every SECONDS and starts it again; the check at the end then
# shows whether any acknowledged observation was lost. Silo 0 is the primary of the development membership and is
# never killed. Logs and the model store are in $MLNETRNN_CLUSTER_DIR (default /tmp/mlnetrnn-cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
SERIES=2000; DAYS=120; SECONDS_=30; WORKERS=64; VERIFY=200; KILL=0; NGROUPS=0; SHARDS=0; EXTRA=64
while [ $# -gt 0 ]; do
  case "$1" in
    --series) SERIES="$2"; shift 2 ;;
    --days) DAYS="$2"; shift 2 ;;
    --seconds) SECONDS_="$2"; shift 2 ;;
    --workers) WORKERS="$2"; shift 2 ;;
    --verify) VERIFY="$2"; shift 2 ;;
    --kill-every) KILL="$2"; shift 2 ;;
    --groups) NGROUPS="$2"; shift 2 ;;
    --train-shards) SHARDS="$2"; shift 2 ;;
    --extra) EXTRA="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
DIR="${MLNETRNN_CLUSTER_DIR:-/tmp/mlnetrnn-cluster}"
mkdir -p "$DIR"
CONN="$(bash scripts/postgres.sh start)"
# A fresh run: the previous run's series state would otherwise continue.
psql "postgresql://postgres@127.0.0.1:${MLNETRNN_PG_PORT:-55432}/mlnetrnn" -qc "DROP TABLE IF EXISTS mlnetrnn_grain_state" >/dev/null

dotnet build samples/MLNetRnn.OrleansCluster -c Release -v q -nologo >/dev/null
APP="dotnet samples/MLNetRnn.OrleansCluster/bin/Release/net10.0/MLNetRnn.OrleansCluster.dll"
if [ "$SHARDS" -eq 0 ] && [ "$(cat "$DIR/models/trained-on" 2>/dev/null)" != "${SERIES}x${DAYS}" ]; then
  rm -rf "$DIR/models"
  $APP train --store "$DIR/models" --series "$SERIES" --days "$DAYS"
  echo "${SERIES}x${DAYS}" >"$DIR/models/trained-on"
fi

# Each silo's process id is in $DIR/silo<i>.pid (a restarted silo rewrites it): the script stops only what it started.
start_silo() { $APP silo --index "$1" --store "$DIR/models" --postgres "$CONN" >>"$DIR/silo$1.log" 2>&1 & echo $! >"$DIR/silo$1.pid"; }
cleanup() {
  [ -n "${KILLER:-}" ] && kill "$KILLER" 2>/dev/null || true
  for i in 0 1 2; do [ -f "$DIR/silo$i.pid" ] && kill "$(cat "$DIR/silo$i.pid")" 2>/dev/null || true; done
}
trap cleanup EXIT
rm -f "$DIR"/silo?.log
start_silo 0; sleep 5; start_silo 1; start_silo 2
for i in 0 1 2; do
  until grep -q "up" "$DIR/silo$i.log" 2>/dev/null; do sleep 1; done
done
echo "silos up: $(cat "$DIR"/silo?.pid | tr '\n' ' ')"

if [ "$KILL" -gt 0 ]; then
  (
    victim=1
    while true; do
      sleep "$KILL"
      pid="$(cat "$DIR/silo$victim.pid")"
      kill -9 "$pid" 2>/dev/null && echo "$(date +%T) killed silo $victim (pid $pid)"
      start_silo "$victim"
      victim=$((3 - victim))
    done
  ) & KILLER=$!
fi

if [ "$SHARDS" -gt 0 ]; then
  mkdir -p "$DIR/models"
  $APP train-shards --store "$DIR/models" --series "$SERIES" --days "$DAYS" --shards "$SHARDS"
else
  /usr/bin/time -v $APP load --store "$DIR/models" --series "$SERIES" --days "$DAYS" --seconds "$SECONDS_" --workers "$WORKERS" --verify "$VERIFY" --groups "$NGROUPS" --extra "$EXTRA" 2>"$DIR/client.time"
fi
for i in 0 1 2; do
  echo "silo $i resident memory: $(ps -o rss= -p "$(cat "$DIR/silo$i.pid")" | tr -d ' ') kB"
done
