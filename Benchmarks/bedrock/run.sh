#!/usr/bin/env bash
# llmesh Bedrock benchmark: what SigV4 re-signing and OpenAI ⇄ Converse translation cost, against the plain OpenAI
# pass-through and LiteLLM routing to Bedrock, all in front of the same static nginx upstream, in one run.
#
#   Benchmarks/bedrock/run.sh            # full run (about 6 minutes after the build)
#   DURATION=5 Benchmarks/bedrock/run.sh # shorter runs
#
# Installs nginx and wrk (apt-get) and LiteLLM with boto3 (pip, into Benchmarks/.venv) if missing, builds llmesh in
# release mode into .build-release (shared with Benchmarks/load), waits until no other build or test run is going on
# (polling every 30 s, an hour at most), and stops everything it started. Results: Benchmarks/results/bedrock-latest.md
# and .json. All traffic stays on 127.0.0.1; the credentials are placeholders (nginx checks no signature). The proxy
# under test is pinned to core 0; wrk and the upstream share core 1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
load="$root/Benchmarks/load"
duration="${DURATION:-10}"
quiet_timeout="${QUIET_TIMEOUT:-3600}"
work="$(mktemp -d)"
chmod 755 "$work" # the nginx worker (not root) reads the generated event stream from it
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
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
[ -x "$venv/bin/litellm" ] || "$venv/bin/pip" install -q --disable-pip-version-check 'litellm[proxy]'
"$venv/bin/python" -c 'import boto3' 2>/dev/null || "$venv/bin/pip" install -q --disable-pip-version-check boto3
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
# Another build or test run on the two cores would distort every figure: measure only while none is going on.
heavy() {
  ps -eo comm= | grep -Ex 'swift-build|swift-frontend|swift-driver|swift-test|clang|clang\+\+|clang-[0-9]+|ld|ld.lld|ld.gold|pytest' >/dev/null ||
    pgrep -f '(^|[ /])py\.?test( |$)|-m pytest|\.xctest( |$)' >/dev/null
}
wait_quiet() {
  local waited=0
  while heavy; do
    if [ $waited -ge "$quiet_timeout" ]; then echo "another build or test run kept going for ${quiet_timeout}s; no measurement taken" >&2; exit 1; fi
    [ $waited -eq 0 ] && echo "waiting for other builds and test runs to finish (polling every 30 s)" >&2
    sleep 30; waited=$((waited + 30))
  done
  if [ $waited -gt 0 ]; then sleep 5; fi
}

# Static credentials for the sidecar (and LiteLLM): placeholders of the real shape, a session token of ~800 characters.
export AWS_ACCESS_KEY_ID=ASIAZBENCHMARK7EXAMPLE
export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYBENCHMARKKEY
AWS_SESSION_TOKEN="IQoJb3JpZ2luX2VjE$(python3 -c 'import base64, hashlib; print(base64.b64encode(b"".join(hashlib.sha256(bytes([i])).digest() for i in range(19))).decode())')"
export AWS_SESSION_TOKEN AWS_REGION=us-east-1
unset AWS_PROFILE AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_BEARER_TOKEN_BEDROCK AWS_ENDPOINT_URL AWS_ENDPOINT_URL_BEDROCK_RUNTIME || true

# --- the upstream ---------------------------------------------------------------------------------------------------
"$venv/bin/python" "$here/make_stream.py" "$work/converse.stream" >&2
sed "s|__DIR__|$work|g; s|__ASSETS__|$here|g; s|__LOAD__|$load|g" "$here/nginx-upstream.conf" > "$work/upstream.conf"
nginx -p "$work" -c "$work/upstream.conf" & pids+=($!)
wait_http http://127.0.0.1:18500/

# --- llmesh: one instance per contender (pass-through, translated, native), so each one's time inside is its own -----
start_llmesh() { # name port admin_port
  BENCH_KEY=sk-bench taskset -c 0 "$llmesh" sidecar --config "$here/llmesh.yaml" --listen "127.0.0.1:$2" --admin-listen "127.0.0.1:$3" --no-access-log >/dev/null 2>"$work/llmesh-$1.err" &
  pids+=($!); eval "pid_$1=$!"
}
start_llmesh pass 18510 18590
start_llmesh translated 18511 18591
start_llmesh native 18512 18592
for port in 18590 18591 18592; do wait_http "http://127.0.0.1:$port/readyz"; done

# exec: the pid kept is LiteLLM's own, so that the cleanup stops it (the local cost map: no fetch from the network).
(cd "$work" && exec env LITELLM_LOG=ERROR LITELLM_LOCAL_MODEL_COST_MAP=True taskset -c 0 "$venv/bin/litellm" --config "$here/litellm.yaml" --host 127.0.0.1 --port 18530 --num_workers 1 >"$work/litellm.log" 2>&1) & pids+=($!)
wait_http http://127.0.0.1:18530/health/liveliness

# --- every contender answers 200 with the right body before anything is measured --------------------------------------
model_path="/model/anthropic.claude-3-haiku-20240307-v1%3A0"
system='You are a helpful assistant.'
question='Summarise the plot of Hamlet in three sentences, and name the three characters who matter most.'
openai_body() { # model [stream_fields]
  printf '{"model":"%s","messages":[{"role":"system","content":"%s"},{"role":"user","content":"%s"}],"temperature":0.2,"max_tokens":256%s}' "$1" "$system" "$question" "${2:-}"
}
converse_body="{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"$question\"}]}],\"system\":[{\"text\":\"$system\"}],\"inferenceConfig\":{\"maxTokens\":256,\"temperature\":0.2}}"
sigv4_headers=(-H 'X-Amz-Date: 20261122T120000Z' -H 'Authorization: AWS4-HMAC-SHA256 Credential=AKIDUNUSED/20261122/us-east-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=4b6a29d0e1e1a3e8ff2f1bb1c6e5fd8c0f6a0a85cb6dbb7c3e8d2a6a9e1f5c21')
checks="$work/checks.txt"; : > "$checks"
check() { # label kind url body [expected_file] [curl args...]
  local label=$1 kind=$2 url=$3 body=$4 expected=$5; shift 5
  local status
  status=$(curl -s -m 20 -o "$work/check.body" -D "$work/check.head" -w '%{http_code}' -H 'Content-Type: application/json' "$@" --data-binary "$body" "$url" || true)
  if "$venv/bin/python" "$here/check.py" "$kind" "$status" "$work/check.head" "$work/check.body" $expected > "$work/check.out"; then
    echo "$label: $(cat "$work/check.out")" | tee -a "$checks" >&2; return 0
  fi
  echo "$label: $(cat "$work/check.out")" | tee -a "$checks" >&2; return 1
}
bearer=(-H 'Authorization: Bearer sk-app-key')
check "upstream OpenAI JSON" openai-json http://127.0.0.1:18500/v1/chat/completions "$(openai_body bench-model)" "" "${bearer[@]}"
check "upstream Converse JSON" same-bytes "http://127.0.0.1:18500$model_path/converse" "$converse_body" "$here/converse.json" "${sigv4_headers[@]}"
check "upstream OpenAI SSE" openai-sse http://127.0.0.1:18501/v1/chat/completions "$(openai_body bench-model ',"stream":true')" "" "${bearer[@]}"
check "upstream ConverseStream" same-bytes "http://127.0.0.1:18500$model_path/converse-stream" "$converse_body" "$work/converse.stream" "${sigv4_headers[@]}"
check "llmesh OpenAI pass-through" openai-json http://127.0.0.1:18510/v1/chat/completions "$(openai_body bench-model)" "" "${bearer[@]}"
check "llmesh OpenAI → Bedrock" translated-json http://127.0.0.1:18511/v1/chat/completions "$(openai_body bench-bedrock)" "" "${bearer[@]}"
check "llmesh Bedrock native" same-bytes "http://127.0.0.1:18512$model_path/converse" "$converse_body" "$here/converse.json" "${sigv4_headers[@]}"
check "llmesh OpenAI SSE pass-through" openai-sse http://127.0.0.1:18510/v1/chat/completions "$(openai_body bench-stream ',"stream":true')" "" "${bearer[@]}"
check "llmesh OpenAI stream → ConverseStream" translated-sse http://127.0.0.1:18511/v1/chat/completions "$(openai_body bench-bedrock ',"stream":true')" "" "${bearer[@]}"
check "llmesh OpenAI stream → ConverseStream, usage asked" translated-sse http://127.0.0.1:18511/v1/chat/completions "$(openai_body bench-bedrock ',"stream":true,"stream_options":{"include_usage":true}')" "" "${bearer[@]}"
check "llmesh ConverseStream native" same-bytes "http://127.0.0.1:18512$model_path/converse-stream" "$converse_body" "$work/converse.stream" "${sigv4_headers[@]}"
litellm_json=yes; litellm_sse=yes
check "LiteLLM OpenAI → Bedrock" translated-json http://127.0.0.1:18530/v1/chat/completions "$(openai_body bench-bedrock)" "" "${bearer[@]}" || litellm_json=no
check "LiteLLM OpenAI stream → Bedrock" translated-sse http://127.0.0.1:18530/v1/chat/completions "$(openai_body bench-bedrock ',"stream":true')" "" "${bearer[@]}" || litellm_sse=no
if [ $litellm_json = no ] || [ $litellm_sse = no ]; then echo "LiteLLM log:" >&2; tail -n 40 "$work/litellm.log" >&2; fi

# --- load -----------------------------------------------------------------------------------------------------------
disturbed=()
run() { # name url body(openai|converse) model stream connections delay_ms
  local name=$1 url=$2 body=$3 model=$4 stream=$5 connections=$6 pause=$7
  for attempt in 1 2; do
    wait_quiet
    BENCH_BODY=$body BENCH_MODEL=$model BENCH_STREAM=$stream BENCH_DELAY_MS=$pause BENCH_OUT="$work/$name.json" \
      taskset -c 1 wrk -t1 -c"$connections" -d2s --timeout 10s -s "$here/post.lua" "$url" >/dev/null
    BENCH_BODY=$body BENCH_MODEL=$model BENCH_STREAM=$stream BENCH_DELAY_MS=$pause BENCH_OUT="$work/$name.json" \
      taskset -c 1 wrk -t1 -c"$connections" -d"${duration}s" --timeout 10s --latency -s "$here/post.lua" "$url" >/dev/null
    if ! heavy; then break; fi
    [ $attempt = 2 ] && disturbed+=("$name")
  done
  echo "$name $(cat "$work/$name.json")" >&2
}
# Mean time inside an llmesh instance per request since the last call (llmesh_sidecar_overhead_seconds), in µs, into
# the variable named by the second argument.
declare -A inside_sum inside_count
inside_us() { # admin_port variable
  local line sum count
  line=$(curl -s "http://127.0.0.1:$1/metrics" | awk '/^llmesh_sidecar_overhead_seconds_sum/ {s=$2} /^llmesh_sidecar_overhead_seconds_count/ {c=$2} END {print s+0, c+0}')
  sum=${line% *}; count=${line#* }
  printf -v "$2" '%s' "$(python3 -c "s, c = $sum - ${inside_sum[$1]:-0}, $count - ${inside_count[$1]:-0}; print(f'{s / c * 1e6:.1f}' if c > 0 else 'nan')")"
  inside_sum[$1]=$sum; inside_count[$1]=$count
}
for port in 18590 18591 18592; do inside_us $port inside_ignored; done

chat=/v1/chat/completions
direct_converse="http://127.0.0.1:18500$model_path/converse"
direct_stream="http://127.0.0.1:18500$model_path/converse-stream"
for shape in max 1k; do
  if [ $shape = max ]; then c=32; p=0; else c=10; p=10; fi
  run "direct-openai-$shape" "http://127.0.0.1:18500$chat" openai bench-model false $c $p
  run "direct-converse-$shape" "$direct_converse" converse - false $c $p
  run "pass-json-$shape" "http://127.0.0.1:18510$chat" openai bench-model false $c $p
  run "translated-json-$shape" "http://127.0.0.1:18511$chat" openai bench-bedrock false $c $p
  run "native-json-$shape" "http://127.0.0.1:18512$model_path/converse" converse - false $c $p
done
inside_us 18590 inside_pass_json; inside_us 18591 inside_translated_json; inside_us 18592 inside_native_json
llmesh_translated_load_kib=$(rss_kib "$pid_translated")
for shape in max 1k; do
  if [ $shape = max ]; then c=32; p=0; else c=10; p=10; fi
  run "direct-sse-$shape" "http://127.0.0.1:18501$chat" openai bench-model true $c $p
  run "direct-stream-$shape" "$direct_stream" converse - false $c $p
  run "pass-sse-$shape" "http://127.0.0.1:18510$chat" openai bench-stream true $c $p
  run "translated-sse-$shape" "http://127.0.0.1:18511$chat" openai bench-bedrock true $c $p
  run "native-stream-$shape" "http://127.0.0.1:18512$model_path/converse-stream" converse - false $c $p
done
inside_us 18590 inside_pass_sse; inside_us 18591 inside_translated_sse; inside_us 18592 inside_native_stream
# LiteLLM cannot sustain 1,000 req/s here: compare at about 50 req/s (2 connections, 40 ms pause). Its runs come last,
# so that a backlog it may still be working off cannot slow an llmesh run on the same core.
run direct-converse-50 "$direct_converse" converse - false 2 40
run translated-json-50 "http://127.0.0.1:18511$chat" openai bench-bedrock false 2 40
run direct-stream-50 "$direct_stream" converse - false 2 40
run translated-sse-50 "http://127.0.0.1:18511$chat" openai bench-bedrock true 2 40
[ $litellm_json = yes ] && run litellm-json-50 "http://127.0.0.1:18530$chat" openai bench-bedrock false 2 40
[ $litellm_sse = yes ] && run litellm-sse-50 "http://127.0.0.1:18530$chat" openai bench-bedrock true 2 40
[ $litellm_json = yes ] && run litellm-json-max "http://127.0.0.1:18530$chat" openai bench-bedrock false 32 0
[ $litellm_sse = yes ] && run litellm-sse-max "http://127.0.0.1:18530$chat" openai bench-bedrock true 32 0
llmesh_translated_end_kib=$(rss_kib "$pid_translated")
litellm_kib=$(for p in $(pgrep -f "litellm --config $here/litellm.yaml"); do rss_kib "$p"; done | awk '{s+=$1} END {print s+0}')

python3 "$here/report.py" "$work" "$results" \
  "litellm_json=$litellm_json" "litellm_sse=$litellm_sse" "litellm_version=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("litellm"))')" \
  "inside_pass_json_us=$inside_pass_json" "inside_translated_json_us=$inside_translated_json" "inside_native_json_us=$inside_native_json" \
  "inside_pass_sse_us=$inside_pass_sse" "inside_translated_sse_us=$inside_translated_sse" "inside_native_stream_us=$inside_native_stream" \
  "llmesh_translated_load_kib=$llmesh_translated_load_kib" "llmesh_translated_end_kib=$llmesh_translated_end_kib" "litellm_kib=$litellm_kib" \
  "disturbed=${disturbed[*]:-}" "duration_s=$duration" "commit=$(cd "$root" && git rev-parse --short HEAD)" \
  "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" "date=$(date -u +%Y-%m-%dT%H:%MZ)"
