"""The one client of the optional language model: an OpenAI-compatible chat-completions endpoint
(`LLM_BASE_URL`, `LLM_MODEL_NAME`, `LLM_API_KEY`, `LLM_TIMEOUT_SECONDS`).

Callers (classification, audits, insights) treat the model as optional: `llm_configured()` says
whether to try, and every failure — not configured, refused connection, timeout, an HTTP error, an
answer that is not the protocol's shape — is one `LlmUnavailable`, so the caller falls back to its
offline result. The caller parses the returned text strictly into its own vocabulary; this module
never interprets content. Prompts are bounded here (`MAX_PROMPT_CHARS`) so no caller sends a book.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import requests
from django.conf import settings

logger = logging.getLogger(__name__)

MAX_PROMPT_CHARS = 12_000
MAX_ANSWER_CHARS = 20_000


class LlmUnavailable(Exception):
    """No usable answer from the model (the reason is the message); fall back to the offline path."""


@dataclass(frozen=True)
class LlmAnswer:
    text: str
    model: str


def llm_configured() -> bool:
    return bool(settings.LLM_BASE_URL)


def chat_completion(*, system: str, user: str, max_tokens: int = 512, json_answer: bool = False) -> LlmAnswer:
    """One chat completion: a system and a user message, the model's first choice back as text.
    `json_answer=True` asks the endpoint for a JSON object (servers that ignore it still answer text;
    the caller validates)."""
    if not llm_configured():
        raise LlmUnavailable("LLM_BASE_URL is not set")
    if len(system) + len(user) > MAX_PROMPT_CHARS:
        raise LlmUnavailable(f"prompt longer than {MAX_PROMPT_CHARS} characters")
    body = {
        "model": settings.LLM_MODEL_NAME,
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
        "max_tokens": max_tokens,
        "temperature": 0,
    }
    if json_answer:
        body["response_format"] = {"type": "json_object"}
    headers = {"Content-Type": "application/json"}
    if settings.LLM_API_KEY:
        headers["Authorization"] = f"Bearer {settings.LLM_API_KEY}"
    url = f"{settings.LLM_BASE_URL}/chat/completions"
    try:
        response = requests.post(url, json=body, headers=headers, timeout=settings.LLM_TIMEOUT_SECONDS)
    except requests.Timeout as exc:
        raise LlmUnavailable(f"no answer within {settings.LLM_TIMEOUT_SECONDS} s") from exc
    except requests.RequestException as exc:
        raise LlmUnavailable(f"cannot reach the model: {type(exc).__name__}") from exc
    if response.status_code != 200:
        raise LlmUnavailable(f"the model answered HTTP {response.status_code}")
    if len(response.content) > MAX_ANSWER_CHARS * 4:
        raise LlmUnavailable("the model's answer is too long")
    try:
        payload = response.json()
        message = payload["choices"][0]["message"]
        text = message["content"]
        model = str(payload.get("model") or settings.LLM_MODEL_NAME)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise LlmUnavailable("the model's answer is not a chat completion") from exc
    if not isinstance(text, str) or not text.strip():
        raise LlmUnavailable("the model's answer is empty")
    return LlmAnswer(text=text[:MAX_ANSWER_CHARS], model=model)


def parse_json_object(text: str) -> dict:
    """The first JSON object in a model's text (models wrap JSON in prose or ``` fences); raises
    LlmUnavailable when there is none, so callers discard the answer."""
    start = text.find("{")
    while start != -1:
        try:
            value, _ = json.JSONDecoder().raw_decode(text[start:])
        except ValueError:
            start = text.find("{", start + 1)
            continue
        if isinstance(value, dict):
            return value
        start = text.find("{", start + 1)
    raise LlmUnavailable("the model's answer holds no JSON object")
