"""The guest's serial output waiting for the browser, bounded.

libvirt's client keeps queueing a console stream's data however slowly it is read, so holding back on the
stream would only move the backlog into libvirt: the serial console reads the stream as it comes and bounds
what waits here instead. When the browser falls behind (a slow link, a guest printing in a loop), the oldest
bytes go: a terminal shows the latest output. The next message tells the user how much was left out.
"""
import asyncio
from collections import deque

from django.utils.translation import gettext

# Bytes of guest output kept for a browser that is behind: several screens of scrollback.
LIMIT = 1024 * 1024


def dropped_notice(count):
    return ("\r\n[" + gettext("virtdeck: %(count)d bytes of console output left out: the browser did not keep up")
            % {"count": count} + "]\r\n").encode()


class SerialOutput:
    """put() guest bytes, `await get()` them all for the next message. Used on the event loop's thread only."""

    def __init__(self, limit=LIMIT):
        self.limit = limit
        self.size = 0
        self.dropped = 0
        self._chunks = deque()
        self._ready = asyncio.Event()

    def put(self, data):
        self._chunks.append(data)
        self.size += len(data)
        excess = self.size - self.limit
        while excess > 0:
            oldest = self._chunks[0]
            if len(oldest) <= excess:
                self._chunks.popleft()
                cut = len(oldest)
            else:
                self._chunks[0] = oldest[excess:]
                cut = excess
            self.size -= cut
            self.dropped += cut
            excess -= cut
        self._ready.set()

    async def get(self):
        """Everything waiting, as one bytes object, after a notice if some was left out; waits for some."""
        await self._ready.wait()
        data = b"".join(self._chunks)
        if self.dropped:
            data = dropped_notice(self.dropped) + data
        self._chunks.clear()
        self.size = self.dropped = 0
        self._ready.clear()
        return data
