"""Loose commands through a language model: the verbs as tools, proposals checked by the
grammar and shown on the same confirm card. The chat model is a fake at the edge."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, BaseMessage
from pydantic import Field

from crm_core.models import Customer, Deal, Interaction, StageChange
from handlers.loose_llm import SYSTEM, CommandProposer
from handlers.verbs import default_registry
from tests.conftest import TestBot

TABLES = (Customer, Deal, Interaction, StageChange)


class ToolModel(FakeMessagesListChatModel):
    """A chat model that answers from a script and remembers the tools and messages."""

    tools: list[dict[str, Any]] = Field(default_factory=list)
    seen: list[Any] = Field(default_factory=list)

    def bind_tools(self, tools: Any, **kwargs: Any) -> ToolModel:  # type: ignore[override]
        self.tools = list(tools)
        return self

    def invoke(self, messages: Any, *args: Any, **kwargs: Any) -> BaseMessage:  # type: ignore[override]
        self.seen.append(messages)
        return super().invoke(messages, *args, **kwargs)


def call(name: str, args: str) -> AIMessage:
    """A model reply calling one tool."""
    return AIMessage(content="", tool_calls=[{"name": name, "args": {"args": args}, "id": "c1"}])


# The `book` fixture (tests/handlers/conftest.py) types these lines:
# alice's Acme with one deal; dave's Globex.
BOOK = (
    ("alice", "new customer Acme Logistics"),
    ("alice", "new deal Acme: Fleet tracking upgrade 15k stage proposal"),
    ("dave", "new customer Globex Corporation"),
    ("dave", "new deal Globex: Fleet tracking rollout 9k"),
)


def with_model(testbot: TestBot, *replies: BaseMessage) -> ToolModel:
    """The dispatcher with a proposer over a scripted model."""
    model = ToolModel(responses=list(replies))
    testbot.dispatcher.proposer = CommandProposer(model, default_registry())
    return model


def counts(testbot: TestBot) -> tuple[int, ...]:
    """Rows a loose write could touch."""
    return tuple(testbot.count(t) for t in TABLES)


UNREAD = "kindly bestow victory upon that fleet thing"


def test_the_models_proposal_is_the_same_confirm_card(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """A sentence the rules do not read: the model's `move` is checked and shown as a card;
    nothing is written before Confirm. Every verb is offered as a tool."""
    model = with_model(testbot, call("move", "Acme / Fleet tracking upgrade to won"))
    before = counts(testbot)
    reply = testbot("alice", UNREAD)
    assert reply.status == "confirm", reply.text
    assert reply.to_json()["command"] == "move Acme / Fleet tracking upgrade to won"
    assert counts(testbot) == before
    names = {t["function"]["name"] for t in model.tools}
    assert {"move", "new_deal", "log", "remind"} <= names
    assert model.seen[0][0] == ("system", SYSTEM)
    assert model.seen[0][1] == ("human", UNREAD)


@pytest.mark.parametrize(
    "reply",
    [
        call("move", "the moon to won"),  # no such deal: the grammar's check refuses it
        call("move", "Globex / Fleet tracking rollout to won"),  # another book's deal
        call("new_deal", "Acme"),  # not a line of its verb
        call("shutdown", "now"),  # no such verb
        AIMessage(content="I would rather not."),  # no tool called
    ],
)
def test_a_proposal_the_grammar_or_access_refuses_is_dropped(
    testbot: TestBot, book: dict[str, int], reply: AIMessage
) -> None:
    """No card, nothing written, the same answer as with no model at all."""
    plain = testbot("alice", UNREAD)
    with_model(testbot, reply)
    before = counts(testbot)
    answer = testbot("alice", UNREAD)
    assert answer.status != "confirm"
    assert answer.text == plain.text
    assert "Globex" not in str(answer.to_json())
    assert counts(testbot) == before


def test_a_refusal_never_reaches_the_model(testbot: TestBot, book: dict[str, int]) -> None:
    """ "don't move acme yet" is refused by the rules; the model is not asked."""
    model = with_model(testbot, call("move", "Acme / Fleet tracking upgrade to won"))
    reply = testbot("alice", "don't move the acme fleet deal yet")
    assert reply.status != "confirm"
    assert model.seen == []


def test_a_failing_model_changes_nothing(testbot: TestBot, book: dict[str, int]) -> None:
    """A model that raises (no responses left) leaves the rules' own answer."""
    plain = testbot("alice", UNREAD)
    with_model(testbot)
    assert testbot("alice", UNREAD).text == plain.text


def test_crmbot_llm_reaches_an_openai_compatible_server_with_the_verbs_as_tools(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """CRMBOT_LLM=openai:... with a base URL: the real client sends the verbs as tools to a
    fake server on 127.0.0.1 and its tool call becomes the card."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from crm_core.settings import Settings

    bodies: list[dict[str, Any]] = []

    class Fake(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            bodies.append(json.loads(self.rfile.read(length)))
            arguments = json.dumps({"args": "Acme / Fleet tracking upgrade to won"})
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "move", "arguments": arguments},
                    }
                ],
            }
            payload = {
                "id": "x",
                "object": "chat.completion",
                "created": 0,
                "model": "local",
                "choices": [{"index": 0, "finish_reason": "tool_calls", "message": message}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Fake)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            llm="openai:local-model",
            llm_base_url=f"http://127.0.0.1:{server.server_port}/v1",
        )
        assert CommandProposer.from_settings(Settings(_env_file=None), default_registry()) is None  # type: ignore[call-arg]
        testbot.dispatcher.proposer = CommandProposer.from_settings(settings, default_registry())
        reply = testbot("alice", UNREAD)
    finally:
        server.shutdown()
    assert reply.status == "confirm", reply.text
    assert reply.to_json()["command"] == "move Acme / Fleet tracking upgrade to won"
    sent = bodies[0]
    assert sent["model"] == "local-model"
    assert "move" in {t["function"]["name"] for t in sent["tools"]}
    assert sent["messages"][-1] == {"role": "user", "content": UNREAD}
