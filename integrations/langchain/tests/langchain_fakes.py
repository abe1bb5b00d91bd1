"""Test doubles built on langchain-core's own fake chat model, plus a tool-loop agent."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import BaseTool, tool

from agentlog.instrumentation import llm_recorded_by

# What llm_recorded_by() said while each fake model call did its work (the "HTTP call").
OWNER_SEEN: list[str | None] = []


class ToolCallingFakeModel(GenericFakeChatModel):
    """``GenericFakeChatModel`` that can be bound to tools and streams tool calls too.

    An exception in ``messages`` is raised by that call; when streaming, after one chunk.
    """

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        return self

    def _next(self) -> AIMessage | BaseException:
        OWNER_SEEN.append(llm_recorded_by())
        item = next(self.messages)
        return AIMessage(content=item) if isinstance(item, str) else item  # type: ignore[return-value]

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:  # fmt: skip
        message = self._next()
        if isinstance(message, BaseException):
            raise message
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:  # fmt: skip
        message = self._next()
        if isinstance(message, BaseException):
            yield ChatGenerationChunk(message=AIMessageChunk(content="partial ", id="err"))
            raise message
        words = re.split(r"(\s)", str(message.content)) if message.content else []
        for word in words:
            yield ChatGenerationChunk(message=AIMessageChunk(content=word, id=message.id))
        for i, call in enumerate(message.tool_calls):
            chunk = {"name": call["name"], "args": json.dumps(call["args"]), "id": call["id"],
                     "index": i}  # fmt: skip
            yield ChatGenerationChunk(
                message=AIMessageChunk(content="", id=message.id, tool_call_chunks=[chunk])
            )
        if message.usage_metadata:
            yield ChatGenerationChunk(
                message=AIMessageChunk(content="", id=message.id,
                                       usage_metadata=message.usage_metadata)
            )  # fmt: skip


@tool
def get_weather(city: str) -> str:
    """The current weather in a city."""
    return f"Sunny in {city}, 21 C"


USAGE = {"input_tokens": 12, "output_tokens": 5, "total_tokens": 17}


def script(*, fail: BaseException | None = None) -> list[Any]:
    """Two model turns: ask for the weather tool, then answer (or fail on the second turn)."""
    first = AIMessage(
        content="", id="ai-1", usage_metadata=USAGE,  # type: ignore[arg-type]
        tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "call-1"}],
    )  # fmt: skip
    second: Any = (
        fail
        if fail is not None
        else AIMessage(
            content="It is sunny in Paris.",
            id="ai-2",
            usage_metadata=USAGE,  # type: ignore[arg-type]
        )
    )
    return [first, second]


def make_agent(model: ToolCallingFakeModel, tools: list[BaseTool], *, streaming: bool) -> Any:
    """A tool loop on langchain-core runnables: call the model, run the tools it asks for."""
    bound = model.bind_tools(tools)
    by_name = {t.name: t for t in tools}

    def turn(messages: list[BaseMessage]) -> BaseMessage:
        if not streaming:
            return bound.invoke(messages)  # type: ignore[no-any-return]
        out: Any = None
        for chunk in bound.stream(messages):
            out = chunk if out is None else out + chunk
        return out  # type: ignore[no-any-return]

    async def aturn(messages: list[BaseMessage]) -> BaseMessage:
        if not streaming:
            return await bound.ainvoke(messages)  # type: ignore[no-any-return]
        out: Any = None
        async for chunk in bound.astream(messages):
            out = chunk if out is None else out + chunk
        return out  # type: ignore[no-any-return]

    def run(inputs: dict[str, Any]) -> list[BaseMessage]:
        messages: list[BaseMessage] = [HumanMessage(inputs["question"], id="q")]
        for _ in range(5):
            ai = turn(messages)
            messages.append(ai)
            calls = getattr(ai, "tool_calls", None)
            if not calls:
                break
            messages.extend(by_name[c["name"]].invoke(c) for c in calls)
        return messages

    async def arun(inputs: dict[str, Any]) -> list[BaseMessage]:
        messages: list[BaseMessage] = [HumanMessage(inputs["question"], id="q")]
        for _ in range(5):
            ai = await aturn(messages)
            messages.append(ai)
            calls = getattr(ai, "tool_calls", None)
            if not calls:
                break
            for c in calls:
                messages.append(await by_name[c["name"]].ainvoke(c))
        return messages

    return RunnableLambda(run, afunc=arun, name="weather_agent")


async def collect(stream: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in stream]
