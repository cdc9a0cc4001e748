// The scenario designer: a form for the common fields and the YAML of the
// whole file, kept in step through POST /api/trainer/form (which also runs
// the CLI's validator), save/publish/export, and a test-play panel that
// plays the saved version through the normal /ws, by hand or by a bot.
import { h, clear, $, newID } from '/js/dom.js';
import { wsURL } from '/js/conn.js';
import { api, download, alertMsg } from './main.js';
import { t, lang } from './i18n.js';

const TEMPLATE = `# A new scenario: fill in the form or edit this YAML. The README of the
# scenarios package documents every field.
id: new-scenario
title: A new scenario
lang: en
langs: [en]
persona: angry-complainer
difficulty: 2
tags: [complaint]
published: false
brief:
  customer_name: The customer
  situation: What happened, in two sentences the trainee reads first.
  policy_sheet: What the agent may and may not offer.
success: What a good outcome looks like.
time_limit_s: 0
max_turns: 10
customer:
  opening:
    - "The customer's first line."
  issue: the problem in the customer's words
`;

// Form fields, by YAML path (the server's formFields).
const FIELDS = [
  { path: 'id', type: 'input' },
  { path: 'title', type: 'input' },
  { path: 'lang', type: 'select', options: ['en', 'zh'] },
  { path: 'langs', type: 'list' },
  { path: 'persona', type: 'input', list: 'persona-ids' },
  { path: 'difficulty', type: 'number', min: 1, max: 5 },
  { path: 'tags', type: 'list' },
  { path: 'published', type: 'checkbox' },
  { path: 'brief.customer_name', type: 'input' },
  { path: 'brief.order', type: 'input' },
  { path: 'brief.history', type: 'textarea', wide: true },
  { path: 'brief.situation', type: 'textarea', wide: true },
  { path: 'brief.policy_sheet', type: 'textarea', wide: true },
  { path: 'brief.context', type: 'lines', wide: true },
  { path: 'success', type: 'textarea', wide: true },
  { path: 'time_limit_s', type: 'number', min: 0, max: 3600 },
  { path: 'max_turns', type: 'number', min: 1, max: 60 },
  { path: 'customer.opening', type: 'lines', wide: true },
  { path: 'customer.issue', type: 'input', wide: true },
];

const BOTS = ['excellent', 'mediocre', 'rude', 'caves-in', 'over-promiser'];

const st = {
  savedId: '', version: 0, draft: true, timer: 0, inflight: false, again: false, pending: {}, valid: false, built: false,
};

function el() { return $('#view-designer'); }

function buildForm() {
  const form = clear($('#designer-form'));
  form.append(h('datalist', { id: 'persona-ids' }));
  for (const f of FIELDS) {
    const attrs = { id: `fld-${f.path}`, dataset: { path: f.path, testid: `fld-${f.path}` }, 'aria-describedby': `err-${f.path}` };
    let input;
    if (f.type === 'textarea' || f.type === 'lines') input = h('textarea', { ...attrs, rows: f.type === 'lines' ? 3 : 2 });
    else if (f.type === 'select') input = h('select', attrs, f.options.map((o) => h('option', { value: o }, o)));
    else if (f.type === 'checkbox') input = h('input', { ...attrs, type: 'checkbox' });
    else if (f.type === 'number') input = h('input', { ...attrs, type: 'number', min: f.min, max: f.max, inputmode: 'numeric' });
    else input = h('input', { ...attrs, list: f.list || null, autocomplete: 'off' });
    const label = h('label', { class: `field${f.wide ? ' tr-wide' : ''}${f.type === 'checkbox' ? ' tr-check' : ''}`, for: `fld-${f.path}` },
      f.type === 'checkbox' ? [input, h('span', {}, t(`fld.${f.path}`))] : [h('span', {}, t(`fld.${f.path}`)), input],
      h('span', { class: 'tr-field-error', id: `err-${f.path}`, dataset: { errorFor: f.path } }));
    form.append(label);
    input.addEventListener(f.type === 'checkbox' || f.type === 'select' ? 'change' : 'input', () => {
      st.pending[f.path] = readInput(f, input);
      schedule(250);
    });
  }
  const select = clear($('#tp-bot'));
  for (const b of BOTS) select.append(h('option', { value: b }, b));
  if (!st.built) {
    $('#yaml').addEventListener('input', () => schedule(400));
    $('#save').addEventListener('click', save);
    $('#publish').addEventListener('click', () => publish(true));
    $('#unpublish').addEventListener('click', () => publish(false));
    $('#export').addEventListener('click', () => {
      if (!st.savedId) { alertMsg(t('designer.saveFirst')); return; }
      download(`/api/trainer/scenarios/${encodeURIComponent(st.savedId)}/source?download=1`, `${st.savedId}.yaml`).catch((e) => alertMsg(e.message));
    });
    $('#errors').addEventListener('click', (ev) => {
      const li = ev.target.closest('li');
      if (li) focusError(li.dataset.path, Number(li.dataset.line));
    });
    initPlay();
    st.built = true;
  }
}

function readInput(f, input) {
  switch (f.type) {
    case 'checkbox': return input.checked;
    case 'number': return input.value === '' ? null : input.value;
    case 'list': return input.value.split(/[,,]/).map((s) => s.trim()).filter(Boolean);
    case 'lines': return input.value.split('\n').map((s) => s.trim()).filter(Boolean);
    default: return input.value;
  }
}

function writeInput(f, input, v) {
  if (document.activeElement === input || f.path in st.pending) return; // never fight the trainer's typing
  switch (f.type) {
    case 'checkbox': input.checked = !!v; break;
    case 'list': input.value = (v || []).join(', '); break;
    case 'lines': input.value = (v || []).join('\n'); break;
    default: input.value = v == null ? '' : String(v);
  }
}

function schedule(ms) {
  el().dataset.pending = '1';
  clearTimeout(st.timer);
  st.timer = setTimeout(flush, ms);
}

// flush sends the form's changes (or the edited YAML) and applies the answer;
// one request at a time, so answers never arrive out of order.
async function flush() {
  if (st.inflight) { st.again = true; return; }
  st.inflight = true;
  const set = st.pending;
  st.pending = {};
  const sent = $('#yaml').value;
  let res;
  try {
    res = await api('POST', '/api/trainer/form', { body: { yaml: sent, set } });
  } catch (e) {
    alertMsg(e.message);
    st.inflight = false;
    el().dataset.pending = '0';
    return;
  }
  st.inflight = false;
  if ($('#yaml').value === sent) $('#yaml').value = res.yaml;
  for (const f of FIELDS) {
    const input = $(`[data-path="${f.path}"]`, $('#designer-form'));
    if (input && f.path in res.fields) writeInput(f, input, res.fields[f.path]);
  }
  showErrors(res.errors || []);
  st.valid = !!res.valid;
  el().dataset.valid = st.valid ? '1' : '0';
  if (st.again || Object.keys(st.pending).length) {
    st.again = false;
    flush();
    return;
  }
  el().dataset.pending = '0';
  updateStatus();
}

function fieldFor(path) {
  if (!path) return '';
  let best = '';
  for (const f of FIELDS) {
    if ((path === f.path || path.startsWith(`${f.path}[`) || path.startsWith(`${f.path}.`)) && f.path.length > best.length) best = f.path;
  }
  return best;
}

function showErrors(errors) {
  const ul = clear($('#errors'));
  const byField = {};
  for (const e of errors) {
    const f = fieldFor(e.path);
    if (f) (byField[f] = byField[f] || []).push(e.message);
    ul.append(h('li', { dataset: { path: e.path || '', line: e.line || 0, testid: 'error' }, tabindex: '0' },
      e.path ? h('code', {}, e.path) : null, e.line ? ` (${lang() === 'zh' ? '第' : 'line '}${e.line}${lang() === 'zh' ? '行' : ''})` : '', e.path || e.line ? ': ' : '', e.message));
  }
  for (const f of FIELDS) {
    const input = $(`[data-path="${f.path}"]`, $('#designer-form'));
    const msg = byField[f.path];
    if (input) input.setAttribute('aria-invalid', msg ? 'true' : 'false');
    const slot = $(`[data-error-for="${f.path}"]`, $('#designer-form'));
    if (slot) slot.textContent = msg ? msg.join(' ') : '';
  }
  $('#valid-ok').hidden = errors.length > 0;
}

function focusError(path, line) {
  const f = fieldFor(path);
  const input = f && $(`[data-path="${f}"]`, $('#designer-form'));
  if (input) { input.focus(); return; }
  if (line > 0) {
    const ta = $('#yaml');
    const lines = ta.value.split('\n');
    const start = lines.slice(0, line - 1).join('\n').length + (line > 1 ? 1 : 0);
    ta.focus();
    ta.setSelectionRange(start, start + (lines[line - 1] || '').length);
  }
}

function updateStatus() {
  const d = el();
  d.dataset.savedId = st.savedId;
  d.dataset.version = String(st.version);
  d.dataset.draft = st.draft ? '1' : '0';
  const status = !st.savedId ? t('designer.new') : `v${st.version} · ${t(st.draft ? 'status.draft' : 'status.published')}`;
  $('#designer-status').textContent = status;
  $('#publish').disabled = !st.savedId || !st.draft;
  $('#unpublish').disabled = !st.savedId || st.draft;
  $('#tp-start').disabled = !st.savedId;
  $('#tp-watch').disabled = !st.savedId;
}

async function loadSource(id) {
  const res = await api('GET', `/api/trainer/scenarios/${encodeURIComponent(id)}/source`, { raw: true });
  return { yaml: await res.text(), version: Number(res.headers.get('X-Sparring-Version')) || 0,
    draft: res.headers.get('X-Sparring-Draft') === 'true', builtin: res.headers.get('X-Sparring-Builtin') === 'true' };
}

export async function showDesigner(arg) {
  buildForm();
  resetPlay();
  st.pending = {};
  st.savedId = '';
  st.version = 0;
  st.draft = true;
  el().dataset.valid = '0';
  el().dataset.ready = '0';
  let yaml = TEMPLATE;
  const set = {};
  if (arg.startsWith('copy:')) {
    const from = arg.slice(5);
    yaml = (await loadSource(from)).yaml;
    set.id = `${from}-copy`;
    set.published = false;
  } else if (arg !== 'new') {
    const src = await loadSource(arg);
    yaml = src.yaml;
    st.savedId = arg;
    st.version = src.version;
    st.draft = src.draft;
  }
  $('#yaml').value = yaml;
  st.pending = set;
  loadPersonas();
  updateStatus();
  await flush();
  el().dataset.ready = '1';
}

async function loadPersonas() {
  try {
    const list = await api('GET', '/api/personas');
    const dl = clear($('#persona-ids'));
    for (const p of list) dl.append(h('option', { value: p.id }, (p.name && (p.name[lang()] || p.name.en)) || p.id));
  } catch { /* the field still takes any id */ }
}

async function settle() {
  clearTimeout(st.timer);
  if (Object.keys(st.pending).length || el().dataset.pending === '1') await flush();
  while (st.inflight) await new Promise((r) => setTimeout(r, 30));
}

async function save() {
  await settle();
  if (!st.valid) { alertMsg(t('designer.fixFirst')); return; }
  const yaml = $('#yaml').value;
  const id = $('[data-path="id"]', $('#designer-form')).value.trim();
  el().dataset.saving = '1';
  try {
    const res = st.savedId && st.savedId === id
      ? await api('PUT', `/api/scenarios/${encodeURIComponent(id)}`, { body: yaml })
      : await api('POST', '/api/scenarios', { body: yaml });
    await afterSave(res);
  } catch (e) {
    if (e.errors.length) showErrors(e.errors);
    alertMsg(e.message);
  } finally {
    el().dataset.saving = '0';
  }
}

async function afterSave(res) {
  st.savedId = res.id;
  const src = await loadSource(res.id);
  st.version = src.version;
  st.draft = src.draft;
  $('#yaml').value = src.yaml;
  history.replaceState(null, '', `#designer/${encodeURIComponent(res.id)}`);
  alertMsg('');
  $('#designer-status').dataset.saved = String(src.version);
  await flush();
  updateStatus();
}

async function publish(on) {
  if (!st.savedId) { alertMsg(t('designer.saveFirst')); return; }
  try {
    const res = await api('POST', `/api/trainer/scenarios/${encodeURIComponent(st.savedId)}/${on ? 'publish' : 'unpublish'}`);
    await afterSave(res);
  } catch (e) {
    alertMsg(e.message);
  }
}

// ---- test play -------------------------------------------------------------

const play = { ws: null, bot: null, next: 0, turn: 0 };

function panel() { return $('#testplay'); }

function resetPlay() {
  if (play.ws) play.ws.close();
  play.ws = null;
  play.bot = null;
  clear($('#tp-transcript'));
  $('#tp-result').textContent = '';
  panel().dataset.state = 'idle';
  panel().dataset.pending = '0';
  delete panel().dataset.total;
  delete panel().dataset.session;
}

function initPlay() {
  $('#tp-start').addEventListener('click', () => startPlay($('#tp-name').value.trim() || 'Trainer test', null));
  $('#tp-watch').addEventListener('click', async () => {
    try {
      const res = await api('GET', `/api/trainer/scenarios/${encodeURIComponent(st.savedId)}/bots`);
      const bot = res.bots.find((b) => b.bot === $('#tp-bot').value);
      startPlay(`bot: ${bot.bot}`, bot.replies);
    } catch (e) { alertMsg(e.message); }
  });
  $('#tp-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = $('#tp-reply').value.trim();
    if (!text) return;
    $('#tp-reply').value = '';
    sendReply(text);
  });
  $('#tp-reply').addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey) { ev.preventDefault(); $('#tp-form').requestSubmit(); }
  });
  $('#tp-end').addEventListener('click', () => play.ws && play.ws.send(JSON.stringify({ type: 'end' })));
}

function line(role, turn, text) {
  const li = h('li', { dataset: { role, turn } }, h('span', { class: 'tr-who' }, role === 'customer' ? t('play.customer') : t('play.you')), text);
  $('#tp-transcript').append(li);
  li.scrollIntoView({ block: 'nearest' });
  return li;
}

function sendReply(text) {
  if (!play.ws || panel().dataset.state !== 'active') return;
  panel().dataset.pending = '1';
  line('trainee', play.turn + 1, text);
  play.ws.send(JSON.stringify({ type: 'reply', id: newID(), text }));
}

function startPlay(trainee, botReplies) {
  resetPlay();
  play.bot = botReplies;
  play.next = 0;
  play.turn = 0;
  panel().dataset.state = 'connecting';
  panel().dataset.mode = botReplies ? 'bot' : 'manual';
  const ws = new WebSocket(wsURL());
  play.ws = ws;
  ws.addEventListener('open', () => ws.send(JSON.stringify({ type: 'start', scenario: st.savedId, trainee, mode: 'coach' })));
  ws.addEventListener('message', (ev) => onFrame(JSON.parse(ev.data)));
  ws.addEventListener('close', () => { if (panel().dataset.state !== 'ended') panel().dataset.state = 'closed'; });
}

function onFrame(f) {
  const p = panel();
  switch (f.type) {
    case 'session':
      p.dataset.session = f.session;
      p.dataset.version = String(f.scenario && f.scenario.version || '');
      p.dataset.state = 'active';
      break;
    case 'customer':
      play.turn = f.turn;
      line('customer', f.turn, f.text);
      p.dataset.pending = '0';
      p.dataset.turn = String(f.turn);
      if (play.bot && p.dataset.state === 'active') {
        if (play.next < play.bot.length) setTimeout(() => sendReply(play.bot[play.next++]), 300);
        else play.ws.send(JSON.stringify({ type: 'end' }));
      }
      break;
    case 'feedback': {
      const li = [...$('#tp-transcript').querySelectorAll('li[data-role="trainee"]')].pop();
      if (li) li.append(h('div', { class: 'tr-fb' }, (f.signals || []).map((s) => h('span', { class: `chip ${s.polarity === '+' ? 'chip-pos' : 'chip-neg'}` }, s.code))));
      break;
    }
    case 'end':
      p.dataset.state = 'ended';
      p.dataset.outcome = f.outcome;
      break;
    case 'report':
      p.dataset.state = 'ended';
      p.dataset.total = String(f.report.total);
      $('#tp-result').textContent = t('play.result', { o: f.report.outcome, s: f.report.total });
      play.ws.close();
      break;
    case 'error':
      p.dataset.pending = '0';
      $('#tp-result').textContent = f.message;
      break;
  }
}
