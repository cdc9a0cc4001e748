// Rubric calibration: labelled reference transcripts in, per-step order check out.
import { h, clear, $ } from '/js/dom.js';
import { api, alertMsg } from './main.js';
import { t } from './i18n.js';

const LABELS = ['good', 'average', 'poor'];
const STEPS = ['receive', 'understand', 'help', 'agree', 'retain'];
let wired = false;

function addScript(label = 'good', text = '') {
  const sel = h('select', { 'aria-label': t('cal.label'), dataset: { testid: 'cal-label' } }, LABELS.map((l) => h('option', { value: l, selected: l === label }, t(`label.${l}`))));
  const ta = h('textarea', { rows: 5, spellcheck: 'false', 'aria-label': t('cal.transcript'), dataset: { testid: 'cal-text' } });
  ta.value = text;
  const row = h('div', { class: 'tr-cal-script', dataset: { testid: 'cal-script' } }, sel, ta,
    h('button', { type: 'button', class: 'btn btn-small btn-quiet', onclick: () => row.remove() }, t('cal.remove')));
  $('#cal-scripts').append(row);
}

export async function showCalibrate() {
  if (!wired) {
    $('#cal-add').addEventListener('click', () => addScript('average'));
    $('#cal-files').addEventListener('change', async (ev) => {
      for (const f of ev.target.files) {
        const name = f.name.toLowerCase();
        addScript(LABELS.find((l) => name.includes(l)) || 'average', await f.text());
      }
      ev.target.value = '';
    });
    $('#cal-form').addEventListener('submit', run);
    addScript('good');
    addScript('poor');
    wired = true;
  }
  const list = await api('GET', '/api/trainer/scenarios');
  const sel = $('#cal-scenario');
  const keep = sel.value;
  clear(sel);
  for (const s of list) sel.append(h('option', { value: s.id }, `${s.id} — ${s.title}`));
  if (keep) sel.value = keep;
}

async function run(ev) {
  ev.preventDefault();
  const box = $('#cal-result');
  box.dataset.state = 'running';
  const transcripts = [...document.querySelectorAll('[data-testid="cal-script"]')].map((row, i) => ({
    label: row.querySelector('select').value, name: `${row.querySelector('select').value} #${i + 1}`, text: row.querySelector('textarea').value,
  }));
  try {
    const res = await api('POST', '/api/trainer/calibrate', { body: { scenario: $('#cal-scenario').value, transcripts } });
    render(res);
  } catch (e) {
    box.hidden = false;
    clear(box).append(h('ul', { class: 'tr-errors' }, (e.errors.length ? e.errors : [{ message: e.message }]).map((x) => h('li', {}, x.path ? h('code', {}, x.path) : null, x.path ? ': ' : '', x.message))));
    box.dataset.state = 'error';
    alertMsg('');
  }
}

function mark(ok) { return h('span', { class: ok ? 'tr-ok' : 'tr-bad' }, ok ? '✓' : '✗'); }

function render(res) {
  const box = clear($('#cal-result'));
  box.hidden = false;
  box.dataset.state = 'done';
  box.dataset.ordered = res.ordered ? '1' : '0';
  box.append(h('p', { class: res.ordered ? 'tr-ok' : 'tr-bad' }, t(res.ordered ? 'cal.ordered' : 'cal.notOrdered')));
  const head = h('tr', {}, h('th', {}, t('cal.step')), res.transcripts.map((s) => h('th', {}, `${s.name}`)), h('th', {}, ''));
  const rows = STEPS.map((step) => h('tr', { dataset: { step, ordered: res.steps[step].ordered ? '1' : '0' } },
    h('td', {}, step), res.transcripts.map((s) => h('td', { class: 'tr-num' }, s.steps[step])), h('td', {}, mark(res.steps[step].ordered))));
  rows.push(h('tr', { dataset: { step: 'total', ordered: res.total.ordered ? '1' : '0' } }, h('th', {}, t('cal.total')),
    res.transcripts.map((s) => h('th', { class: 'tr-num' }, s.total)), h('th', {}, mark(res.total.ordered))));
  box.append(h('table', { class: 'tr-table' }, h('thead', {}, head), h('tbody', {}, rows)));
  const inv = [...STEPS.flatMap((s) => res.steps[s].inversions.map((x) => ({ ...x, step: s }))), ...res.total.inversions.map((x) => ({ ...x, step: 'total' }))];
  if (inv.length) {
    box.append(h('ul', { class: 'tr-errors' }, inv.map((x) => h('li', {}, `${x.step}: ${x.better} (${x.better_score}) ≤ ${x.worse} (${x.worse_score})`))));
  }
}
