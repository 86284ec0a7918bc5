"""The RFB (VNC) handshake on both sides of the console proxy (RFC 6143, sections 7.1 and 7.2).

virtdeck authenticates to the VM's VNC server itself (security type 2, VNC authentication, when the
VM has a password; type 1, None, otherwise) and offers the browser security type None only, so the
password never leaves the server. Once both handshakes are done, ClientInit, ServerInit and every
later message pass through unchanged.
"""
import struct

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from .refusals import Refusal, Refused

VERSION_38 = b"RFB 003.008\n"
VERSION_37 = b"RFB 003.007\n"
SECURITY_NONE = 1
SECURITY_VNC = 2
OK = struct.pack(">I", 0)
MAX_REASON = 4096  # bytes of a failure reason read from the server


def _reverse_bits(byte):
    return int(f"{byte:08b}"[::-1], 2)


def vnc_auth_response(challenge, password):
    """The answer to a VNC authentication challenge: the 16 bytes DES-encrypted (ECB) with the password.

    The key is the password's first 8 bytes, zero-padded, each byte's bits reversed (as the original
    VNC code used DES). Triple DES with three equal keys is single DES.
    """
    key = bytes(_reverse_bits(b) for b in password.encode("latin-1", "replace")[:8].ljust(8, b"\0"))
    encryptor = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()  # nosec B305 - RFB type 2 is DES-ECB by definition
    return encryptor.update(challenge) + encryptor.finalize()


async def _reason(read_exact):
    (length,) = struct.unpack(">I", await read_exact(4))
    return (await read_exact(min(length, MAX_REASON))).decode("utf-8", "replace")


async def authenticate_to_server(read_exact, write, password):
    """The client half of the handshake, with the VM's VNC server. Refused(AUTH_FAILED / PROTOCOL)."""
    version = await read_exact(12)
    if version >= VERSION_38 and version.startswith(b"RFB 003."):
        ours = VERSION_38
    elif version == VERSION_37:
        ours = VERSION_37
    else:
        raise Refused(Refusal.PROTOCOL, f"server version {version[:12]!r}")
    await write(ours)
    (count,) = await read_exact(1)
    if count == 0:
        raise Refused(Refusal.UNREACHABLE, f"VNC server refused the connection: {await _reason(read_exact)}")
    offered = set(await read_exact(count))
    if password and SECURITY_VNC in offered:
        chosen = SECURITY_VNC
    elif SECURITY_NONE in offered:
        chosen = SECURITY_NONE
    elif SECURITY_VNC in offered:
        raise Refused(Refusal.AUTH_FAILED, "the VNC server wants a password and the VM's XML has none")
    else:
        raise Refused(Refusal.PROTOCOL, f"no supported security type among {sorted(offered)}")
    await write(bytes([chosen]))
    if chosen == SECURITY_VNC:
        challenge = await read_exact(16)
        await write(vnc_auth_response(challenge, password))
    elif ours == VERSION_37:
        return  # 3.7 sends no SecurityResult for None
    result = await read_exact(4)
    if result != OK:
        reason = await _reason(read_exact) if ours == VERSION_38 else ""
        raise Refused(Refusal.AUTH_FAILED, f"VNC authentication failed: {reason}")


async def greet_browser(read_exact, write):
    """The server half of the handshake, with the browser: version 3.8, security type None only."""
    await write(VERSION_38)
    version = await read_exact(12)
    if version not in (VERSION_38, VERSION_37):
        raise Refused(Refusal.PROTOCOL, f"browser version {version!r}")
    await write(bytes([1, SECURITY_NONE]))
    if (await read_exact(1))[0] != SECURITY_NONE:
        raise Refused(Refusal.PROTOCOL, "the browser chose another security type than None")
    if version == VERSION_38:
        await write(OK)
