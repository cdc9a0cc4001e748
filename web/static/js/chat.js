// The chat view: transcript, composer, state bar, mood meter with its
// explained moves, and the coach panel. It is re-rendered from the Session
// model on every change, so a replay can never leave a duplicate behind.

import { h, s, clear, $, signed, clampPct, fmtDuration } from './dom.js';
import { t, pick, label } from './i18n.js';
import { briefList } from './picker.js';
import { MAX_REPLY } from './session.js';

const STEPS = ['receive', 'understand', 'help', 'agree', 'retain'];

export class ChatView {
  constructor(root, { session, onEnd, onShowReport }) {
    this.root = root;
    this.session = session;
    this.onEnd = onEnd;
    this.onShowReport = onShowReport;
    this.pinnedMove = null; // index into the flattened moves
    this.lastSig = '';
    this.transcript = $('#transcript', root);
    this.reply = $('#reply', root);
    this.notice = $('#chat-notice', root);
    this.composer = $('#composer', root);
    this.endedBar = $('#ended-bar', root);
    this.briefBox = $('#chat-brief', root);
    this.briefToggle = $('#brief-toggle', root);

    this.composer.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.submit();
    });
    this.reply.addEventListener('keydown', (ev) => {
      // Enter sends; Shift+Enter is a newline; never send in the middle of
      // an IME composition (Chinese input confirms candidates with Enter).
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
        ev.preventDefault();
        this.submit();
      }
    });
    // Some input paths (synthetic key events, a few IMEs) deliver Enter's
    // character separately from its keydown; never let it add a line there.
    this.reply.addEventListener('keypress', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey) ev.preventDefault();
    });
    this.reply.addEventListener('input', () => this.autosize());
    $('#end', root).addEventListener('click', () => {
      if (this.session.state === 'ended') return;
      if (!window.confirm(t('chat.end.confirm'))) return;
      onEnd();
    });
    $('#to-report', root).addEventListener('click', () => this.onShowReport());
    this.briefToggle.addEventListener('click', () => {
      const open = this.briefBox.hidden;
      this.briefBox.hidden = !open;
      this.briefToggle.setAttribute('aria-expanded', String(open));
      this.briefToggle.textContent = t(open ? 'brief.hide' : 'brief.show');
    });
  }

  autosize() {
    const el = this.reply;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight + 2, 220)}px`;
  }

  submit() {
    const text = this.reply.value.trim();
    if (!text || this.session.state === 'ended') return;
    if ([...text].length > MAX_REPLY) {
      this.notice.textContent = t('chat.tooLong');
      return;
    }
    this.reply.value = '';
    this.autosize();
    this.stickToBottom = true;
    this.session.send(text);
    this.reply.focus();
  }

  customerName() {
    return customerName(this.session);
  }

  render() {
    const se = this.session;
    const meta = se.meta || {};
    const root = this.root;
    root.dataset.state = se.state;
    root.dataset.connected = se.connected ? '1' : '0';
    root.dataset.seq = String(se.lastSeq);
    root.dataset.waiting = se.waiting() ? '1' : '0';
    root.dataset.turn = String(se.turn());
    root.dataset.pending = String(se.pending.length);
    root.dataset.mode = meta.mode || '';
    root.dataset.report = se.reportEvent() ? '1' : '0';

    const title = $('#chat-title', root);
    title.textContent = pick(meta.scenario?.title, meta.lang);
    title.lang = meta.lang === 'zh' ? 'zh-CN' : meta.lang || '';
    this.renderBrief();
    this.renderStatebar();
    this.renderTranscript();
    this.renderFoot();
    this.renderMood();
    this.renderCoach();
  }

  renderBrief() {
    const meta = this.session.meta || {};
    // The structured brief from the API reads better than the session
    // frame's plain-text one; use it once it has arrived.
    const brief = this.session.detail?.brief || meta.scenario?.brief;
    clear(this.briefBox);
    if (!brief) {
      this.briefToggle.hidden = true;
      return;
    }
    this.briefToggle.hidden = false;
    this.briefToggle.textContent = t(this.briefBox.hidden ? 'brief.show' : 'brief.hide');
    if (typeof brief === 'string') this.briefBox.append(h('p', null, brief));
    else this.briefBox.append(briefList(brief, meta.lang, 'chat-brief'));
  }

  renderStatebar() {
    const se = this.session;
    const meta = se.meta || {};
    const bar = $('#statebar', this.root);
    clear(bar);
    const item = (key, value, attrs = {}) => h('div', { class: 'state-item', ...attrs }, h('dt', null, t(key)), h('dd', null, value));
    const max = Number(meta.scenario?.max_turns) || 0;
    const n = se.turn();
    bar.append(item('chat.turnLabel', max ? `${n} / ${max}` : String(n), { 'data-testid': 'state-turn' }));
    bar.append(item('chat.mode', `${t(`mode.${meta.mode || 'coach'}`)} · ${t(`engine.${meta.engine || 'scripted'}`)}`, { 'data-testid': 'state-mode' }));
    const end = se.endEvent();
    const outcome = end ? label('outcome', end.outcome) : t('chat.state.active');
    bar.append(
      item('chat.state', h('span', { class: `badge ${end ? `outcome-${end.outcome}` : 'badge-live'}` }, outcome), {
        'data-testid': 'state-outcome',
        'data-outcome': end?.outcome || '',
      }),
    );
    if (meta.deadline) {
      const cd = item('chat.timeLeft', h('span', { id: 'countdown', 'data-testid': 'countdown' }, ''), { class: 'state-item state-time' });
      bar.append(cd);
      this.tick();
    }
  }

  // tick refreshes the countdown; the app calls it every second.
  tick() {
    const el = $('#countdown', this.root);
    const meta = this.session.meta;
    if (!el || !meta?.deadline) return;
    const ms = Date.parse(meta.deadline) - Date.now();
    const left = this.session.state === 'ended' ? Math.max(0, ms) : ms;
    const secs = Math.max(0, Math.ceil(left / 1000));
    el.textContent = fmtDuration(secs);
    el.dataset.seconds = String(secs);
    el.classList.toggle('urgent', secs <= 60 && this.session.state !== 'ended');
    // The server refuses replies after the deadline but does not close the
    // conversation by itself; when time is up the page closes it, once,
    // and the scorecard follows.
    if (secs === 0 && this.session.state === 'active' && this.session.connected && this.timeUpFor !== this.session.id) {
      this.timeUpFor = this.session.id;
      this.notice.textContent = t('chat.timeUp');
      this.onEnd();
    }
  }

  renderTranscript() {
    const se = this.session;
    const list = this.transcript;
    const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    // On a phone the page scrolls rather than the list; follow the
    // conversation there too unless the trainee has scrolled up to read.
    const mainRect = $('.chat-main', this.root).getBoundingClientRect();
    const pageNearBottom = mainRect.bottom <= window.innerHeight + 160;
    const coach = se.meta?.mode !== 'exam';
    const feedback = se.feedbackByTurn();
    const name = this.customerName();
    const convLang = se.meta?.lang === 'zh' ? 'zh-CN' : se.meta?.lang || '';
    const items = [];
    for (const e of se.sorted()) {
      if (e.type === 'customer') {
        items.push(
          h(
            'li',
            { class: 'msg msg-customer', 'data-testid': 'msg', 'data-role': 'customer', 'data-seq': e.seq, 'data-turn': e.turn },
            h('div', { class: 'msg-who' }, name),
            h('div', { class: 'bubble', lang: convLang }, String(e.text ?? '')),
          ),
        );
      } else if (e.type === 'ack') {
        const fb = coach ? feedback.get(e.turn) : null;
        items.push(
          h(
            'li',
            { class: 'msg msg-trainee', 'data-testid': 'msg', 'data-role': 'trainee', 'data-seq': e.seq, 'data-turn': e.turn, 'data-id': e.id },
            h('div', { class: 'msg-who' }, `${t('chat.you')} · ${t('chat.turn', { n: e.turn })}`),
            h('div', { class: 'bubble', lang: convLang }, se.replyText(e)),
            fb ? feedbackLine(fb) : null,
          ),
        );
      } else if (e.type === 'end') {
        items.push(
          h(
            'li',
            { class: 'msg msg-system', 'data-testid': 'msg-end', 'data-seq': e.seq },
            h('span', { class: `badge outcome-${e.outcome}` }, label('outcome', e.outcome)),
            e.reason ? h('span', { class: 'muted' }, String(e.reason)) : null,
          ),
        );
      }
    }
    for (const p of se.pending) {
      const failed = p.status === 'failed';
      items.push(
        h(
          'li',
          { class: `msg msg-trainee msg-pending${failed ? ' msg-failed' : ''}`, 'data-testid': 'msg', 'data-role': 'trainee', 'data-pending': '1', 'data-id': p.id },
          h('div', { class: 'msg-who' }, `${t('chat.you')} · ${failed ? '' : t('chat.sending')}`),
          h('div', { class: 'bubble', lang: convLang }, p.text),
          failed
            ? h(
                'div',
                { class: 'msg-error', role: 'alert' },
                t('chat.notSent', { msg: p.error || '' }),
                p.retryable !== false && se.state !== 'ended'
                  ? h('button', { type: 'button', class: 'btn btn-small', onclick: () => se.retry(p.id) }, t('chat.retry'))
                  : null,
              )
            : null,
        ),
      );
    }
    if (se.delta && se.state !== 'ended') {
      items.push(
        h(
          'li',
          { class: 'msg msg-customer msg-streaming', 'data-testid': 'msg-streaming', 'aria-hidden': 'true' },
          h('div', { class: 'msg-who' }, name),
          h('div', { class: 'bubble', lang: convLang }, se.delta.text),
        ),
      );
    } else if (se.waiting()) {
      items.push(
        h(
          'li',
          { class: 'typing', 'data-testid': 'typing' },
          h('span', { class: 'dots-anim', 'aria-hidden': 'true' }, h('span'), h('span'), h('span')),
          h('span', { class: 'typing-text' }, t('chat.typing', { name })),
        ),
      );
    }
    list.replaceChildren(...items);
    if (nearBottom || this.stickToBottom) list.scrollTop = list.scrollHeight;
    // What the trainee would call "something new": a stored event, a reply
    // sent, more streamed text.
    const sig = `${se.lastSeq}:${se.pending.length}:${se.delta?.text.length || 0}`;
    if (list.scrollHeight <= list.clientHeight + 1 && (pageNearBottom || this.stickToBottom) && sig !== this.lastSig) {
      // Bring the newest line to just above the (sticky) composer.
      $('.chat-main', this.root).scrollIntoView({ block: 'end' });
    }
    this.lastSig = sig;
    this.stickToBottom = false;
    this.highlightMove();
  }

  renderFoot() {
    const se = this.session;
    const ended = se.state === 'ended';
    this.composer.hidden = ended;
    this.endedBar.hidden = !ended;
    if (ended) {
      const end = se.endEvent();
      $('#ended-text', this.root).textContent = end ? t('chat.ended', { outcome: label('outcome', end.outcome) }) : t('chat.state.ended');
      const btn = $('#to-report', this.root);
      const ready = !!se.reportEvent();
      btn.disabled = !ready;
      btn.textContent = ready ? t('chat.viewReport') : t('chat.waitReport');
    }
    let note = '';
    if (!se.connected && se.everConnected) {
      note = se.retryIn ? t('conn.offlineIn', { s: Math.max(1, Math.round(se.retryIn / 1000)) }) : t('conn.offline');
    } else if (se.lastError) {
      note = t('err.generic', { msg: se.lastError });
    } else if (se.notice) {
      note = t(se.notice);
    }
    this.notice.textContent = note;
    this.notice.dataset.kind = !se.connected && se.everConnected ? 'offline' : se.lastError ? 'error' : 'info';
  }

  // moves flattens the mood moves of every customer line, oldest first.
  moves() {
    const out = [];
    for (const c of this.session.customers()) {
      for (const m of Array.isArray(c.moves) ? c.moves : []) out.push({ ...m, seq: c.seq });
    }
    return out;
  }

  renderMood() {
    const se = this.session;
    const mood = se.mood();
    const customers = se.customers();
    const prev = customers.length > 1 ? customers[customers.length - 2].mood : null;
    const meters = $('#meters', this.root);
    clear(meters);
    for (const key of ['anger', 'trust']) {
      const v = mood ? clampPct(mood[key]) : 0;
      const d = mood && prev ? clampPct(mood[key]) - clampPct(prev[key]) : 0;
      const fill = h('div', { class: `fill fill-${key}` });
      fill.style.width = `${v}%`;
      meters.append(
        h(
          'div',
          { class: `meter meter-${key}` },
          h(
            'div',
            { class: 'meter-head' },
            h('span', { class: 'meter-label', id: `meter-${key}-label` }, t(`mood.${key}`)),
            h('span', { class: 'meter-value' }, mood ? String(v) : '–', d ? h('span', { class: `meter-delta ${deltaClass(key, d)}` }, ` ${signed(d)}`) : null),
          ),
          h(
            'div',
            {
              class: 'track',
              role: 'meter',
              'aria-labelledby': `meter-${key}-label`,
              'aria-valuemin': '0',
              'aria-valuemax': '100',
              'aria-valuenow': String(v),
              'data-testid': `meter-${key}`,
              'data-value': mood ? String(v) : '',
            },
            fill,
          ),
        ),
      );
    }
    this.renderMoodChart(customers);

    const list = $('#moves', this.root);
    clear(list);
    // In exam mode the meter still moves (the customer's mood is visible
    // to anyone in the room) but what moved it is feedback, kept for the end.
    const exam = se.meta?.mode === 'exam';
    $('.moves-title', this.root).hidden = exam;
    list.hidden = exam;
    $('#move-detail', this.root).hidden = exam;
    const moves = exam ? [] : this.moves();
    if (!moves.length && !exam) {
      list.append(h('li', { class: 'muted small' }, t('mood.noMoves')));
    }
    moves.forEach((m, i) => {
      const sig = label('sig', m.signal);
      const btn = h(
        'button',
        {
          type: 'button',
          class: `move${this.pinnedMove === i ? ' pinned' : ''}`,
          'data-testid': 'move',
          'data-turn': m.turn,
          'data-signal': m.signal,
          'aria-pressed': this.pinnedMove === i ? 'true' : 'false',
          'aria-label': t('mood.moveLabel', { turn: m.turn, signal: sig, anger: signed(m.anger), trust: signed(m.trust) }),
          'aria-describedby': 'move-detail',
          'data-idx': i,
          onclick: () => {
            this.pinnedMove = this.pinnedMove === i ? null : i;
            this.renderMood();
            // The list was rebuilt; keep keyboard focus on the same move.
            $(`[data-testid="move"][data-idx="${i}"]`, this.root)?.focus();
          },
          onmouseenter: () => this.showMove(i),
          onmouseleave: () => this.showMove(this.pinnedMove),
          onfocus: () => this.showMove(i),
          onblur: () => this.showMove(this.pinnedMove),
        },
        h('span', { class: 'mv-turn' }, `T${m.turn}`),
        h('span', { class: 'mv-sig' }, sig),
        h(
          'span',
          { class: 'mv-ds' },
          m.anger ? h('span', { class: `mv-d ${deltaClass('anger', m.anger)}` }, `${t('mood.anger')} ${signed(m.anger)}`) : null,
          m.trust ? h('span', { class: `mv-d ${deltaClass('trust', m.trust)}` }, `${t('mood.trust')} ${signed(m.trust)}`) : null,
        ),
      );
      list.prepend(h('li', null, btn)); // newest first: the latest move is the one worth seeing
    });
    this.showMove(this.pinnedMove);
  }

  renderMoodChart(customers) {
    const box = $('#mood-chart', this.root);
    clear(box);
    const pts = customers.filter((c) => c.mood);
    if (pts.length < 2) return;
    const W = 260;
    const H = 64;
    const pad = 4;
    const x = (i) => pad + (i * (W - 2 * pad)) / (pts.length - 1);
    const y = (v) => pad + ((100 - clampPct(v)) * (H - 2 * pad)) / 100;
    const line = (key) => pts.map((c, i) => `${x(i).toFixed(1)},${y(c.mood[key]).toFixed(1)}`).join(' ');
    const svg = s(
      'svg',
      { viewBox: `0 0 ${W} ${H}`, class: 'spark', role: 'img', 'aria-label': t('mood.chart'), preserveAspectRatio: 'none' },
      s('line', { x1: pad, x2: W - pad, y1: H / 2, y2: H / 2, class: 'spark-mid' }),
      s('polyline', { points: line('anger'), class: 'spark-anger' }),
      s('polyline', { points: line('trust'), class: 'spark-trust' }),
    );
    box.append(svg);
  }

  showMove(i) {
    const box = $('#move-detail', this.root);
    clear(box);
    const moves = this.moves();
    const m = i == null ? null : moves[i];
    this.hoverTurn = m ? m.turn : null;
    this.highlightMove();
    if (!m) {
      if (moves.length) box.append(h('p', { class: 'muted small' }, t('mood.detail.hint')));
      box.dataset.turn = '';
      return;
    }
    box.dataset.turn = String(m.turn);
    const ack = this.session.acks().find((a) => a.turn === m.turn);
    const fb = this.session.feedbackByTurn().get(m.turn);
    const sigInfo = fb?.signals?.find((x) => x.code === m.signal);
    box.append(
      h('p', { class: 'md-head' }, t('chat.turn', { n: m.turn }), ' · ', h('strong', null, label('sig', m.signal)), sigInfo ? ` (${sigInfo.polarity})` : ''),
      ack ? h('blockquote', { class: 'md-reply', lang: this.session.meta?.lang === 'zh' ? 'zh-CN' : 'en' }, this.session.replyText(ack)) : null,
      // The evidence is worth showing only when it is a part of the reply.
      sigInfo?.evidence && (!ack || sigInfo.evidence.trim() !== this.session.replyText(ack).trim())
        ? h('p', { class: 'small' }, `${t('report.evidence')}${t('colon')}“${sigInfo.evidence}”`)
        : null,
      h(
        'p',
        { class: 'small' },
        h('span', { class: deltaClass('anger', m.anger) }, `${t('mood.anger')} ${signed(m.anger)}`),
        ' · ',
        h('span', { class: deltaClass('trust', m.trust) }, `${t('mood.trust')} ${signed(m.trust)}`),
      ),
      m.note ? h('p', { class: 'small muted' }, String(m.note)) : null,
    );
  }

  // highlightMove marks the reply that caused the hovered or pinned move.
  highlightMove() {
    const turn = this.hoverTurn;
    for (const el of this.transcript.querySelectorAll('.msg-trainee')) {
      el.classList.toggle('highlight', turn != null && el.dataset.turn === String(turn));
    }
  }

  renderCoach() {
    const se = this.session;
    const body = $('#coach-body', this.root);
    clear(body);
    const coachCard = $('#coach', this.root);
    if (se.meta?.mode === 'exam') {
      coachCard.dataset.mode = 'exam';
      body.append(h('p', { class: 'muted small' }, t('coach.exam')));
      return;
    }
    coachCard.dataset.mode = 'coach';
    const fbs = [...se.feedbackByTurn().values()].sort((a, b) => a.turn - b.turn);
    const shown = new Set(fbs.flatMap((f) => (Array.isArray(f.steps) ? f.steps : [])));
    body.append(
      h('p', { class: 'subtle-title' }, t('coach.steps')),
      h(
        'ol',
        { class: 'steps-track', 'data-testid': 'steps-track' },
        STEPS.map((st) => h('li', { class: shown.has(st) ? 'done' : '', 'data-step': st, 'data-done': shown.has(st) ? '1' : '0' }, label('step', st))),
      ),
    );
    const last = fbs[fbs.length - 1];
    if (!last) {
      body.append(h('p', { class: 'muted small' }, t('coach.none')));
      return;
    }
    body.append(
      h(
        'div',
        { class: 'hint-box', 'data-testid': 'hint', 'data-turn': last.turn },
        h('p', { class: 'hint-turn small muted' }, t('chat.turn', { n: last.turn })),
        h('p', { class: 'hint-text', lang: se.meta?.lang === 'zh' ? 'zh-CN' : 'en' }, last.hint ? String(last.hint) : t('coach.noHint')),
      ),
    );
  }
}

// customerName is the name the brief gives the customer, else the persona's.
export function customerName(session) {
  const meta = session.meta || {};
  const fromDetail = pick(session.detail?.brief?.customer_name, meta.lang);
  const brief = meta.scenario?.brief;
  const fromBrief = brief && typeof brief === 'object' ? pick(brief.customer_name, meta.lang) : '';
  return fromDetail || fromBrief || pick(meta.persona?.name, meta.lang) || t('brief.customer');
}

function deltaClass(key, d) {
  if (!d) return 'neutral';
  // Anger going up is bad, trust going up is good.
  const good = key === 'anger' ? d < 0 : d > 0;
  return good ? 'good' : 'bad';
}

// feedbackLine is the small, quiet coach note under a trainee reply.
export function feedbackLine(fb) {
  const steps = Array.isArray(fb.steps) ? fb.steps : [];
  const sigs = Array.isArray(fb.signals) ? fb.signals : [];
  return h(
    'div',
    { class: 'fb', 'data-testid': 'feedback', 'data-turn': fb.turn },
    steps.map((st) => h('span', { class: 'chip chip-step', 'data-step': st }, label('step', st))),
    sigs.map((sg) =>
      h(
        'span',
        { class: `chip ${sg.polarity === '-' ? 'chip-neg' : 'chip-pos'}`, title: sg.evidence ? `“${sg.evidence}”` : null },
        `${sg.polarity === '-' ? '−' : '+'} ${label('sig', sg.code)}`,
      ),
    ),
  );
}
