// The chat websocket (docs/websocket-protocol.md): one per tab. It reconnects by itself with backoff and
// tells the page when it is down and when it is back, so the page can resubscribe to its streams.
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000];
const PING_EVERY_MS = 25_000; // keeps idle proxies from closing the socket

export class ChatSocket {
  constructor({ onFrame, onOpen, onDown }) {
    this.url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/chat/`;
    this.onFrame = onFrame;
    this.onOpen = onOpen;
    this.onDown = onDown;
    this.attempt = 0;
    this.ws = null;
    this.timer = null;
    addEventListener("online", () => this.connectSoon(0));
  }

  get open() {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  connect() {
    clearTimeout(this.timer);
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.attempt = 0;
      this.pinger = setInterval(() => this.send({ type: "ping" }), PING_EVERY_MS);
      this.onOpen(this.reconnecting);
      this.reconnecting = false;
    });
    ws.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return; // not ours to show; the protocol only sends JSON objects
      }
      this.onFrame(frame);
    });
    ws.addEventListener("close", () => {
      if (this.ws !== ws) return;
      clearInterval(this.pinger);
      this.reconnecting = true;
      this.onDown();
      // Jittered, so the tabs of a crowd whose server restarted do not all come back in the same instant.
      const backoff = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
      this.connectSoon(backoff * (0.5 + Math.random()));
      this.attempt += 1;
    });
  }

  connectSoon(delay) {
    if (this.open || this.ws?.readyState === WebSocket.CONNECTING) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** Send a frame now; return false when the socket is down (the caller keeps it for the reconnect). */
  send(frame) {
    if (!this.open) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }
}
