"""The serial console's bounded output (console/serial_output.py): a flood the browser does not take keeps at
most LIMIT bytes, the newest, and the next message says how many were left out."""
import asyncio

import pytest

from console.serial_output import SerialOutput, dropped_notice

MIB = 1024 * 1024


def pattern(offset, length):
    """Bytes offset..offset+length of a stream where every byte is its position mod 251."""
    start = offset % 251
    return (bytes(range(251)) * (length // 251 + 2))[start:start + length]


def test_it_passes_output_in_order_while_the_browser_keeps_up():
    async def scenario():
        output = SerialOutput(limit=MIB)
        output.put(b"login: ")
        output.put(b"root\r\n")
        first = await output.get()
        output.put(b"# ")
        return first, await output.get()

    assert asyncio.run(scenario()) == (b"login: root\r\n", b"# ")


def test_it_keeps_the_newest_bytes_of_a_flood_and_says_how_many_went():
    total, chunk = 64 * MIB, 4096

    async def scenario():
        output, largest = SerialOutput(limit=MIB), 0
        for offset in range(0, total, chunk):  # a guest printing in a loop, the browser taking nothing
            output.put(pattern(offset, chunk))
            largest = max(largest, output.size)
        return largest, await output.get(), output.size

    largest, message, left = asyncio.run(scenario())
    assert largest == MIB and left == 0
    notice = dropped_notice(total - MIB)
    assert message.startswith(notice)
    assert f"{total - MIB} bytes of console output left out".encode() in notice
    assert message[len(notice):] == pattern(total - MIB, MIB)  # the last MiB, whole and in order


def test_it_keeps_the_tail_of_one_chunk_larger_than_the_limit():
    async def scenario():
        output = SerialOutput(limit=10)
        output.put(b"0123456789abcdef")
        return await output.get()

    assert asyncio.run(scenario()) == dropped_notice(6) + b"6789abcdef"


def test_it_says_nothing_about_drops_once_they_were_reported():
    async def scenario():
        output = SerialOutput(limit=4)
        output.put(b"abcdef")
        first = await output.get()
        output.put(b"gh")
        return first, await output.get()

    first, second = asyncio.run(scenario())
    assert first == dropped_notice(2) + b"cdef" and second == b"gh"


def test_a_get_waits_for_output_and_can_be_cancelled_without_losing_any():
    async def scenario():
        output = SerialOutput()
        waiting = asyncio.ensure_future(output.get())
        await asyncio.sleep(0)
        assert not waiting.done()
        waiting.cancel()  # the consumer does this when the session ends first
        with pytest.raises(asyncio.CancelledError):
            await waiting
        output.put(b"still here")
        return await output.get()

    assert asyncio.run(scenario()) == b"still here"
