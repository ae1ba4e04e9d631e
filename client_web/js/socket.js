// The WebSocket connection: connect, hand frames to the app, keep it alive,
// and reconnect with exponential backoff and jitter when it drops.
//
// The connection is "ready" once the server's `hello` frame has arrived.
// Close code 4001 means the session ended: no reconnect, the app signs out.
// Queuing of unacknowledged sends lives in the app (outbox.js): on every
// `ready` the app re-joins its room and re-sends what is still unacknowledged.

const BACKOFF_BASE_MS = 1000;
const BACKOFF_MAX_MS = 30000;
const STABLE_AFTER_MS = 10000; // a connection that lived this long resets the backoff
const PING_EVERY_MS = 25000;
const DEAD_AFTER_MS = 65000; // nothing heard for this long: assume the link is dead

export function wsUrl(loc = globalThis.location) {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}/ws`;
}

/** Full jitter between half and all of the capped exponential delay. */
export function backoffDelay(attempt, random = Math.random) {
  const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 16));
  return Math.round(cap / 2 + random() * (cap / 2));
}

export class Connection {
  /**
   * @param {{url?: string,
   *          onReady: (hello: object) => void,
   *          onFrame: (frame: object) => void,
   *          onDown: (info: {code: number, attempt: number, delayMs: number}) => void,
   *          onSessionEnded: () => void}} handlers
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.url = handlers.url || wsUrl();
    this.ws = null;
    this.ready = false;
    this.stopped = true;
    this.attempt = 0;
    this.readyAt = 0;
    this.lastHeardAt = 0;
    this.reconnectTimer = null;
    this.heartbeatTimer = null;
    this.pingSeq = 0;
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt = 0;
    this._open();
  }

  /** Close on purpose (logout, session ended): no reconnect. */
  stop() {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this._stopHeartbeat();
    const ws = this.ws;
    this.ws = null;
    this.ready = false;
    if (ws) {
      detach(ws);
      try {
        ws.close(1000, 'bye');
      } catch {
        /* already closed */
      }
    }
  }

  /** Skip the remaining backoff wait (e.g. the browser came back online). */
  reconnectNow() {
    if (this.stopped || this.ws) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this._open();
  }

  /** Send a frame if the connection is ready; returns false otherwise. */
  send(frame) {
    const ws = this.ws;
    if (!this.ready || !ws || ws.readyState !== WebSocket.OPEN) return false;
    try {
      ws.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  _open() {
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this._scheduleReconnect(0);
      return;
    }
    this.ws = ws;
    this.ready = false;
    this.lastHeardAt = Date.now();
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      this.lastHeardAt = Date.now();
      if (typeof ev.data !== 'string') return;
      let frame;
      try {
        frame = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (!frame || typeof frame !== 'object' || typeof frame.type !== 'string') return;
      if (frame.type === 'hello') {
        this.ready = true;
        this.readyAt = Date.now();
        this._startHeartbeat();
        this.handlers.onReady(frame);
        return;
      }
      if (frame.type === 'pong') return;
      this.handlers.onFrame(frame);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this._closed(ev.code);
    };
    ws.onerror = () => {
      /* a close event follows */
    };
  }

  _closed(code) {
    const wasReady = this.ready;
    this.ws = null;
    this.ready = false;
    this._stopHeartbeat();
    if (this.stopped) return;
    if (code === 4001) {
      this.stopped = true;
      this.handlers.onSessionEnded();
      return;
    }
    if (wasReady && Date.now() - this.readyAt > STABLE_AFTER_MS) this.attempt = 0;
    this._scheduleReconnect(code);
  }

  _scheduleReconnect(code) {
    const delayMs = backoffDelay(this.attempt);
    const attempt = this.attempt;
    this.attempt += 1;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.stopped && !this.ws) this._open();
    }, delayMs);
    this.handlers.onDown({ code, attempt, delayMs });
  }

  _startHeartbeat() {
    this._stopHeartbeat();
    this.heartbeatTimer = setInterval(() => {
      const ws = this.ws;
      if (!ws) return;
      if (Date.now() - this.lastHeardAt > DEAD_AFTER_MS) {
        // The link is silently dead (sleeping laptop, lost wifi): drop it now
        // rather than wait for the browser to notice.
        detach(ws);
        try {
          ws.close(4000, 'timeout');
        } catch {
          /* ignore */
        }
        this._closed(1006);
        return;
      }
      this.send({ type: 'ping', ref: `ping:${++this.pingSeq}` });
    }, PING_EVERY_MS);
  }

  _stopHeartbeat() {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }
}

function detach(ws) {
  ws.onmessage = null;
  ws.onclose = null;
  ws.onerror = null;
}
