"""Schema translation by the real sidecar, driven by the official SDKs configured only by environment variables.

openai SDK → Bedrock Converse and → Anthropic Messages; anthropic SDK → Bedrock Converse and → an OpenAI-compatible
upstream; streamed and not, with tool calls, usage, untranslatable requests and upstream errors in the caller's dialect.
The Bedrock provider signs with static keys from the sidecar's environment (the fake verifies the signature).
"""
import json

import anthropic
import openai
import pytest

from bedrock_support import new_log_entries
from conftest import ANTHROPIC_APP_KEY, APP_AWS_KEY, HAIKU, OPENAI_APP_KEY, SIDECAR_AWS_KEY, aws_sidecar
from fake_bedrock import CACHE_READ_TOKENS, DEFAULT_TEXT, INPUT_TOKENS, Reply
from fake_chat_upstream import CACHED_TOKENS, PROMPT_TOKENS, ChatReply, ChatUpstream

COMPAT_KEY = "sk-upstream-compatible"
WEATHER_TOOL_OPENAI = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
WEATHER_TOOL_ANTHROPIC = {"name": "get_weather", "description": "Current weather in a city",
                          "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
PARIS = {"city": "Paris"}
ASK = [{"role": "user", "content": "Say hello"}]


def translation_config(bedrock, fake, compat):
    return f"""
apiVersion: llmesh.io/v1alpha1
kind: LLMProvider
metadata: {{name: bedrock}}
spec:
  type: Bedrock
  endpoint: {bedrock.base_url}
  auth: {{aws: {{region: us-east-1}}}}
  timeouts: {{connect: 2s, request: 30s, streamIdle: 10s}}
  models: [{{name: "{HAIKU}", pricing: {{inputPerMillion: 0.25, outputPerMillion: 1.25}}}}]
---
apiVersion: llmesh.io/v1alpha1
kind: LLMProvider
metadata: {{name: fake-anthropic}}
spec:
  type: Anthropic
  endpoint: {fake.base_url}
  auth: {{apiKey: {{env: E2E_ANTHROPIC_KEY}}}}
---
apiVersion: llmesh.io/v1alpha1
kind: LLMProvider
metadata: {{name: compat}}
spec:
  type: OpenAICompatible
  endpoint: {compat.base_url}/v1
  auth: {{apiKey: {{env: E2E_COMPAT_KEY}}}}
---
apiVersion: llmesh.io/v1alpha1
kind: LLMRoute
metadata: {{name: haiku}}
spec:
  match: {{model: "{HAIKU}", aliases: [gpt-4o-mini, claude-haiku]}}
  backends: [{{provider: bedrock, model: "{HAIKU}"}}]
---
apiVersion: llmesh.io/v1alpha1
kind: LLMRoute
metadata: {{name: claude-direct}}
spec:
  match: {{model: gpt-claude}}
  backends: [{{provider: fake-anthropic, model: fake-claude-1}}]
---
apiVersion: llmesh.io/v1alpha1
kind: LLMRoute
metadata: {{name: compat}}
spec:
  match: {{model: claude-compat}}
  backends: [{{provider: compat, model: compat-1}}]
"""


@pytest.fixture(scope="module")
def compat():
    upstream = ChatUpstream(COMPAT_KEY).start()
    yield upstream
    upstream.stop()


@pytest.fixture(scope="module")
def translating_sidecar(fake_bedrock, fake, compat, tmp_path_factory):
    car = aws_sidecar(tmp_path_factory.mktemp("translation"), translation_config(fake_bedrock, fake, compat), env={
        "AWS_ACCESS_KEY_ID": SIDECAR_AWS_KEY[0], "AWS_SECRET_ACCESS_KEY": SIDECAR_AWS_KEY[1], "AWS_REGION": "us-east-1",
        "E2E_ANTHROPIC_KEY": "sk-upstream-anthropic", "E2E_COMPAT_KEY": COMPAT_KEY})
    car.start()
    yield car
    assert car.stop() == 0


@pytest.fixture(autouse=True)
def _reset_compat(request):
    if "compat" in request.fixturenames:
        request.getfixturevalue("compat").reset()


@pytest.fixture
def oai(translating_sidecar, sdk_env):
    sdk_env(translating_sidecar)
    return openai.OpenAI(max_retries=0)


@pytest.fixture
def claude(translating_sidecar, sdk_env):
    sdk_env(translating_sidecar)
    return anthropic.Anthropic(max_retries=0)


def signed_converse(fake_bedrock, operation):
    seen = fake_bedrock.recorded(verdict=None)
    assert [r.operation for r in seen] == [operation] * len(seen) and seen, [(r.operation, r.verdict) for r in seen]
    for request in seen:
        assert request.verdict == "ok" and request.access_key == SIDECAR_AWS_KEY[0]
        assert request.model_id == HAIKU
        for secret in (OPENAI_APP_KEY, ANTHROPIC_APP_KEY, APP_AWS_KEY[0]):
            assert secret not in json.dumps(request.headers)
    return seen


# -- openai SDK → Bedrock Converse --------------------------------------------------------------------------------

def test_openai_chat_to_converse(oai, fake_bedrock):
    raw = oai.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", max_tokens=50, temperature=0.2,
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello"}])
    completion = raw.parse()
    assert completion.object == "chat.completion"
    assert completion.model == "gpt-4o-mini"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == DEFAULT_TEXT
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.prompt_tokens == INPUT_TOKENS + CACHE_READ_TOKENS
    assert completion.usage.prompt_tokens_details.cached_tokens == CACHE_READ_TOKENS
    assert completion.usage.completion_tokens == 4
    assert completion.usage.total_tokens == INPUT_TOKENS + CACHE_READ_TOKENS + 4
    assert raw.headers["x-llmesh-backend"] == f"bedrock/{HAIKU}"
    [seen] = signed_converse(fake_bedrock, "converse")
    assert seen.body["system"] == [{"text": "Be brief."}]
    assert seen.body["messages"] == [{"role": "user", "content": [{"text": "Say hello"}]}]
    assert seen.body["inferenceConfig"] == {"maxTokens": 50, "temperature": 0.2}
    assert "model" not in seen.body


def test_openai_stream_to_converse_stream_without_usage(oai, fake_bedrock):
    chunks = list(oai.chat.completions.create(model="gpt-4o-mini", messages=ASK, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == DEFAULT_TEXT
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert all(c.choices for c in chunks) and all(c.usage is None for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert len({c.id for c in chunks}) == 1
    signed_converse(fake_bedrock, "converse-stream")


def test_openai_stream_to_converse_stream_with_usage(oai, fake_bedrock, translating_sidecar):
    before = translating_sidecar.idle_log_length()
    chunks = list(oai.chat.completions.create(model="gpt-4o-mini", messages=ASK, stream=True, stream_options={"include_usage": True}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == DEFAULT_TEXT
    assert chunks[-1].choices == []
    assert chunks[-1].usage.prompt_tokens == INPUT_TOKENS + CACHE_READ_TOKENS
    assert chunks[-1].usage.completion_tokens == 4
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    [entry] = new_log_entries(translating_sidecar, before)
    assert entry["provider"] == "bedrock" and entry["stream"] is True and entry["status"] == 200
    assert entry["input_tokens"] == INPUT_TOKENS + CACHE_READ_TOKENS and entry["output_tokens"] == 4
    assert "error_code" not in entry, entry


def test_openai_tool_call_round_trip_through_converse(oai, fake_bedrock):
    fake_bedrock.script(Reply(tool=("get_weather", PARIS)))
    first = oai.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Weather in Paris?"}],
                                        tools=[WEATHER_TOOL_OPENAI], tool_choice="auto")
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    [call] = choice.message.tool_calls
    assert call.id == "tooluse_fake_1" and call.type == "function"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == PARIS
    [asked] = signed_converse(fake_bedrock, "converse")
    [tool] = asked.body["toolConfig"]["tools"]
    assert tool["toolSpec"]["name"] == "get_weather"
    assert tool["toolSpec"]["description"] == "Current weather in a city"
    assert tool["toolSpec"]["inputSchema"] == {"json": WEATHER_TOOL_OPENAI["function"]["parameters"]}
    assert asked.body["toolConfig"]["toolChoice"] == {"auto": {}}
    fake_bedrock.reset()
    second = oai.chat.completions.create(model="gpt-4o-mini", tools=[WEATHER_TOOL_OPENAI], messages=[
        {"role": "user", "content": "Weather in Paris?"},
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "18C and sunny"}])
    assert second.choices[0].message.content == DEFAULT_TEXT
    [answered] = signed_converse(fake_bedrock, "converse")
    messages = answered.body["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    [tool_use] = [block["toolUse"] for block in messages[1]["content"] if "toolUse" in block]
    assert tool_use == {"toolUseId": "tooluse_fake_1", "name": "get_weather", "input": PARIS}
    [result] = [block["toolResult"] for block in messages[2]["content"] if "toolResult" in block]
    assert result["toolUseId"] == "tooluse_fake_1"
    assert result["content"] == [{"text": "18C and sunny"}]


def test_openai_streamed_tool_call_through_converse_stream(oai, fake_bedrock):
    fake_bedrock.script(Reply(tool=("get_weather", PARIS)))
    chunks = list(oai.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Weather in Paris?"}],
                                              tools=[WEATHER_TOOL_OPENAI], stream=True, stream_options={"include_usage": True}))
    calls = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    assert calls[0].id == "tooluse_fake_1" and calls[0].function.name == "get_weather"
    assert {tc.index for tc in calls} == {0}, "the Converse content-block index becomes the tool call's own index"
    assert json.loads("".join(tc.function.arguments or "" for tc in calls)) == PARIS
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    assert chunks[-1].usage.completion_tokens == 7
    signed_converse(fake_bedrock, "converse-stream")


@pytest.mark.parametrize("field, extra", [("n", {"n": 2}), ("logprobs", {"logprobs": True}),
                                          ("response_format", {"response_format": {"type": "json_object"}})])
def test_untranslatable_openai_requests_are_refused_naming_the_field(oai, fake_bedrock, field, extra):
    with pytest.raises(openai.BadRequestError) as error:
        oai.chat.completions.create(model="gpt-4o-mini", messages=ASK, **extra)
    assert error.value.status_code == 400
    assert error.value.response.headers["x-llmesh-error"] == "untranslatable_request"
    assert error.value.code == "untranslatable_request"
    assert error.value.param == field
    assert f"'{field}'" in error.value.message
    assert fake_bedrock.recorded(verdict=None) == []


def test_bedrock_throttling_is_an_openai_rate_limit_error(oai, fake_bedrock):
    fake_bedrock.default = Reply(error="ThrottlingException")
    with pytest.raises(openai.RateLimitError) as error:
        oai.chat.completions.create(model="gpt-4o-mini", messages=ASK)
    assert error.value.status_code == 429
    assert "Too many requests" in error.value.message
    with pytest.raises(openai.RateLimitError):
        list(oai.chat.completions.create(model="gpt-4o-mini", messages=ASK, stream=True))


def test_a_converse_stream_exception_mid_way_is_an_openai_stream_error(oai, fake_bedrock):
    fake_bedrock.script(Reply(break_after=2))
    received = []
    with pytest.raises(openai.APIError):
        for chunk in oai.chat.completions.create(model="gpt-4o-mini", messages=ASK, stream=True):
            received.append(chunk)
    assert "".join(c.choices[0].delta.content or "" for c in received if c.choices) == "Hello from "


# -- openai SDK → Anthropic Messages (fake_provider.FakeProvider) ---------------------------------------------------

def test_openai_chat_to_anthropic_messages(oai, fake):
    completion = oai.chat.completions.create(model="gpt-claude", messages=[{"role": "system", "content": "Be brief."}, *ASK])
    assert completion.choices[0].message.content == "fake reply from fake-claude-1"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == "gpt-claude"
    # Anthropic's 10 input + 3 cache reads.
    assert completion.usage.prompt_tokens == 13 and completion.usage.prompt_tokens_details.cached_tokens == 3
    assert completion.usage.completion_tokens == 4
    [seen] = fake.recorded("/v1/messages")
    assert seen.header("x-api-key") == "sk-upstream-anthropic"
    assert seen.header("anthropic-version")
    assert seen.body["model"] == "fake-claude-1"
    assert isinstance(seen.body["max_tokens"], int) and seen.body["max_tokens"] > 0, "Anthropic requires max_tokens"
    assert seen.body["messages"][0]["role"] == "user"
    assert json.dumps(seen.body["system"]).count("Be brief.") == 1
    assert OPENAI_APP_KEY not in json.dumps(seen.headers)


def test_openai_stream_to_anthropic_stream_with_usage(oai, fake, translating_sidecar):
    before = translating_sidecar.idle_log_length()
    chunks = list(oai.chat.completions.create(model="gpt-claude", messages=ASK, stream=True, stream_options={"include_usage": True}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "fake reply from fake-claude-1"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 4 and chunks[-1].usage.prompt_tokens == 13
    assert fake.recorded("/v1/messages")[0].body["stream"] is True
    [entry] = new_log_entries(translating_sidecar, before)
    assert entry["provider"] == "fake-anthropic" and entry["input_tokens"] == 13 and entry["output_tokens"] == 4
    assert "error_code" not in entry, f"a clean translated stream is logged as failed: {entry}"


def test_anthropic_rate_limit_is_an_openai_rate_limit_error(oai, fake):
    fake.fault = "status:429"  # the fake's default fault (app headers such as x-fake-fault are not sent on translation)
    with pytest.raises(openai.RateLimitError) as error:
        oai.chat.completions.create(model="gpt-claude", messages=ASK)
    assert error.value.status_code == 429
    assert "fake says 429" in error.value.message


# -- anthropic SDK → Bedrock Converse -----------------------------------------------------------------------------

def test_anthropic_messages_to_converse(claude, fake_bedrock):
    message = claude.messages.create(model="claude-haiku", max_tokens=64, system="Be brief.", messages=ASK)
    assert message.type == "message" and message.role == "assistant"
    assert message.model == "claude-haiku"
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == DEFAULT_TEXT
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens == INPUT_TOKENS
    assert message.usage.cache_read_input_tokens == CACHE_READ_TOKENS
    assert message.usage.output_tokens == 4
    [seen] = signed_converse(fake_bedrock, "converse")
    assert seen.body["system"] == [{"text": "Be brief."}]
    assert seen.body["messages"] == [{"role": "user", "content": [{"text": "Say hello"}]}]
    assert seen.body["inferenceConfig"]["maxTokens"] == 64


def test_anthropic_cache_control_becomes_converse_cache_points(claude, fake_bedrock):
    claude.messages.create(
        model="claude-haiku", max_tokens=64,
        system=[{"type": "text", "text": "A long manual.", "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
        tools=[{"name": "lookup", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}}],
        messages=[{"role": "user", "content": [{"type": "text", "text": "Say hello", "cache_control": {"type": "ephemeral"}}]}])
    [seen] = signed_converse(fake_bedrock, "converse")
    assert seen.body["system"] == [{"text": "A long manual."}, {"cachePoint": {"type": "default", "ttl": "1h"}}]
    assert seen.body["toolConfig"]["tools"][1] == {"cachePoint": {"type": "default"}}
    assert seen.body["messages"] == [{"role": "user", "content": [{"text": "Say hello"}, {"cachePoint": {"type": "default"}}]}]


def test_anthropic_stream_to_converse_stream(claude, fake_bedrock, translating_sidecar):
    before = translating_sidecar.idle_log_length()
    with claude.messages.stream(model="claude-haiku", max_tokens=64, messages=ASK) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == DEFAULT_TEXT
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == 4
    assert final.usage.input_tokens == INPUT_TOKENS
    signed_converse(fake_bedrock, "converse-stream")
    [entry] = new_log_entries(translating_sidecar, before)
    assert entry["path"] == "/v1/messages" and entry["provider"] == "bedrock" and entry["stream"] is True
    assert entry["input_tokens"] == INPUT_TOKENS + CACHE_READ_TOKENS and entry["output_tokens"] == 4
    assert "error_code" not in entry, entry


def test_anthropic_tool_use_round_trip_through_converse(claude, fake_bedrock):
    fake_bedrock.script(Reply(tool=("get_weather", PARIS)))
    first = claude.messages.create(model="claude-haiku", max_tokens=64, tools=[WEATHER_TOOL_ANTHROPIC],
                                   messages=[{"role": "user", "content": "Weather in Paris?"}])
    assert first.stop_reason == "tool_use"
    [use] = [block for block in first.content if block.type == "tool_use"]
    assert use.id == "tooluse_fake_1" and use.name == "get_weather" and use.input == PARIS
    [asked] = signed_converse(fake_bedrock, "converse")
    assert asked.body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"] == {"json": WEATHER_TOOL_ANTHROPIC["input_schema"]}
    fake_bedrock.reset()
    second = claude.messages.create(model="claude-haiku", max_tokens=64, tools=[WEATHER_TOOL_ANTHROPIC], messages=[
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": [block.model_dump(exclude_none=True) for block in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "18C and sunny"}]}])
    assert second.content[0].text == DEFAULT_TEXT
    [answered] = signed_converse(fake_bedrock, "converse")
    [tool_use] = [b["toolUse"] for b in answered.body["messages"][1]["content"] if "toolUse" in b]
    assert tool_use == {"toolUseId": "tooluse_fake_1", "name": "get_weather", "input": PARIS}
    [result] = [b["toolResult"] for b in answered.body["messages"][2]["content"] if "toolResult" in b]
    assert result["toolUseId"] == "tooluse_fake_1" and result["content"] == [{"text": "18C and sunny"}]


def test_anthropic_streamed_tool_use_through_converse_stream(claude, fake_bedrock):
    fake_bedrock.script(Reply(tool=("get_weather", PARIS)))
    with claude.messages.stream(model="claude-haiku", max_tokens=64, tools=[WEATHER_TOOL_ANTHROPIC],
                                messages=[{"role": "user", "content": "Weather in Paris?"}]) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    assert [block.type for block in final.content] == ["text", "tool_use"]
    assert final.content[1].input == PARIS and final.content[1].id == "tooluse_fake_1"


def test_a_converse_stream_exception_mid_way_is_an_anthropic_stream_error(claude, fake_bedrock):
    fake_bedrock.script(Reply(break_after=2))
    received = []
    with pytest.raises(anthropic.APIError):
        with claude.messages.stream(model="claude-haiku", max_tokens=64, messages=ASK) as stream:
            for text in stream.text_stream:
                received.append(text)
    assert "".join(received) == "Hello from "


def test_bedrock_throttling_is_an_anthropic_rate_limit_error(claude, fake_bedrock):
    fake_bedrock.default = Reply(error="ThrottlingException")
    with pytest.raises(anthropic.RateLimitError) as error:
        claude.messages.create(model="claude-haiku", max_tokens=64, messages=ASK)
    assert error.value.status_code == 429
    assert error.value.body["error"]["type"] == "rate_limit_error"


# -- anthropic SDK → OpenAI-compatible Chat Completions -------------------------------------------------------------

def test_anthropic_messages_to_openai_chat(claude, compat):
    message = claude.messages.create(model="claude-compat", max_tokens=64, system="Be brief.", messages=ASK)
    assert message.content[0].text == "Hello from the OpenAI-compatible fake"
    assert message.stop_reason == "end_turn"
    assert message.model == "claude-compat"
    assert message.usage.input_tokens == PROMPT_TOKENS - CACHED_TOKENS
    assert message.usage.cache_read_input_tokens == CACHED_TOKENS
    assert message.usage.output_tokens == 5
    [seen] = compat.requests
    assert seen["headers"]["authorization"] == f"Bearer {COMPAT_KEY}"
    assert ANTHROPIC_APP_KEY not in json.dumps(seen["headers"])
    assert seen["body"]["model"] == "compat-1"
    assert [m["role"] for m in seen["body"]["messages"]] == ["system", "user"]
    assert "Be brief." in json.dumps(seen["body"]["messages"][0]) and "Say hello" in json.dumps(seen["body"]["messages"][1])
    assert 64 in (seen["body"].get("max_tokens"), seen["body"].get("max_completion_tokens"))


def test_anthropic_stream_to_openai_stream(claude, compat):
    with claude.messages.stream(model="claude-compat", max_tokens=64, messages=ASK) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "Hello from the OpenAI-compatible fake"
    assert final.usage.output_tokens == 5
    assert final.stop_reason == "end_turn"
    [seen] = compat.requests
    assert seen["body"]["stream"] is True
    assert seen["body"].get("stream_options") == {"include_usage": True}, "the sidecar asks for usage to count it"


def test_anthropic_tool_use_through_openai_chat(claude, compat):
    compat.script(ChatReply(tool=("get_weather", PARIS)), ChatReply(tool=("get_weather", PARIS)))
    message = claude.messages.create(model="claude-compat", max_tokens=64, tools=[WEATHER_TOOL_ANTHROPIC],
                                     messages=[{"role": "user", "content": "Weather in Paris?"}])
    assert message.stop_reason == "tool_use"
    [use] = [b for b in message.content if b.type == "tool_use"]
    assert use.id == "call_fake_1" and use.name == "get_weather" and use.input == PARIS
    [tool] = compat.requests[0]["body"]["tools"]
    assert tool["type"] == "function" and tool["function"]["name"] == "get_weather"
    assert tool["function"]["parameters"] == WEATHER_TOOL_ANTHROPIC["input_schema"]
    with claude.messages.stream(model="claude-compat", max_tokens=64, tools=[WEATHER_TOOL_ANTHROPIC],
                                messages=[{"role": "user", "content": "Weather in Paris?"}]) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    [streamed] = [b for b in final.content if b.type == "tool_use"]
    assert streamed.id == "call_fake_1" and streamed.input == PARIS
    compat.reset()
    answer = claude.messages.create(model="claude-compat", max_tokens=64, tools=[WEATHER_TOOL_ANTHROPIC], messages=[
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "call_fake_1", "name": "get_weather", "input": PARIS}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_fake_1", "content": "18C and sunny"}]}])
    assert answer.content[0].text == "Hello from the OpenAI-compatible fake"
    messages = compat.requests[0]["body"]["messages"]
    assert messages[1]["role"] == "assistant"
    assert messages[1]["tool_calls"][0]["id"] == "call_fake_1"
    assert json.loads(messages[1]["tool_calls"][0]["function"]["arguments"]) == PARIS
    assert messages[2]["role"] == "tool" and messages[2]["tool_call_id"] == "call_fake_1"
    assert "18C and sunny" in json.dumps(messages[2]["content"])


def test_openai_compatible_rate_limit_is_an_anthropic_rate_limit_error(claude, compat):
    compat.default = ChatReply(status=429)
    with pytest.raises(anthropic.RateLimitError):
        claude.messages.create(model="claude-compat", max_tokens=64, messages=ASK)
