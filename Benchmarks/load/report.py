"""Turns the wrk summaries of run.sh into a Markdown table with ratios (Benchmarks/results/latest.md and .json)."""
import json
import pathlib
import sys

work, results = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
facts = dict(arg.split("=", 1) for arg in sys.argv[3:])
runs = {p.stem: json.loads(p.read_text()) for p in work.glob("*.json")}


def get(name, key):
    return runs.get(name, {}).get(key, float("nan"))


def us(value):
    return f"{value:,.0f} µs" if value == value else "n/a"


lines = [f"Run {facts['date']} on {facts['cpu']} (2 cores; proxy on core 0, wrk and upstream on core 1).", ""]
for kind, label in (("json", "non-streamed"), ("sse", "streamed (20 SSE events)")):
    lines += [f"### {label}", "",
              "| target | max req/s (32 conns) | p50 @ ~1k req/s | p99 @ ~1k req/s | added p50 | added p99 | errors |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for name, title in (("direct", "upstream directly"), ("nginx", "nginx proxy"), ("llmesh", "llmesh"), ("llmeshlog", "llmesh + access log"), ("llmeshpol", "llmesh + policies")):
        p50, p99 = get(f"{name}-{kind}-1k", "p50_us"), get(f"{name}-{kind}-1k", "p99_us")
        base50, base99 = get(f"direct-{kind}-1k", "p50_us"), get(f"direct-{kind}-1k", "p99_us")
        added = (us(p50 - base50), us(p99 - base99)) if name != "direct" else ("—", "—")
        errors = get(f"{name}-{kind}-max", "errors") + get(f"{name}-{kind}-1k", "errors")
        lines.append(f"| {title} | {get(f'{name}-{kind}-max', 'rps'):,.0f} | {us(p50)} | {us(p99)} | {added[0]} | {added[1]} | {errors:.0f} |")
    lines.append(f"| LiteLLM | {get(f'litellm-{kind}-max', 'rps'):,.0f} | (see below) | | | | {get(f'litellm-{kind}-max', 'errors') + get(f'litellm-{kind}-50', 'errors'):.0f} |")
    lines += ["", f"At ~50 req/s ({label}): upstream p50 {us(get(f'direct-{kind}-50', 'p50_us'))} / p99 {us(get(f'direct-{kind}-50', 'p99_us'))}; "
              f"llmesh adds p50 {us(get(f'llmesh-{kind}-50', 'p50_us') - get(f'direct-{kind}-50', 'p50_us'))} / p99 {us(get(f'llmesh-{kind}-50', 'p99_us') - get(f'direct-{kind}-50', 'p99_us'))}; "
              f"LiteLLM adds p50 {us(get(f'litellm-{kind}-50', 'p50_us') - get(f'direct-{kind}-50', 'p50_us'))} / p99 {us(get(f'litellm-{kind}-50', 'p99_us') - get(f'direct-{kind}-50', 'p99_us'))}.", ""]
    ratio_nginx = get(f"llmesh-{kind}-max", "rps") / get(f"nginx-{kind}-max", "rps")
    ratio_litellm = get(f"llmesh-{kind}-max", "rps") / get(f"litellm-{kind}-max", "rps")
    lines += [f"Throughput ratios ({label}): llmesh / nginx = **{ratio_nginx:.2f}×**, llmesh / LiteLLM = **{ratio_litellm:.1f}×**.", ""]

lines += ["### Memory and start-up", "",
          "| measure | value |", "|---|---:|",
          f"| llmesh RSS idle (after start) | {int(facts['llmesh_idle_kib']) / 1024:.1f} MiB |",
          f"| llmesh RSS right after the non-streamed max-throughput run | {int(facts['llmesh_load_kib']) / 1024:.1f} MiB |",
          f"| llmesh RSS at the end | {int(facts['llmesh_after_kib']) / 1024:.1f} MiB |",
          f"| nginx proxy worker RSS at the end | {int(facts['nginx_worker_kib']) / 1024:.1f} MiB |",
          f"| LiteLLM RSS at the end (all processes) | {int(facts['litellm_kib']) / 1024:.1f} MiB |",
          f"| llmesh start to `/readyz` 200 (median of 5) | {facts['ready_ms']} ms |",
          f"| mean time inside llmesh per request, policies off / on (`llmesh_sidecar_overhead_seconds`) | {facts.get('inside_plain_us', 'n/a')} µs / {facts.get('inside_policies_us', 'n/a')} µs |", ""]
text = "\n".join(lines)
(results / "latest.md").write_text(text + "\n")
(results / "latest.json").write_text(json.dumps({"facts": facts, "runs": runs}, indent=1, sort_keys=True) + "\n")
print(text)
