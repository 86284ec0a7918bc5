// The graphical console: noVNC over virtdeck's websocket proxy (/ws/instances/{id}/vnc/).
import RFB from "../vendor/novnc/core/rfb.js";
import KeyTable from "../vendor/novnc/core/input/keysym.js";
import {config, explainClose, fullScreen, onAction, openSocket, setStatus, showError} from "./console_common.js";

const screen = document.getElementById("console-screen");
const scale = document.getElementById("console-scale");
const pasteBox = document.getElementById("console-paste");
let rfb = null;

async function connect() {
  if (rfb) {
    rfb.disconnect();
    rfb = null;
  }
  setStatus("connecting", "secondary");
  showError("");
  let socket;
  try {
    socket = await openSocket();
  } catch (error) {
    setStatus("closed", "danger");
    showError(error.message);
    return;
  }
  let closeEvent = null;
  socket.addEventListener("close", (event) => { closeEvent = event; });
  const session = new RFB(screen, socket);
  rfb = session;
  session.scaleViewport = scale.checked;
  session.addEventListener("connect", () => {
    setStatus("connected", "success");
    session.focus();
  });
  session.addEventListener("disconnect", () => {
    if (rfb !== session) return; // replaced by a reconnect
    setStatus("closed", "danger");
    showError(explainClose(closeEvent));
    rfb = null;
  });
}

// Keysym of one character: Latin-1 as is, the rest as Unicode keysyms (X11's 0x01000000 + code point).
function keysymOf(character) {
  const code = character.codePointAt(0);
  if (character === "\n") return KeyTable.XK_Return;
  if (character === "\t") return KeyTable.XK_Tab;
  return (code >= 0x20 && code <= 0xff) ? code : 0x01000000 + code;
}

function pressCombo(names) {
  const keysyms = names.split(" ").map((name) => KeyTable[name]);
  keysyms.forEach((keysym) => rfb.sendKey(keysym, null, true));
  keysyms.slice().reverse().forEach((keysym) => rfb.sendKey(keysym, null, false));
}

onAction("ctrl-alt-del", () => rfb && rfb.sendCtrlAltDel());
onAction("keys", (button) => rfb && pressCombo(button.dataset.keys));
onAction("type", () => {
  if (!rfb) return;
  for (const character of pasteBox.value) rfb.sendKey(keysymOf(character));
  rfb.focus();
});
onAction("clipboard", () => {
  if (!rfb) return;
  rfb.clipboardPasteFrom(pasteBox.value);
  showError("");
  setStatus("clipboard_sent", "success");
});
onAction("reconnect", connect);
fullScreen(screen);
scale.addEventListener("change", () => { if (rfb) rfb.scaleViewport = scale.checked; });

connect();
