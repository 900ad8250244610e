"""core.llm against a local server speaking the chat-completions protocol: good, malformed, error,
slow and down answers all end as an answer or one LlmUnavailable."""

import pytest

from core import llm
from tests.llm_server import closed_port_url, llm_server


def test_not_configured_is_unavailable(settings):
    settings.LLM_BASE_URL = ""
    assert not llm.llm_configured()
    with pytest.raises(llm.LlmUnavailable, match="not set"):
        llm.chat_completion(system="s", user="u")


def test_a_good_answer_and_what_was_sent(settings):
    with llm_server(answer="payment") as server:
        settings.LLM_BASE_URL, settings.LLM_API_KEY, settings.LLM_MODEL_NAME = server.base_url, "k-1", "granite3.3"
        answer = llm.chat_completion(system="You label.", user="tx", max_tokens=20, json_answer=True)
    assert answer.text == "payment" and answer.model == "granite3.3"
    sent = server.requests[0]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["headers"]["Authorization"] == "Bearer k-1"
    assert sent["body"]["messages"] == [{"role": "system", "content": "You label."}, {"role": "user", "content": "tx"}]
    assert sent["body"]["max_tokens"] == 20 and sent["body"]["temperature"] == 0
    assert sent["body"]["response_format"] == {"type": "json_object"}


@pytest.mark.parametrize("raw", [b"not json", b'{"choices": []}', b'{"choices": [{"message": {}}]}',
                                 b'{"choices": [{"message": {"content": 7}}]}', b'{"choices": [{"message": {"content": "  "}}]}'])
def test_malformed_answers_are_unavailable(settings, raw):
    with llm_server(raw=raw) as server:
        settings.LLM_BASE_URL = server.base_url
        with pytest.raises(llm.LlmUnavailable):
            llm.chat_completion(system="s", user="u")


def test_an_http_error_is_unavailable(settings):
    with llm_server(status=500) as server:
        settings.LLM_BASE_URL = server.base_url
        with pytest.raises(llm.LlmUnavailable, match="HTTP 500"):
            llm.chat_completion(system="s", user="u")


def test_a_slow_model_times_out(settings):
    with llm_server(answer="late", delay=3) as server:
        settings.LLM_BASE_URL, settings.LLM_TIMEOUT_SECONDS = server.base_url, 1
        with pytest.raises(llm.LlmUnavailable, match="no answer within 1 s"):
            llm.chat_completion(system="s", user="u")


def test_a_down_model_is_unavailable(settings):
    settings.LLM_BASE_URL = closed_port_url()
    with pytest.raises(llm.LlmUnavailable, match="cannot reach"):
        llm.chat_completion(system="s", user="u")


def test_an_oversized_prompt_is_refused_before_sending(settings):
    with llm_server(answer="x") as server:
        settings.LLM_BASE_URL = server.base_url
        with pytest.raises(llm.LlmUnavailable, match="prompt longer"):
            llm.chat_completion(system="s", user="u" * (llm.MAX_PROMPT_CHARS + 1))
    assert server.requests == []


@pytest.mark.parametrize("text,expected", [
    ('{"label": "payment"}', {"label": "payment"}),
    ('Sure! ```json\n{"label": "fee", "confidence": 0.7}\n``` done', {"label": "fee", "confidence": 0.7}),
    ('[1] then {"a": {"b": 1}}', {"a": {"b": 1}}),
])
def test_parse_json_object(text, expected):
    assert llm.parse_json_object(text) == expected


@pytest.mark.parametrize("text", ["no json here", "[1, 2]", "{broken"])
def test_parse_json_object_refuses(text):
    with pytest.raises(llm.LlmUnavailable):
        llm.parse_json_object(text)
