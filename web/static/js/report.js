// The scorecard: total, the five steps as an SVG bar chart, the five service
// dimensions, evidence and advice per step, and the annotated transcript.
// Built with DOM APIs only; every quote goes in as text.

import { h, s, clampPct, fmtDuration, signed } from './dom.js';
import { t, pick, label } from './i18n.js';
import { customerName } from './chat.js';

const STEPS = ['receive', 'understand', 'help', 'agree', 'retain'];
const DIMS = ['reliability', 'assurance', 'tangibles', 'empathy', 'responsiveness'];

function band(v) {
  if (v >= 75) return 'good';
  if (v >= 50) return 'mid';
  return 'low';
}

export function renderReport(root, session, { onAgain, onRetry }) {
  const rep = session.reportEvent()?.report;
  root.replaceChildren();
  if (!rep) return;
  const meta = session.meta || {};
  const convLang = meta.lang === 'zh' ? 'zh-CN' : meta.lang || '';
  const total = clampPct(rep.total);
  const outcome = rep.outcome || session.endEvent()?.outcome || '';

  const actions = h(
    'div',
    { class: 'sc-actions no-print' },
    h('button', { type: 'button', class: 'btn', 'data-testid': 'download', onclick: () => download(session) }, t('report.download')),
    h('button', { type: 'button', class: 'btn', 'data-testid': 'print', onclick: () => window.print() }, t('report.print')),
    onRetry ? h('button', { type: 'button', class: 'btn', 'data-testid': 'retry', onclick: onRetry }, t('report.retry')) : null,
    h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'again', onclick: onAgain }, t('report.again')),
  );

  const facts = [
    [t('report.scenario'), pick(meta.scenario?.title, meta.lang)],
    [t('report.trainee'), meta.trainee || session.trainee || ''],
    [t('report.mode'), `${t(`mode.${meta.mode || 'coach'}`)} · ${t(`engine.${meta.engine || 'scripted'}`)}`],
  ].filter(([, v]) => v);

  const head = h(
    'header',
    { class: 'sc-head' },
    h(
      'div',
      { class: 'sc-heading' },
      h('p', { class: 'eyebrow' }, t('report.title')),
      h('h1', { id: 'report-title', lang: convLang }, pick(meta.scenario?.title, meta.lang) || t('report.title')),
      h('p', { class: 'muted small' }, facts.slice(1).map(([k, v]) => `${k}${t('colon')}${v}`).join(' · ')),
    ),
    actions,
  );

  const summary = h(
    'section',
    { class: 'sc-summary card', 'aria-label': t('report.total') },
    ring(total),
    focusNote(rep.steps || {}, convLang),
    h(
      'dl',
      { class: 'sc-facts' },
      h('div', null, h('dt', null, t('report.outcome')), h('dd', null, h('span', { class: `badge outcome-${outcome}`, 'data-testid': 'report-outcome', 'data-outcome': outcome }, label('outcome', outcome)))),
      h('div', null, h('dt', null, t('report.turns')), h('dd', { 'data-testid': 'report-turns' }, String(rep.turns ?? session.turn()))),
      h('div', null, h('dt', null, t('report.duration')), h('dd', null, fmtDuration(rep.duration_s))),
    ),
  );

  const hard = Array.isArray(rep.hard_fails) && rep.hard_fails.length
    ? h(
        'section',
        { class: 'hard-fails', role: 'note', 'data-testid': 'hard-fails' },
        h('p', null, h('strong', null, t('report.hardFails'))),
        h('ul', null, rep.hard_fails.map((f) => h('li', { lang: convLang }, String(f)))),
      )
    : null;

  const steps = rep.steps || {};
  const chartCard = h('section', { class: 'card', 'aria-labelledby': 'sc-steps-title' }, h('h2', { id: 'sc-steps-title', class: 'card-title' }, t('report.steps')), stepChart(steps));
  const dims = rep.dimensions || {};
  const dimCard = h(
    'section',
    { class: 'card', 'aria-labelledby': 'sc-dims-title' },
    h('h2', { id: 'sc-dims-title', class: 'card-title' }, t('report.dimensions')),
    h(
      'ul',
      { class: 'dims', 'data-testid': 'dimensions' },
      DIMS.map((d) => {
        const v = clampPct(dims[d]);
        const fill = h('span', { class: `fill band-${band(v)}` });
        fill.style.width = `${v}%`;
        return h(
          'li',
          { class: 'dim', 'data-dim': d, 'data-value': v },
          h('span', { class: 'dim-label' }, label('dim', d)),
          h('span', { class: 'track', role: 'meter', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(v), 'aria-label': label('dim', d) }, fill),
          h('span', { class: 'dim-value' }, String(v)),
        );
      }),
    ),
  );

  const stepCards = h(
    'section',
    { class: 'sc-steps', 'aria-label': t('report.steps') },
    STEPS.map((st) => {
      const sc = steps[st] || {};
      const v = clampPct(sc.score);
      const ev = Array.isArray(sc.evidence) ? sc.evidence : [];
      return h(
        'article',
        { class: 'card step-card', 'data-testid': 'step-card', 'data-step': st },
        h('h3', null, h('span', null, label('step', st)), h('span', { class: `score-pill band-${band(v)}` }, String(v))),
        h('p', { class: 'subtle-title' }, t('report.evidence')),
        ev.length
          ? h('ul', { class: 'quotes' }, ev.map((q) => h('li', null, h('q', { lang: convLang }, String(q)))))
          : h('p', { class: 'muted small' }, t('report.noEvidence')),
        sc.advice ? h('p', { class: 'subtle-title' }, t('report.advice')) : null,
        sc.advice ? h('p', { class: 'advice', lang: convLang }, String(sc.advice)) : null,
      );
    }),
  );

  root.append(
    h(
      'article',
      { class: 'scorecard', 'data-testid': 'scorecard', 'data-ready': '1', 'aria-labelledby': 'report-title' },
      head,
      summary,
      hard,
      h('div', { class: 'sc-grid' }, chartCard, dimCard),
      stepCards,
      transcript(session, rep, convLang),
    ),
  );
}

// focusNote names the strongest step and the one to work on, with its advice:
// the one thing to take into the next practice.
function focusNote(steps, convLang) {
  const scored = STEPS.map((st) => ({ st, v: clampPct(steps[st]?.score), advice: steps[st]?.advice || '' }));
  if (!scored.length) return null;
  const best = scored.reduce((a, b) => (b.v > a.v ? b : a));
  const worst = scored.reduce((a, b) => (b.v < a.v ? b : a));
  return h(
    'div',
    { class: 'sc-focus', 'data-testid': 'focus' },
    best.v > worst.v ? h('p', null, h('span', { class: 'subtle-title' }, t('report.strongest')), ' ', h('strong', null, label('step', best.st)), ` ${best.v}`) : null,
    h('p', null, h('span', { class: 'subtle-title' }, t('report.focus')), ' ', h('strong', null, label('step', worst.st)), ` ${worst.v}`),
    worst.advice ? h('p', { class: 'advice', lang: convLang }, worst.advice) : null,
  );
}

function ring(total) {
  const r = 44;
  const c = 2 * Math.PI * r;
  return h(
    'div',
    { class: `ring band-${band(total)}` },
    s(
      'svg',
      { viewBox: '0 0 100 100', 'aria-hidden': 'true', focusable: 'false' },
      s('circle', { cx: 50, cy: 50, r, class: 'ring-track' }),
      s('circle', {
        cx: 50,
        cy: 50,
        r,
        class: 'ring-value',
        'stroke-dasharray': `${((c * total) / 100).toFixed(2)} ${c.toFixed(2)}`,
        transform: 'rotate(-90 50 50)',
      }),
    ),
    h('div', { class: 'ring-text' }, h('span', { class: 'total', 'data-testid': 'total' }, String(total)), h('span', { class: 'ring-label' }, t('report.total'))),
  );
}

// stepChart draws the five step scores as bars with a 0/50/100 grid.
function stepChart(steps) {
  // A narrow viewBox keeps the labels legible when the chart is shrunk to
  // a phone's width.
  const W = 460;
  const H = 230;
  const left = 34;
  const right = 8;
  const top = 18;
  const bottom = 40;
  const plotH = H - top - bottom;
  const slot = (W - left - right) / STEPS.length;
  const barW = Math.min(56, slot * 0.56);
  const y = (v) => top + plotH - (plotH * v) / 100;
  const desc = STEPS.map((st) => `${label('step', st)} ${clampPct(steps[st]?.score)}`).join(', ');
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'step-chart', role: 'img', 'aria-label': `${t('report.stepsChart')}${t('colon')}${desc}`, 'data-testid': 'step-chart' });
  for (const g of [0, 50, 100]) {
    svg.append(
      s('line', { x1: left, x2: W - right, y1: y(g), y2: y(g), class: 'grid' }),
      s('text', { x: left - 6, y: y(g) + 4, class: 'axis', 'text-anchor': 'end' }, String(g)),
    );
  }
  STEPS.forEach((st, i) => {
    const v = clampPct(steps[st]?.score);
    const cx = left + slot * i + slot / 2;
    const bh = Math.max(1, (plotH * v) / 100);
    svg.append(
      s('rect', { x: (cx - barW / 2).toFixed(1), y: (top + plotH - bh).toFixed(1), width: barW.toFixed(1), height: bh.toFixed(1), rx: 4, class: `bar band-${band(v)}`, 'data-step': st }),
      s('text', { x: cx.toFixed(1), y: (top + plotH - bh - 6).toFixed(1), class: 'bar-value', 'text-anchor': 'middle' }, String(v)),
      s('text', { x: cx.toFixed(1), y: H - bottom + 20, class: 'bar-label', 'text-anchor': 'middle' }, label('step', st)),
    );
  });
  return svg;
}

function transcript(session, rep, convLang) {
  const byTurn = new Map();
  for (const f of Array.isArray(rep.feedback) ? rep.feedback : []) if (f) byTurn.set(f.turn, f);
  for (const [turn, f] of session.feedbackByTurn()) if (!byTurn.has(turn)) byTurn.set(turn, f);
  const name = customerName(session);
  const rows = [];
  for (const e of session.sorted()) {
    if (e.type === 'customer') {
      const moves = Array.isArray(e.moves) ? e.moves : [];
      rows.push(
        h(
          'li',
          { class: 'tr tr-customer', 'data-turn': e.turn },
          h(
            'div',
            { class: 'tr-who' },
            name,
            e.mood
              ? h('span', { class: 'tr-mood' }, `${t('mood.anger')} ${clampPct(e.mood.anger)} · ${t('mood.trust')} ${clampPct(e.mood.trust)}`)
              : null,
          ),
          h('p', { class: 'tr-text', lang: convLang }, String(e.text ?? '')),
          moves.length
            ? h(
                'p',
                { class: 'tr-moves small muted' },
                moves.map((m) => `${label('sig', m.signal)}${t('colon')}${t('mood.anger')} ${signed(m.anger)}, ${t('mood.trust')} ${signed(m.trust)}`).join(' · '),
              )
            : null,
        ),
      );
    } else if (e.type === 'ack') {
      const f = byTurn.get(e.turn);
      const sigs = Array.isArray(f?.signals) ? f.signals : [];
      rows.push(
        h(
          'li',
          { class: 'tr tr-trainee', 'data-turn': e.turn, 'data-testid': 'report-turn' },
          h(
            'div',
            { class: 'tr-who' },
            `${t('chat.you')} · ${t('chat.turn', { n: e.turn })}`,
            f && f.score != null ? h('span', { class: `score-pill small band-${band(clampPct(f.score))}` }, t('report.replyScore', { n: clampPct(f.score) })) : null,
            f?.verdict ? h('span', { class: `verdict verdict-${f.verdict}` }, label('verdict', f.verdict)) : null,
          ),
          h('p', { class: 'tr-text', lang: convLang }, session.replyText(e)),
          f
            ? h(
                'div',
                { class: 'tr-notes' },
                (Array.isArray(f.steps) ? f.steps : []).map((st) => h('span', { class: 'chip chip-step' }, label('step', st))),
                sigs.length
                  ? h(
                      'ul',
                      { class: 'signals' },
                      sigs.map((sg) =>
                        h(
                          'li',
                          { class: sg.polarity === '-' ? 'neg' : 'pos' },
                          h('span', { class: 'sig-name' }, `${sg.polarity === '-' ? '−' : '+'} ${label('sig', sg.code)}`),
                          sg.evidence ? h('q', { lang: convLang }, String(sg.evidence)) : null,
                        ),
                      ),
                    )
                  : null,
                f.hint ? h('p', { class: 'tr-hint', lang: convLang }, String(f.hint)) : null,
              )
            : null,
        ),
      );
    } else if (e.type === 'end') {
      rows.push(h('li', { class: 'tr tr-end' }, h('span', { class: `badge outcome-${e.outcome}` }, label('outcome', e.outcome)), e.reason ? ` ${e.reason}` : ''));
    }
  }
  return h(
    'section',
    { class: 'card sc-transcript', 'aria-labelledby': 'sc-tr-title' },
    h('h2', { id: 'sc-tr-title', class: 'card-title' }, t('report.transcript')),
    h('ol', { class: 'tr-list', 'data-testid': 'report-transcript' }, rows),
  );
}

function download(session) {
  const data = JSON.stringify(session.exportJSON(), null, 2);
  const blob = new Blob([data], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: `sparring-${session.id || 'session'}.json` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
