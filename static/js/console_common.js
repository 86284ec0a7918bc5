// What the graphical and serial console pages share: tickets, the websocket URL, status and close codes.
export const config = JSON.parse(document.getElementById("console-config").textContent);
const statusBadge = document.getElementById("console-status");
const errorBox = document.getElementById("console-error");

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export function setStatus(key, style) {
  statusBadge.textContent = config.messages[key] || key;
  statusBadge.className = `badge text-bg-${style}`;
}

export function showError(message) {
  errorBox.textContent = message;
  errorBox.classList.toggle("d-none", !message);
}

// A fresh single-use ticket for every connection, then the websocket that carries it.
export async function openSocket() {
  const response = await fetch(config.ticket_url, {
    method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken()},
    body: JSON.stringify({kind: config.kind}),
  });
  if (!response.ok) {
    let reason = response.statusText;
    try { reason = JSON.stringify(await response.json()); } catch (e) { /* not JSON */ }
    throw new Error(config.messages.ticket_failed.replace("%(reason)s", reason));
  }
  const ticket = await response.json();
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const url = `${scheme}//${location.host}${ticket.ws_path}?ticket=${encodeURIComponent(ticket.ticket)}`;
  const socket = new WebSocket(url, ["binary"]);
  socket.binaryType = "arraybuffer";
  return socket;
}

// What a close code means, for the user (console/refusals.py).
export function explainClose(event) {
  if (!event || event.code === 1000) return "";
  return config.refusals[String(event.code)] || config.messages.lost;
}

export function onAction(name, handler) {
  for (const button of document.querySelectorAll(`[data-console="${name}"]`)) {
    button.addEventListener("click", () => handler(button));
  }
}

export function fullScreen(element) {
  onAction("fullscreen", () => element.requestFullscreen && element.requestFullscreen());
}
