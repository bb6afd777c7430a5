-- wrk script for the Bedrock benchmark. Environment:
--   BENCH_BODY      "openai" (chat completions, default) or "converse" (a Bedrock Converse body with the SigV4 headers
--                   an AWS SDK sends; the sidecar drops them and signs again)
--   BENCH_MODEL     model name in an OpenAI body (default bench-model)
--   BENCH_STREAM    "true" for a streamed OpenAI request
--   BENCH_DELAY_MS  pause per connection between requests (fixed-rate runs; 0 = as fast as possible)
--   BENCH_OUT       file to write the JSON summary to
local kind = os.getenv("BENCH_BODY") or "openai"
local model = os.getenv("BENCH_MODEL") or "bench-model"
local stream = os.getenv("BENCH_STREAM") == "true"
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
local out = os.getenv("BENCH_OUT")
local system = "You are a helpful assistant."
local question = "Summarise the plot of Hamlet in three sentences, and name the three characters who matter most."

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
if kind == "converse" then
  -- What boto3 sends to AWS_ENDPOINT_URL_BEDROCK_RUNTIME: a signature made with the app's own (placeholder) keys.
  wrk.headers["X-Amz-Date"] = "20261122T120000Z"
  wrk.headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=AKIDUNUSED/20261122/us-east-1/bedrock/aws4_request, " ..
    "SignedHeaders=content-type;host;x-amz-date, Signature=4b6a29d0e1e1a3e8ff2f1bb1c6e5fd8c0f6a0a85cb6dbb7c3e8d2a6a9e1f5c21"
  wrk.body = '{"messages":[{"role":"user","content":[{"text":"' .. question .. '"}]}],' ..
    '"system":[{"text":"' .. system .. '"}],"inferenceConfig":{"maxTokens":256,"temperature":0.2}}'
else
  wrk.headers["Authorization"] = "Bearer sk-app-key"
  wrk.body = '{"model":"' .. model .. '","messages":[{"role":"system","content":"' .. system .. '"},' ..
    '{"role":"user","content":"' .. question .. '"}],' ..
    '"temperature":0.2,"max_tokens":256' .. (stream and ',"stream":true' or '') .. '}'
end

function delay()
  return pause
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout
  local text = string.format(
    '{"requests":%d,"duration_us":%d,"rps":%.1f,"errors":%d,"non2xx":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d}',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6), errors, summary.errors.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max)
  if out then
    local file = io.open(out, "w")
    file:write(text)
    file:close()
  end
  io.write(text .. "\n")
end
