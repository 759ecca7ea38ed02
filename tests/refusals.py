"""Asserting a service's refusal: a ``DomainError`` with the HTTP status (and message) it means."""

from contextlib import contextmanager

import pytest

from portal.errors import DomainError


@contextmanager
def refused(status=400, msgid=None):
    """The block must raise ``DomainError`` with ``status`` (400 bad input, 403 not allowed,
    409 locked) and, if given, the message ``msgid`` (its English source text)."""
    with pytest.raises(DomainError) as info:
        yield info
    assert info.value.status == status, f"status {info.value.status}: {info.value.msgid}"
    if msgid is not None:
        assert info.value.msgid == msgid
