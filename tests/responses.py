"""The test client's responses, typed: django-stubs type every one as a plain ``HttpResponse``."""

from __future__ import annotations

from django.http import HttpResponseBase, StreamingHttpResponse


def streamed(response: HttpResponseBase) -> bytes:
    """The body of a streamed response (a file); a response that was not streamed fails the test."""
    assert isinstance(response, StreamingHttpResponse), f"not a streamed response: {type(response).__name__}"
    return response.getvalue()
