// Session is the page's copy of one practice session: the event log keyed by
// seq (so a replay after a reconnect can never duplicate a line), the
// replies sent but not yet acknowledged, and the resume credentials. The
// credentials and the unacknowledged replies live in sessionStorage, so a
// reload or a dropped connection loses nothing: pending replies are resent
// with the same id and the server's idempotency does the rest.

import { Conn } from './conn.js';
import { newID } from './dom.js';

const STORE_KEY = 'sparring.session';
export const MAX_REPLY = 2000;

// Codes after which resending the same reply later can succeed.
const RETRYABLE = new Set(['rate_limited', 'unavailable', 'internal']);

export function loadStored() {
  try {
    const raw = sessionStorage.getItem(STORE_KEY);
    if (!raw) return null;
    const v = JSON.parse(raw);
    if (!v || typeof v.session !== 'string' || typeof v.token !== 'string') return null;
    return v;
  } catch {
    return null;
  }
}

export function clearStored() {
  try {
    sessionStorage.removeItem(STORE_KEY);
  } catch {
    // nothing stored
  }
}

export class Session {
  constructor({ onChange, onCustomerLine, onFatal, onStartError }) {
    this.onChange = onChange;
    this.onCustomerLine = onCustomerLine || (() => {});
    this.onFatal = onFatal || (() => {});
    this.onStartError = onStartError || (() => {});
    this.reset();
  }

  reset() {
    this.id = '';
    this.token = '';
    this.meta = null; // the last `session` message
    this.detail = null; // GET /api/scenarios/{id} in the session's language
    this.detailFor = '';
    this.events = new Map(); // seq -> event
    this.lastSeq = 0;
    this.pending = []; // [{id, text, status: 'sending'|'failed', error}]
    this.texts = {}; // reply id -> text, for acks from servers that omit it
    this.delta = null; // {turn, text} while the LLM streams
    this.connected = false;
    this.retryIn = 0;
    this.everConnected = false;
    this.startReq = null;
    this.notice = '';
    this.lastError = '';
    this.trainee = '';
    this.conn?.close();
    this.conn = null;
  }

  // start opens a socket and asks for a new session.
  start(req) {
    this.reset();
    this.startReq = req;
    this.trainee = req.trainee;
    this.openConn();
  }

  // resume re-attaches to a stored session. A fresh page has no events in
  // memory, so it asks for the whole log (after=0); a reconnect within the
  // page asks only for what it has not seen.
  resume(stored) {
    this.reset();
    this.id = stored.session;
    this.token = stored.token;
    this.pending = Array.isArray(stored.pending)
      ? stored.pending.filter((p) => p && typeof p.id === 'string' && typeof p.text === 'string').map((p) => ({ id: p.id, text: p.text, status: 'sending' }))
      : [];
    this.texts = stored.texts && typeof stored.texts === 'object' ? stored.texts : {};
    this.trainee = typeof stored.trainee === 'string' ? stored.trainee : '';
    this.openConn();
  }

  openConn() {
    this.conn = new Conn({
      onOpen: () => this.handshake(),
      onMessage: (m) => this.handle(m),
      onStatus: (st, delay) => {
        this.connected = false;
        this.retryIn = st === 'waiting' ? delay : 0;
        this.onChange();
      },
    });
    this.conn.open();
  }

  handshake() {
    if (this.id) {
      this.conn.send({ type: 'resume', session: this.id, token: this.token, after: this.lastSeq });
    } else if (this.startReq) {
      this.conn.send({ type: 'start', ...this.startReq });
    }
  }

  persist() {
    if (!this.id) return;
    try {
      sessionStorage.setItem(
        STORE_KEY,
        JSON.stringify({
          session: this.id,
          token: this.token,
          lastSeq: this.lastSeq,
          pending: this.pending.filter((p) => p.status !== 'failed').map(({ id, text }) => ({ id, text })),
          texts: this.texts,
          trainee: this.trainee,
        }),
      );
    } catch {
      // storage full or disabled: the live connection still works
    }
  }

  get state() {
    return this.meta?.state === 'ended' || this.endEvent() ? 'ended' : 'active';
  }

  sorted() {
    return [...this.events.values()].sort((a, b) => a.seq - b.seq);
  }

  endEvent() {
    for (const e of this.events.values()) if (e.type === 'end') return e;
    return null;
  }

  reportEvent() {
    for (const e of this.events.values()) if (e.type === 'report') return e;
    return null;
  }

  customers() {
    return this.sorted().filter((e) => e.type === 'customer');
  }

  acks() {
    return this.sorted().filter((e) => e.type === 'ack');
  }

  feedbackByTurn() {
    const m = new Map();
    for (const e of this.events.values()) if (e.type === 'feedback') m.set(e.turn, e);
    return m;
  }

  mood() {
    const cs = this.customers();
    const last = cs[cs.length - 1];
    return last?.mood || null;
  }

  turn() {
    let n = 0;
    for (const e of this.events.values()) if (e.type === 'ack') n = Math.max(n, e.turn);
    return n;
  }

  // waiting is true while the customer owes an answer.
  waiting() {
    if (this.state === 'ended') return false;
    if (this.pending.some((p) => p.status === 'sending')) return true;
    let lastCustomer = -1;
    for (const e of this.events.values()) if (e.type === 'customer') lastCustomer = Math.max(lastCustomer, e.turn);
    return this.turn() > lastCustomer;
  }

  replyText(ack) {
    return ack.text ?? this.texts[ack.id] ?? '';
  }

  handle(m) {
    switch (m.type) {
      case 'session':
        this.onSession(m);
        break;
      case 'customer':
      case 'ack':
      case 'feedback':
      case 'end':
      case 'report':
        this.onEvent(m);
        break;
      case 'delta':
        if (!this.delta || this.delta.turn !== m.turn) this.delta = { turn: m.turn, text: '' };
        this.delta.text += String(m.text ?? '');
        break;
      case 'error':
        this.onError(m);
        break;
      default:
        // Leaderboards and future types are not for this page, but a
        // session event still counts as seen so a resume does not replay it.
        if (Number.isInteger(m.seq) && m.seq > this.lastSeq) {
          this.lastSeq = m.seq;
          this.persist();
        }
        return;
    }
    this.onChange();
  }

  onSession(m) {
    const resumed = this.everConnected;
    this.meta = m;
    this.id = m.session;
    this.token = m.token || this.token;
    this.startReq = null;
    this.connected = true;
    this.retryIn = 0;
    this.everConnected = true;
    this.conn.resetBackoff();
    this.notice = resumed ? 'conn.resumed' : '';
    if (resumed) {
      // Say it long enough to be read, then get out of the way.
      clearTimeout(this.noticeTimer);
      this.noticeTimer = setTimeout(() => {
        if (this.notice === 'conn.resumed') {
          this.notice = '';
          this.onChange();
        }
      }, 6000);
    }
    this.persist();
    // Anything not acknowledged goes again with the same id: the server
    // either stores it now or answers with what it already produced.
    for (const p of this.pending) {
      if (p.status === 'sending') this.conn.send({ type: 'reply', id: p.id, text: p.text });
    }
  }

  onEvent(m) {
    const seq = Number(m.seq);
    if (!Number.isInteger(seq) || seq < 1) return;
    if (this.events.has(seq)) return; // replayed or answered twice
    if (m.type === 'ack') {
      const i = this.pending.findIndex((p) => p.id === m.id);
      if (i >= 0) {
        if (m.text == null) this.texts[m.id] = this.pending[i].text;
        this.pending.splice(i, 1);
      }
    }
    this.events.set(seq, m);
    this.lastSeq = Math.max(this.lastSeq, seq);
    this.lastError = ''; // the session moved on; an old error no longer applies
    if (m.type === 'customer') {
      if (this.delta && this.delta.turn <= m.turn) this.delta = null;
      this.onCustomerLine(m);
    }
    if (m.type === 'end' && this.meta) this.meta = { ...this.meta, state: 'ended' };
    this.persist();
  }

  onError(m) {
    const code = String(m.code || '');
    if (!this.id) {
      // The start itself failed (e.g. the LLM engine is unavailable).
      this.startReq = null;
      this.conn?.close();
      this.conn = null;
      this.onStartError(m);
      return;
    }
    if (code === 'bad_token' || (code === 'no_session' && !this.meta) || code === 'scenario_not_found') {
      this.conn?.close();
      this.onFatal(m);
      return;
    }
    if (m.ref) {
      const p = this.pending.find((x) => x.id === m.ref);
      if (p) {
        p.status = 'failed';
        p.error = String(m.message || code);
        p.retryable = RETRYABLE.has(code);
        this.persist();
        return;
      }
    }
    if (code === 'session_ended' && this.meta) {
      this.meta = { ...this.meta, state: 'ended' };
      for (const p of this.pending) {
        p.status = 'failed';
        p.error = String(m.message || code);
      }
    }
    this.notice = '';
    this.lastError = String(m.message || code);
  }

  // send queues a reply; it is stored before it is sent so a crash or a drop
  // between the two cannot lose it.
  send(text) {
    const id = newID();
    this.pending.push({ id, text, status: 'sending' });
    this.persist();
    this.conn?.send({ type: 'reply', id, text });
    this.onChange();
    return id;
  }

  retry(id) {
    const p = this.pending.find((x) => x.id === id);
    if (!p) return;
    p.status = 'sending';
    p.error = '';
    this.persist();
    this.conn?.send({ type: 'reply', id: p.id, text: p.text });
    this.onChange();
  }

  discard(id) {
    this.pending = this.pending.filter((x) => x.id !== id);
    this.persist();
    this.onChange();
  }

  end() {
    this.conn?.send({ type: 'end' });
  }

  close() {
    this.conn?.close();
    this.conn = null;
  }

  // exportJSON is the scorecard download: the session as the trainee saw it.
  exportJSON() {
    const meta = this.meta || {};
    return {
      session: this.id,
      trainee: meta.trainee ?? this.trainee ?? undefined,
      mode: meta.mode,
      engine: meta.engine,
      lang: meta.lang,
      scenario: meta.scenario,
      persona: meta.persona,
      report: this.reportEvent()?.report ?? null,
      events: this.sorted(),
    };
  }
}
