"""respx for SDKs built on ``httpx2`` (openai 3.x, anthropic 2.x).

respx routes ``httpx`` requests; these SDKs send through ``httpx2``'s transports instead. This
mocker patches ``httpx2.HTTPTransport.handle_request`` (and the async twin), converts each
``httpx2.Request`` into an ``httpx.Request`` for respx's routes, and hands the route's
``httpx.Response`` back as an ``httpx2.Response`` whose body is streamed lazily, so a server-sent
event stream that fails half-way fails half-way for the SDK too. Use ``respx.mock(using="httpx2")``.

The Anthropic tests import this module too (one registration per process: respx keeps a
registry of mocker names).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import httpx2
from respx.mocks import AbstractRequestMocker

__all__ = ["FailingBody", "Httpx2Mocker"]


class _SyncBody(httpx2.SyncByteStream):
    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if callable(close):
            close()


class _AsyncBody(httpx2.AsyncByteStream):
    def __init__(self, stream: Any) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if hasattr(self._stream, "__aiter__"):
            async for chunk in self._stream:
                yield chunk
        else:
            for chunk in self._stream:
                yield chunk

    async def aclose(self) -> None:
        aclose = getattr(self._stream, "aclose", None)
        if callable(aclose):
            await aclose()


class Httpx2Mocker(AbstractRequestMocker):  # type: ignore[misc]
    name = "httpx2"
    targets = [
        "httpx2._transports.default.HTTPTransport",
        "httpx2._transports.default.AsyncHTTPTransport",
    ]
    target_methods = ["handle_request", "handle_async_request"]

    @classmethod
    def to_httpx_request(cls, **kwargs: Any) -> httpx.Request:
        request: httpx2.Request = kwargs["request"]
        return httpx.Request(
            request.method,
            str(request.url),
            headers=list(request.headers.raw),
            content=request.read(),
        )

    @classmethod
    def from_sync_httpx_response(
        cls, httpx_response: httpx.Response, target: Any, **kwargs: Any
    ) -> httpx2.Response:
        return httpx2.Response(
            httpx_response.status_code,
            headers=list(httpx_response.headers.raw),
            stream=_SyncBody(httpx_response.stream),
            request=kwargs["request"],
        )

    @classmethod
    async def from_async_httpx_response(
        cls, httpx_response: httpx.Response, target: Any, **kwargs: Any
    ) -> httpx2.Response:
        return httpx2.Response(
            httpx_response.status_code,
            headers=list(httpx_response.headers.raw),
            stream=_AsyncBody(httpx_response.stream),
            request=kwargs["request"],
        )


class FailingBody(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that sends its bytes, then fails the way a dropped connection does."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def __iter__(self) -> Iterator[bytes]:
        yield self._body
        raise httpx2.RemoteProtocolError("peer closed connection without sending complete body")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._body
        raise httpx2.RemoteProtocolError("peer closed connection without sending complete body")
