"""Turns the wrk summaries of Benchmarks/bedrock/run.sh into Markdown tables with ratios
(Benchmarks/results/bedrock-latest.md and .json).

    python report.py WORK_DIR RESULTS_DIR key=value...
"""
import json
import math
import pathlib
import sys

work, results = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
facts = dict(arg.split("=", 1) for arg in sys.argv[3:])
runs = {p.stem: json.loads(p.read_text()) for p in work.glob("*.json")}
checks_file = work / "checks.txt"
checks = checks_file.read_text().splitlines() if checks_file.exists() else []
NAN = float("nan")


def get(name, key):
    return runs.get(name, {}).get(key, NAN)


def us(value):
    return f"{value:,.0f} µs" if value == value else "n/a"


def num(value, digits=0, suffix=""):
    return f"{value:,.{digits}f}{suffix}" if value == value and not math.isinf(value) else "n/a"


def inside(key):
    value = facts.get(key, "nan")
    return f"{float(value):,.0f} µs" if value not in ("nan", "") else "n/a"


def errors(name, shapes=("max", "1k")):
    found = [get(f"{name}-{shape}", "errors") for shape in shapes if f"{name}-{shape}" in runs]
    return f"{sum(found):.0f}" if found else "n/a"


# (run name, title, upstream run it is compared with, facts key of its time inside llmesh)
TABLES = {
    "json": ("Non-streamed", [
        ("direct-openai", "upstream directly: OpenAI chat.completion", None, None),
        ("direct-converse", "upstream directly: Converse answer", None, None),
        ("pass-json", "llmesh, OpenAI → OpenAI (pass-through)", "direct-openai", "inside_pass_json_us"),
        ("translated-json", "llmesh, OpenAI → Bedrock Converse (translated + SigV4)", "direct-converse", "inside_translated_json_us"),
        ("native-json", "llmesh, Bedrock Converse native (re-signed)", "direct-converse", "inside_native_json_us"),
    ]),
    "sse": ("Streamed", [
        ("direct-sse", "upstream directly: OpenAI SSE, 20 events", None, None),
        ("direct-stream", "upstream directly: ConverseStream, 24 events", None, None),
        ("pass-sse", "llmesh, OpenAI SSE → OpenAI (pass-through)", "direct-sse", "inside_pass_sse_us"),
        ("translated-sse", "llmesh, OpenAI stream → ConverseStream (translated to SSE + SigV4)", "direct-stream", "inside_translated_sse_us"),
        ("native-stream", "llmesh, ConverseStream native (re-signed)", "direct-stream", "inside_native_stream_us"),
    ]),
}


def ratio(a, b):
    return a / b if b and b == b else NAN


def added(name, base, shape, key):
    return get(f"{name}-{shape}", key) - get(f"{base}-{shape}", key)


lines = [f"Run {facts['date']}, commit `{facts['commit']}`, {facts['duration_s']} s per run, on {facts['cpu']} "
         "(2 cores; proxy on core 0, wrk and nginx on core 1).", ""]
derived = {}
for kind, (label, rows) in TABLES.items():
    lines += [f"### {label}", "",
              "| contender | max req/s (32 conns) | req/s reached in the ~1k shape | p50 @ ~1k shape | p99 @ ~1k shape | added p50 | added p99 | time inside llmesh | errors |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, title, base, inside_key in rows:
        p50, p99 = get(f"{name}-1k", "p50_us"), get(f"{name}-1k", "p99_us")
        add = (us(added(name, base, "1k", "p50_us")), us(added(name, base, "1k", "p99_us"))) if base else ("—", "—")
        lines.append(f"| {title} | {num(get(f'{name}-max', 'rps'))} | {num(get(f'{name}-1k', 'rps'))} | {us(p50)} | {us(p99)} | {add[0]} | {add[1]} | "
                     f"{inside(inside_key) if inside_key else '—'} | {errors(name)} |")
    litellm_ok = facts.get(f"litellm_{kind}") == "yes"
    lines.append(f"| LiteLLM {facts.get('litellm_version', '')}, OpenAI → Bedrock (`bedrock/converse/…`) | "
                 f"{num(get(f'litellm-{kind}-max', 'rps')) if litellm_ok else 'failed the check'} | (not run) | (at ~50 req/s below) | | | | — | "
                 f"{errors(f'litellm-{kind}', ('max', '50')) if litellm_ok else 'n/a'} |")
    lines.append("")
    base = "direct-converse" if kind == "json" else "direct-stream"
    lines += [f"At ~50 req/s ({label.lower()}, 2 connections pausing 40 ms):", "",
              "| contender | req/s reached | p50 | p99 | added p50 | added p99 |", "|---|---:|---:|---:|---:|---:|",
              f"| upstream directly | {num(get(f'{base}-50', 'rps'))} | {us(get(f'{base}-50', 'p50_us'))} | {us(get(f'{base}-50', 'p99_us'))} | — | — |"]
    for name, title in ((f"translated-{kind}", "llmesh, translated + SigV4"), (f"litellm-{kind}", "LiteLLM")):
        if f"{name}-50" not in runs:
            lines.append(f"| {title} | not measured | | | | |")
            continue
        lines.append(f"| {title} | {num(get(f'{name}-50', 'rps'))} | {us(get(f'{name}-50', 'p50_us'))} | {us(get(f'{name}-50', 'p99_us'))} | "
                     f"{us(get(f'{name}-50', 'p50_us') - get(f'{base}-50', 'p50_us'))} | {us(get(f'{name}-50', 'p99_us') - get(f'{base}-50', 'p99_us'))} |")
    lines.append("")
    translated, passthrough, native = f"translated-{kind}", ("pass-json" if kind == "json" else "pass-sse"), ("native-json" if kind == "json" else "native-stream")
    direct_pass = "direct-openai" if kind == "json" else "direct-sse"
    litellm_added = get(f"litellm-{kind}-50", "p50_us") - get(f"{base}-50", "p50_us")
    llmesh_added = get(f"{translated}-50", "p50_us") - get(f"{base}-50", "p50_us")
    derived[kind] = {
        "translated_over_pass_rps": ratio(get(f"{translated}-max", "rps"), get(f"{passthrough}-max", "rps")),
        "native_over_pass_rps": ratio(get(f"{native}-max", "rps"), get(f"{passthrough}-max", "rps")),
        "translation_cost_added_p50_us": added(translated, base, "1k", "p50_us") - added(passthrough, direct_pass, "1k", "p50_us"),
        "translation_cost_added_p99_us": added(translated, base, "1k", "p99_us") - added(passthrough, direct_pass, "1k", "p99_us"),
        "translation_cost_inside_us": float(facts.get(f"inside_translated_{kind}_us", "nan")) - float(facts.get(f"inside_pass_{kind}_us", "nan")),
        "translated_over_litellm_rps": ratio(get(f"{translated}-max", "rps"), get(f"litellm-{kind}-max", "rps")),
        "litellm_added_over_llmesh_added_p50_at_50": ratio(litellm_added, llmesh_added) if llmesh_added > 0 else NAN,
    }

j, s = derived["json"], derived["sse"]
lines += ["### Ratios", "", "| ratio | non-streamed | streamed |", "|---|---:|---:|",
          f"| max req/s, translated + signed / pass-through | {num(j['translated_over_pass_rps'], 2, '×')} | {num(s['translated_over_pass_rps'], 2, '×')} |",
          f"| max req/s, native re-signed / pass-through | {num(j['native_over_pass_rps'], 2, '×')} | {num(s['native_over_pass_rps'], 2, '×')} |",
          f"| added p50 @ ~1k req/s, translated + signed − pass-through | {us(j['translation_cost_added_p50_us'])} | {us(s['translation_cost_added_p50_us'])} |",
          f"| added p99 @ ~1k req/s, translated + signed − pass-through | {us(j['translation_cost_added_p99_us'])} | {us(s['translation_cost_added_p99_us'])} |",
          f"| time inside llmesh, translated + signed − pass-through | {us(j['translation_cost_inside_us'])} | {us(s['translation_cost_inside_us'])} |",
          f"| max req/s, llmesh translated / LiteLLM to Bedrock | {num(j['translated_over_litellm_rps'], 0, '×')} | {num(s['translated_over_litellm_rps'], 0, '×')} |",
          f"| added p50 @ ~50 req/s, LiteLLM / llmesh translated | {num(j['litellm_added_over_llmesh_added_p50_at_50'], 0, '×')} | {num(s['litellm_added_over_llmesh_added_p50_at_50'], 0, '×')} |",
          ""]
lines += ["### Memory", "", "| measure | value |", "|---|---:|",
          f"| llmesh (translating instance) RSS after the non-streamed runs / at the end | "
          f"{int(facts['llmesh_translated_load_kib']) / 1024:.1f} / {int(facts['llmesh_translated_end_kib']) / 1024:.1f} MiB |",
          f"| LiteLLM RSS at the end (all processes) | {int(facts['litellm_kib']) / 1024:.1f} MiB |", ""]
lines += ["### Checks before measuring (curl, each contender)", ""] + [f"- {line}" for line in checks] + [""]
if facts.get("disturbed"):
    lines += [f"Runs during which another build or test run started (measured twice, both disturbed): {facts['disturbed']}.", ""]
text = "\n".join(lines)
(results / "bedrock-latest.md").write_text(text + "\n")
(results / "bedrock-latest.json").write_text(json.dumps({"facts": facts, "runs": runs, "derived": derived, "checks": checks},
                                                        indent=1, sort_keys=True) + "\n")
print(text)
