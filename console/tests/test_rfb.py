"""The RFB handshakes of the proxy, against scripted peers (the lab tests run them against real QEMU)."""
import struct

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from console import rfb
from console.refusals import Refusal, Refused


class Peer:
    """Scripted bytes to read; what was written is kept."""

    def __init__(self, *chunks):
        self.incoming = bytearray(b"".join(chunks))
        self.written = bytearray()

    async def read_exact(self, count):
        if len(self.incoming) < count:
            raise AssertionError(f"read {count} bytes past the script")
        data = bytes(self.incoming[:count])
        del self.incoming[:count]
        return data

    async def write(self, data):
        self.written += data


def reason(text):
    return struct.pack(">I", len(text)) + text.encode()


CHALLENGE = bytes(range(16))


def test_it_answers_the_challenge_with_des_of_the_bit_reversed_password():
    response = rfb.vnc_auth_response(CHALLENGE, "password")
    # The key VNC derives from "password": every byte's bits reversed (p=0x70 -> 0x0e, ...).
    key = bytes([0x0e, 0x86, 0xce, 0xce, 0xee, 0xf6, 0x4e, 0x26])
    decryptor = Cipher(TripleDES(key * 3), modes.ECB()).decryptor()
    assert decryptor.update(response) + decryptor.finalize() == CHALLENGE
    assert rfb.vnc_auth_response(CHALLENGE, "passwordTOOLONG") == response  # only 8 bytes count
    assert rfb.vnc_auth_response(CHALLENGE, "pw") != rfb.vnc_auth_response(CHALLENGE, "pw2")


async def test_it_authenticates_with_the_password_when_the_server_asks():
    server = Peer(b"RFB 003.008\n", bytes([2, 1, 2]), CHALLENGE, rfb.OK)
    await rfb.authenticate_to_server(server.read_exact, server.write, "password")
    assert bytes(server.written) == b"RFB 003.008\n" + bytes([2]) + rfb.vnc_auth_response(CHALLENGE, "password")


async def test_it_takes_security_none_without_a_password():
    server = Peer(b"RFB 003.008\n", bytes([2, 1, 2]), rfb.OK)
    await rfb.authenticate_to_server(server.read_exact, server.write, None)
    assert bytes(server.written) == b"RFB 003.008\n" + bytes([1])


async def test_it_speaks_3_7_to_an_older_server():
    server = Peer(b"RFB 003.007\n", bytes([1, 1]))
    await rfb.authenticate_to_server(server.read_exact, server.write, None)
    assert bytes(server.written) == b"RFB 003.007\n" + bytes([1])


@pytest.mark.parametrize(("script", "password", "refusal"), [
    ((b"RFB 003.008\n", bytes([1, 2]), CHALLENGE, b"\0\0\0\1", reason("Authentication failed")), "wrong",
     Refusal.AUTH_FAILED),
    ((b"RFB 003.008\n", bytes([1, 2])), None, Refusal.AUTH_FAILED),
    ((b"RFB 003.008\n", bytes([0]), reason("Too many connections")), None, Refusal.UNREACHABLE),
    ((b"RFB 003.008\n", bytes([2, 16, 19])), "pw", Refusal.PROTOCOL),
    ((b"RFB 003.003\n",), None, Refusal.PROTOCOL),
    ((b"HTTP/1.1 400 \n",), None, Refusal.PROTOCOL),
])
async def test_it_refuses_what_it_cannot_authenticate_to(script, password, refusal):
    server = Peer(*script)
    with pytest.raises(Refused) as refused:
        await rfb.authenticate_to_server(server.read_exact, server.write, password)
    assert refused.value.refusal == refusal
    if password:
        assert password.encode() not in refused.value.detail.encode()


async def test_it_offers_the_browser_security_none_only():
    browser = Peer(b"RFB 003.008\n", bytes([1]))
    await rfb.greet_browser(browser.read_exact, browser.write)
    assert bytes(browser.written) == b"RFB 003.008\n" + bytes([1, 1]) + rfb.OK


@pytest.mark.parametrize("script", [(b"RFB 003.008\n", bytes([2])), (b"RFB 004.000\n",), (b"GET / HTTP/1.1\r\n",)])
async def test_it_refuses_a_browser_that_wants_something_else(script):
    browser = Peer(*script)
    with pytest.raises(Refused) as refused:
        await rfb.greet_browser(browser.read_exact, browser.write)
    assert refused.value.refusal == Refusal.PROTOCOL
