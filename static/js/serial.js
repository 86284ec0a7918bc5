// The serial console: xterm.js over /ws/instances/{id}/serial/ (libvirt's console stream).
import {Terminal} from "../vendor/xterm/xterm.mjs";
import {explainClose, fullScreen, onAction, openSocket, setStatus, showError} from "./console_common.js";

const screen = document.getElementById("console-screen");
const terminal = new Terminal({convertEol: false, cursorBlink: true, scrollback: 5000});
const encoder = new TextEncoder();
let socket = null;

terminal.open(screen);
terminal.onData((data) => {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(encoder.encode(data));
});

async function connect() {
  if (socket) socket.close();
  setStatus("connecting", "secondary");
  showError("");
  let current;
  try {
    current = await openSocket();
  } catch (error) {
    setStatus("closed", "danger");
    showError(error.message);
    return;
  }
  socket = current;
  current.addEventListener("open", () => {
    setStatus("connected", "success");
    terminal.focus();
  });
  current.addEventListener("message", (event) => terminal.write(new Uint8Array(event.data)));
  current.addEventListener("close", (event) => {
    if (socket !== current) return;
    setStatus("closed", "danger");
    showError(explainClose(event));
    socket = null;
  });
}

onAction("reconnect", connect);
fullScreen(screen);
connect();
