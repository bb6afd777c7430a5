#!/usr/bin/env bash
# llmesh load benchmark: the upstream directly, llmesh, nginx and LiteLLM in front of the same upstream, one run.
#
#   Benchmarks/load/run.sh            # full run (about 4 minutes after the builds)
#   DURATION=5 Benchmarks/load/run.sh # shorter runs
#
# Installs nginx and wrk (apt-get) and LiteLLM (pip, into Benchmarks/.venv) if missing, builds llmesh in release mode
# into .build-release, and stops everything it started. Results: Benchmarks/results/latest.md and .json.
# All traffic stays on 127.0.0.1. The proxy under test is pinned to core 0; wrk and the upstream share core 1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
duration="${DURATION:-10}"
work="$(mktemp -d)"
results="$root/Benchmarks/results"
mkdir -p "$results"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 0.5
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

need_apt=()
command -v nginx >/dev/null || need_apt+=(nginx-light)
command -v wrk >/dev/null || need_apt+=(wrk)
command -v curl >/dev/null || need_apt+=(curl)
if [ ${#need_apt[@]} -gt 0 ]; then apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null; fi
venv="$root/Benchmarks/.venv"
if [ ! -x "$venv/bin/litellm" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check 'litellm[proxy]'
fi
(cd "$root" && swift build -c release --product llmesh --scratch-path .build-release --static-swift-stdlib >/dev/null 2>&1)
llmesh="$root/.build-release/release/llmesh"

wait_http() { # url
  for _ in $(seq 1 600); do
    if curl -s -o /dev/null -m 1 "$1"; then return 0; fi
    sleep 0.1
  done
  echo "not up: $1" >&2
  return 1
}
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

# --- the upstream and the reference proxy -------------------------------------------------------
sed "s|__DIR__|$work|g; s|__ASSETS__|$here|g" "$here/nginx-upstream.conf" > "$work/upstream.conf"
sed "s|__DIR__|$work|g" "$here/nginx-proxy.conf" > "$work/proxy.conf"
nginx -p "$work" -c "$work/upstream.conf" & pids+=($!)
nginx -p "$work" -c "$work/proxy.conf" & pids+=($!)
wait_http http://127.0.0.1:18000/
wait_http http://127.0.0.1:18100/

# --- llmesh: start-to-ready, five times -----------------------------------------------------------
ready_ms=()
for _ in 1 2 3 4 5; do
  start=$(date +%s%N)
  BENCH_KEY=sk-bench taskset -c 0 "$llmesh" sidecar --config "$here/llmesh.yaml" --listen 127.0.0.1:18200 --admin-listen 127.0.0.1:18290 --no-access-log >/dev/null 2>&1 &
  pid=$!
  until curl -s -o /dev/null -f http://127.0.0.1:18290/readyz; do sleep 0.002; done
  ready_ms+=($(( ($(date +%s%N) - start) / 1000000 )))
  kill $pid; wait $pid || true
done
ready_median=$(printf '%s\n' "${ready_ms[@]}" | sort -n | sed -n 3p)

BENCH_KEY=sk-bench taskset -c 0 "$llmesh" sidecar --config "$here/llmesh.yaml" --listen 127.0.0.1:18200 --admin-listen 127.0.0.1:18290 --no-access-log >/dev/null 2>"$work/llmesh.err" & llmesh_pid=$!; pids+=($llmesh_pid)
BENCH_KEY=sk-bench taskset -c 0 "$llmesh" sidecar --config "$here/llmesh.yaml" --listen 127.0.0.1:18210 --admin-listen 127.0.0.1:18291 >/dev/null 2>"$work/llmesh-log.err" & llmesh_log_pid=$!; pids+=($llmesh_log_pid)
BENCH_KEY=sk-bench taskset -c 0 "$llmesh" sidecar --config "$here/llmesh-policies.yaml" --listen 127.0.0.1:18220 --admin-listen 127.0.0.1:18292 --no-access-log >/dev/null 2>"$work/llmesh-policies.err" & pids+=($!)
wait_http http://127.0.0.1:18290/readyz
wait_http http://127.0.0.1:18291/readyz
wait_http http://127.0.0.1:18292/readyz
sleep 1
llmesh_idle_kib=$(rss_kib $llmesh_pid)

(cd "$work" && LITELLM_LOG=ERROR exec taskset -c 0 "$venv/bin/litellm" --config "$here/litellm.yaml" --host 127.0.0.1 --port 18300 --num_workers 1 >"$work/litellm.log" 2>&1) & pids+=($!)
wait_http http://127.0.0.1:18300/health/liveliness

# --- load ----------------------------------------------------------------------------------------
run() { # name url model stream connections delay_ms seconds
  local name=$1 url=$2 model=$3 stream=$4 connections=$5 pause=$6 seconds=$7
  BENCH_MODEL=$model BENCH_STREAM=$stream BENCH_DELAY_MS=$pause BENCH_OUT="$work/$name.json" \
    taskset -c 1 wrk -t1 -c"$connections" -d2s -s "$here/post.lua" "$url" >/dev/null
  BENCH_MODEL=$model BENCH_STREAM=$stream BENCH_DELAY_MS=$pause BENCH_OUT="$work/$name.json" \
    taskset -c 1 wrk -t1 -c"$connections" -d"${seconds}s" --latency -s "$here/post.lua" "$url" >/dev/null
  echo "$name $(cat "$work/$name.json")" >&2
}
path=/v1/chat/completions
for kind in json sse; do
  if [ $kind = json ]; then direct=18000; nginx_port=18100; model=bench-model; stream=false; else direct=18001; nginx_port=18101; model=bench-stream; stream=true; fi
  # Throughput: 32 connections as fast as they go.
  run "direct-$kind-max" "http://127.0.0.1:$direct$path" bench-model $stream 32 0 "$duration"
  run "nginx-$kind-max" "http://127.0.0.1:$nginx_port$path" bench-model $stream 32 0 "$duration"
  run "llmesh-$kind-max" "http://127.0.0.1:18200$path" $model $stream 32 0 "$duration"
  [ $kind = json ] && llmesh_load_kib=$(rss_kib $llmesh_pid)
  run "llmeshlog-$kind-max" "http://127.0.0.1:18210$path" $model $stream 32 0 "$duration"
  run "llmeshpol-$kind-max" "http://127.0.0.1:18220$path" $model $stream 32 0 "$duration"
  run "litellm-$kind-max" "http://127.0.0.1:18300$path" $model $stream 32 0 "$duration"
  # Latency at about 1,000 req/s: 10 connections, each pausing 10 ms between requests.
  run "direct-$kind-1k" "http://127.0.0.1:$direct$path" bench-model $stream 10 10 "$duration"
  run "nginx-$kind-1k" "http://127.0.0.1:$nginx_port$path" bench-model $stream 10 10 "$duration"
  run "llmesh-$kind-1k" "http://127.0.0.1:18200$path" $model $stream 10 10 "$duration"
  run "llmeshlog-$kind-1k" "http://127.0.0.1:18210$path" $model $stream 10 10 "$duration"
  run "llmeshpol-$kind-1k" "http://127.0.0.1:18220$path" $model $stream 10 10 "$duration"
  # LiteLLM cannot sustain 1,000 req/s here: compare it with the upstream at about 50 req/s.
  run "direct-$kind-50" "http://127.0.0.1:$direct$path" bench-model $stream 2 40 "$duration"
  run "litellm-$kind-50" "http://127.0.0.1:18300$path" $model $stream 2 40 "$duration"
  run "llmesh-$kind-50" "http://127.0.0.1:18200$path" $model $stream 2 40 "$duration"
done
llmesh_after_kib=$(rss_kib $llmesh_pid)
# Mean time spent inside each llmesh instance per request (llmesh_sidecar_overhead_seconds sum / count), in µs.
inside_us() { curl -s "http://127.0.0.1:$1/metrics" | awk '/^llmesh_sidecar_overhead_seconds_sum/ {s=$2} /^llmesh_sidecar_overhead_seconds_count/ {c=$2} END {if (c > 0) printf "%.1f", s / c * 1e6; else print "nan"}'; }
inside_plain=$(inside_us 18290); inside_policies=$(inside_us 18292)
litellm_kib=$(for p in $(pgrep -f "litellm --config"); do rss_kib $p; done | awk '{s+=$1} END {print s+0}')
nginx_worker_kib=$(for p in $(pgrep -P "$(cat "$work/proxy.pid")"); do rss_kib $p; done | awk '{s+=$1} END {print s+0}')

python3 "$here/report.py" "$work" "$results" \
  "ready_ms=$ready_median" "llmesh_idle_kib=$llmesh_idle_kib" "llmesh_load_kib=$llmesh_load_kib" \
  "llmesh_after_kib=$llmesh_after_kib" "inside_plain_us=$inside_plain" "inside_policies_us=$inside_policies" "litellm_kib=$litellm_kib" "nginx_worker_kib=$nginx_worker_kib" \
  "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" "date=$(date -u +%Y-%m-%dT%H:%MZ)"
