"""Waiting inside a coroutine: the asyncio twin of bot.launch.processes.wait_until, for socket.io clients."""

from __future__ import annotations

import asyncio
import time
from typing import Callable, Optional, TypeVar

T = TypeVar("T")


async def until(condition: Callable[[], Optional[T]], timeout: float, what: str, interval: float = 0.05) -> T:
    """The first truthy value of `condition()`; AssertionError after `timeout` s. The event loop runs meanwhile."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        await asyncio.sleep(interval)
    return value
