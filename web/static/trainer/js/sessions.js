// Session review: the filterable list (CSV export), and one session with its
// annotated transcript, per-turn comments and step-score overrides kept
// beside the automatic scores.
import { h, clear, $ } from '/js/dom.js';
import { api, download, alertMsg } from './main.js';
import { t } from './i18n.js';

const STEPS = ['receive', 'understand', 'help', 'agree', 'retain'];
let wired = false;

function query() {
  const form = $('#session-filters');
  const q = new URLSearchParams();
  for (const el of form.elements) {
    if (el.name && el.value.trim() !== '') q.set(el.name, el.value.trim());
  }
  return q;
}

function fmtTime(s) {
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? s : d.toLocaleString();
}

export async function showSessions() {
  if (!wired) {
    $('#session-filters').addEventListener('submit', (ev) => { ev.preventDefault(); showSessions().catch((e) => alertMsg(e.message)); });
    $('#export-csv').addEventListener('click', () => {
      const q = query();
      q.set('format', 'csv');
      download(`/api/sessions?${q}`, 'sessions.csv').catch((e) => alertMsg(e.message));
    });
    wired = true;
  }
  const view = $('#view-sessions');
  view.dataset.loaded = '0';
  const rows = await api('GET', `/api/sessions?${query()}`);
  const tbody = clear($('#session-rows'));
  for (const r of rows) {
    tbody.append(h('tr', { dataset: { testid: 'session-row', id: r.id, trainee: r.trainee, scenario: r.scenario } },
      h('td', {}, h('a', { href: `#session/${encodeURIComponent(r.id)}`, dataset: { testid: 'open-session' } }, fmtTime(r.created))),
      h('td', {}, r.trainee, r.team ? ` (${r.team})` : ''),
      h('td', {}, h('code', {}, r.scenario), ` v${r.scenario_version}`),
      h('td', {}, r.outcome ? h('span', { class: `badge outcome-${r.outcome}` }, r.outcome) : r.state),
      h('td', { class: 'tr-num' }, r.score == null ? '–' : r.score),
      h('td', { class: 'tr-num' }, r.turns),
      h('td', { class: 'tr-num' }, r.comments || r.overrides ? `${r.comments} 💬 ${r.overrides} ✎` : '')));
  }
  if (!rows.length) tbody.append(h('tr', {}, h('td', { colspan: 7, class: 'muted' }, t('sessions.none'))));
  view.dataset.count = String(rows.length);
  view.dataset.loaded = '1';
  try {
    const list = await api('GET', '/api/trainer/scenarios');
    const dl = clear($('#scenario-ids'));
    for (const s of list) dl.append(h('option', { value: s.id }));
  } catch { /* suggestions only */ }
}

let current = '';

export async function showSession(id) {
  current = id;
  const view = $('#view-session');
  view.dataset.loaded = '0';
  view.dataset.id = id;
  const [sess, review] = await Promise.all([
    api('GET', `/api/sessions/${encodeURIComponent(id)}`),
    api('GET', `/api/sessions/${encodeURIComponent(id)}/review`),
  ]);
  if (current !== id) return;
  const m = sess.session;
  $('#session-meta').textContent = t('session.meta', { trainee: m.trainee, scenario: m.scenario, v: m.scenario_version, mode: m.mode, lang: m.lang, created: fmtTime(m.created) });
  $('#export-json').onclick = () => download(`/api/sessions/${encodeURIComponent(id)}/export`, `session-${id}.json`).catch((e) => alertMsg(e.message));
  renderTranscript(sess, review);
  renderScorecard(sess, review);
  view.dataset.loaded = '1';
}

function renderTranscript(sess, review) {
  const ol = clear($('#session-transcript'));
  const fb = {};
  for (const f of sess.feedback || []) fb[f.turn] = f;
  const comments = {};
  for (const c of review.comments) (comments[c.turn] = comments[c.turn] || []).push(c);
  for (const line of sess.transcript) {
    const li = h('li', { dataset: { role: line.speaker, turn: line.turn, testid: `turn-${line.speaker}-${line.turn}` } },
      h('span', { class: 'tr-who' }, `${line.speaker === 'customer' ? t('play.customer') : t('play.you')} · ${line.turn}`), line.text);
    if (line.speaker === 'trainee') {
      const f = fb[line.turn];
      if (f) {
        li.append(h('div', { class: 'tr-fb' },
          (f.steps || []).map((s) => h('span', { class: 'chip chip-step' }, s)),
          (f.signals || []).map((s) => h('span', { class: `chip ${s.polarity === '+' ? 'chip-pos' : 'chip-neg'}`, title: s.evidence }, s.code)),
          h('span', { class: 'muted' }, ` ${f.score}/100`)));
        if (f.hint) li.append(h('p', { class: 'muted small' }, `${t('session.hint')}: ${f.hint}`));
      }
      li.append(commentBlock(line.turn, comments[line.turn] || []));
    }
    ol.append(li);
  }
  ol.append(h('li', { dataset: { role: 'note', turn: -1 } }, h('span', { class: 'tr-who' }, t('session.whole')), commentBlock(-1, comments[-1] || [])));
}

function commentBlock(turn, list) {
  const ul = h('ul', { class: 'tr-comments', dataset: { testid: `comments-${turn}` } },
    list.map((c) => h('li', { dataset: { testid: 'comment', turn: c.turn } }, c.text, h('span', { class: 'muted small' }, ` — ${c.author || ''}`))));
  const ta = h('textarea', { rows: 2, maxlength: 2000, dataset: { testid: `comment-text-${turn}` }, 'aria-label': t('session.comment') });
  const form = h('form', { class: 'tr-comment-form' }, ta,
    h('button', { type: 'submit', class: 'btn btn-small', dataset: { testid: `comment-save-${turn}` } }, t('session.commentSave')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const c = await api('POST', `/api/sessions/${encodeURIComponent(current)}/comments`, { body: { turn, text: ta.value } });
      ta.value = '';
      ul.append(h('li', { dataset: { testid: 'comment', turn: c.turn } }, c.text, h('span', { class: 'muted small' }, ` — ${c.author || ''}`)));
    } catch (e) { alertMsg(e.message); }
  });
  return h('div', {}, ul, form);
}

function renderScorecard(sess, review) {
  const rep = sess.report;
  $('#session-total').textContent = rep ? `${rep.total}/100 · ${rep.outcome}` : t('session.noReport');
  const box = clear($('#session-steps'));
  for (const step of STEPS) {
    const sv = review.steps[step] || {};
    const auto = sv.auto;
    const ov = sv.override;
    const row = h('div', { class: 'tr-step', dataset: { testid: `step-${step}`, auto: auto == null ? '' : auto, override: ov ? ov.score : '' } });
    const head = h('div', { class: 'tr-step-head' }, h('span', {}, step),
      h('span', {}, h('span', { class: 'tr-num' }, `${auto == null ? '–' : auto} (${t('session.auto')})`),
        ov ? h('span', { class: 'tr-override' }, ` → ${ov.score} (${t('session.override')})`) : null));
    row.append(head);
    if (ov) row.append(h('p', { class: 'small muted', dataset: { testid: `override-reason-${step}` } }, ov.reason));
    if (rep && rep.steps && rep.steps[step] && rep.steps[step].advice) row.append(h('p', { class: 'small' }, rep.steps[step].advice));
    const score = h('input', { type: 'number', min: 0, max: 100, 'aria-label': t('session.score'), dataset: { testid: `override-score-${step}` } });
    const reason = h('input', { 'aria-label': t('session.reason'), placeholder: t('session.reason'), maxlength: 2000, dataset: { testid: `override-reason-input-${step}` } });
    const form = h('form', {}, score, reason, h('button', { type: 'submit', class: 'btn btn-small', dataset: { testid: `override-save-${step}` } }, t('session.overrideSave')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await api('POST', `/api/sessions/${encodeURIComponent(current)}/overrides`, { body: { step, score: score.value === '' ? null : Number(score.value), reason: reason.value } });
        const fresh = await api('GET', `/api/sessions/${encodeURIComponent(current)}/review`);
        renderScorecard(sess, fresh);
      } catch (e) { alertMsg(e.message); }
    });
    row.append(form);
    box.append(row);
  }
}
