// Conn is one logical connection to /ws that survives drops: when the socket
// closes it reopens with exponential backoff and jitter (0.5 s doubling to
// 16 s), and calls onOpen each time so the caller can send `resume`.

const BASE_MS = 500;
const MAX_MS = 16000;

export function wsURL() {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}/ws`;
}

export class Conn {
  constructor({ url = wsURL(), onOpen, onMessage, onStatus }) {
    this.url = url;
    this.onOpen = onOpen;
    this.onMessage = onMessage;
    this.onStatus = onStatus || (() => {});
    this.ws = null;
    this.attempt = 0;
    this.timer = 0;
    this.closed = false;
    this.retryAt = 0;
    this.wake = () => this.reconnectNow();
    window.addEventListener('online', this.wake);
  }

  get connected() {
    return !!this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  open() {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = 0;
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      this.schedule();
      return;
    }
    this.ws = ws;
    ws.addEventListener('open', () => {
      if (this.ws !== ws) return;
      this.onStatus('open');
      this.onOpen?.();
    });
    ws.addEventListener('message', (ev) => {
      if (this.ws !== ws) return;
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return; // the server only sends JSON; ignore anything else
      }
      if (msg && typeof msg.type === 'string') this.onMessage(msg);
    });
    ws.addEventListener('close', () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.closed) return;
      this.schedule();
    });
    // An error is always followed by close, which does the work.
  }

  // connected is reported by the caller once the server has answered with
  // `session`; that is when the backoff starts over.
  resetBackoff() {
    this.attempt = 0;
  }

  schedule() {
    if (this.closed || this.timer) return;
    const cap = Math.min(MAX_MS, BASE_MS * 2 ** this.attempt);
    this.attempt++;
    // Half fixed, half random: spreads a crowd of reconnecting pages out
    // after a server restart, yet never waits less than half the step.
    const delay = Math.round(cap / 2 + Math.random() * (cap / 2));
    this.retryAt = Date.now() + delay;
    this.onStatus('waiting', delay);
    this.timer = setTimeout(() => {
      this.timer = 0;
      this.onStatus('connecting');
      this.open();
    }, delay);
  }

  reconnectNow() {
    if (this.closed || this.connected) return;
    if (this.ws && this.ws.readyState === WebSocket.CONNECTING) return;
    clearTimeout(this.timer);
    this.timer = 0;
    this.open();
  }

  send(obj) {
    if (!this.connected) return false;
    this.ws.send(JSON.stringify(obj));
    return true;
  }

  // drop closes the current socket but keeps reconnecting; used when the
  // server says the socket is unusable.
  drop() {
    this.ws?.close();
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    window.removeEventListener('online', this.wake);
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000);
  }
}
