-- wrk script: POST a realistic chat-completions body. Environment:
--   BENCH_MODEL   model name to send (default bench-model)
--   BENCH_STREAM  "true" for a streamed request
--   BENCH_DELAY_MS  pause per connection between requests (fixed-rate runs; 0 = as fast as possible)
--   BENCH_OUT     file to write the JSON summary to
local model = os.getenv("BENCH_MODEL") or "bench-model"
local stream = os.getenv("BENCH_STREAM") == "true"
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
local out = os.getenv("BENCH_OUT")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-app-key"
wrk.body = '{"model":"' .. model .. '","messages":[{"role":"system","content":"You are a helpful assistant."},' ..
  '{"role":"user","content":"Summarise the plot of Hamlet in three sentences, and name the three characters who matter most."}],' ..
  '"temperature":0.2,"max_tokens":256' .. (stream and ',"stream":true' or '') .. '}'

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
