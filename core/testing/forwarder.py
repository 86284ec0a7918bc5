"""A TCP forwarder for fault tests, run as its own process so tests can freeze it.

    python -m core.testing.forwarder LISTEN_PORT TARGET_PORT

Forwards 127.0.0.1:LISTEN_PORT to 127.0.0.1:TARGET_PORT. SIGSTOP/SIGCONT freeze
and resume it (the kernel still accepts connections into the backlog, so peers
see a host that answers TCP and then says nothing); SIGUSR1 resets every
connection it holds (RST to both sides), as a flaky network would.
"""
import asyncio
import signal
import socket
import struct
import sys


async def _pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()


async def serve(listen_port, target_port):
    held = set()

    async def handle(client_reader, client_writer):
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", target_port)
        except OSError:
            client_writer.close()
            return
        pair = (client_writer, upstream_writer)
        held.add(pair)
        try:
            await asyncio.gather(_pipe(client_reader, upstream_writer), _pipe(upstream_reader, client_writer))
        finally:
            held.discard(pair)

    def reset_all():
        for pair in list(held):
            for writer in pair:
                sock = writer.get_extra_info("socket")
                if sock is not None:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
        held.clear()

    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, reset_all)
    server = await asyncio.start_server(handle, "127.0.0.1", listen_port, backlog=128)
    print(f"forwarding 127.0.0.1:{listen_port} -> 127.0.0.1:{target_port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), int(sys.argv[2])))
