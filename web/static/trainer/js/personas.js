// Personas: the library, Character Card V2 import and the persona YAML editor.
import { h, clear, $ } from '/js/dom.js';
import { api, alertMsg, download } from './main.js';
import { t, lang } from './i18n.js';

let wired = false;
let editing = '';

const TEMPLATE = `# A new persona: it extends the shared base (lines, thresholds, a reveal);
# personas/README.md documents every field.
id: my-persona
extends: base
name: {zh: 新客户, en: New customer}
summary: {zh: 一句话描述, en: One line for trainers}
traits: [impatient]
style: driver
mood: {anger: 50, trust: 40}
patience: 3
`;

export async function showPersonas() {
  if (!wired) {
    $('#card-form').addEventListener('submit', importCard);
    $('#persona-validate').addEventListener('click', validate);
    $('#persona-draft').addEventListener('click', () => savePersona(true));
    $('#persona-publish').addEventListener('click', () => savePersona(false));
    $('#persona-new').addEventListener('click', () => open('', TEMPLATE, []));
    $('#persona-file').addEventListener('change', async (ev) => {
      const f = ev.target.files[0];
      ev.target.value = '';
      if (f) open('', await f.text(), []);
    });
    wired = true;
  }
  const list = await api('GET', '/api/trainer/personas');
  const tbody = clear($('#persona-rows'));
  for (const p of list) {
    const status = p.builtin ? 'builtin' : p.draft ? 'draft' : 'published';
    tbody.append(h('tr', { dataset: { testid: 'persona-row', id: p.id, status } },
      h('td', {}, h('code', {}, p.id)), h('td', {}, (p.name && (p.name[lang()] || p.name.en)) || p.id),
      h('td', {}, h('span', { class: 'badge' }, t(`status.${status}`))),
      h('td', {}, h('div', { class: 'tr-actions' },
        p.builtin ? null : h('button', { type: 'button', class: 'btn btn-small', onclick: () => edit(p.id) }, t('act.edit')),
        h('button', { type: 'button', class: 'btn btn-small btn-quiet', onclick: () => download(`/api/trainer/personas/${encodeURIComponent(p.id)}/source`, `${p.id}.yaml`).catch((e) => alertMsg(e.message)) }, t('act.export'))))));
  }
}

async function edit(id, needs = []) {
  const res = await api('GET', `/api/trainer/personas/${encodeURIComponent(id)}/source`, { raw: true });
  open(id, await res.text(), needs);
}

function open(id, yaml, needs) {
  editing = id;
  const box = $('#persona-editor');
  box.hidden = false;
  box.dataset.id = id;
  $('#persona-editor-title').textContent = id || t('persona.new');
  $('#persona-yaml').value = yaml;
  const ul = clear($('#persona-needs'));
  if (needs.length) ul.append(h('li', {}, h('strong', {}, t('persona.needs'))));
  for (const n of needs) ul.append(h('li', { dataset: { path: n.path } }, h('code', {}, n.path), ': ', n.message));
  clear($('#persona-errors'));
}

async function importCard(ev) {
  ev.preventDefault();
  const file = $('#card-file').files[0];
  let body;
  if (file && /\.png$/i.test(file.name)) {
    body = file; // a portrait with the card embedded; the server reads it
  } else {
    try { body = JSON.parse(file ? await file.text() : $('#card-json').value); } catch (e) { alertMsg(e.message); return; }
  }
  try {
    const res = await api('POST', '/api/trainer/personas/card', { body, type: file && file.type });
    $('#card-file').value = '';
    open(res.id, res.yaml, res.needs || []);
    await showPersonas();
  } catch (e) {
    alertMsg(e.message);
  }
}

function showErrs(errors) {
  const ul = clear($('#persona-errors'));
  for (const e of errors) ul.append(h('li', {}, e.path ? h('code', {}, e.path) : null, e.line ? ` (${e.line})` : '', e.path ? ': ' : '', e.message));
}

async function validate() {
  try {
    await api('POST', '/api/trainer/validate?kind=persona', { body: $('#persona-yaml').value });
    clear($('#persona-errors')).append(h('li', { class: 'tr-ok' }, t('persona.ok')));
  } catch (e) { showErrs(e.errors.length ? e.errors : [{ message: e.message }]); }
}

async function savePersona(draft) {
  const yaml = $('#persona-yaml').value;
  const id = editing || (yaml.match(/^id:\s*"?([a-z0-9][a-z0-9_-]*)"?\s*$/m) || [])[1];
  if (!id) { showErrs([{ path: 'id', message: 'missing; write "id: your-persona-id"' }]); return; }
  try {
    const res = await api('PUT', `/api/trainer/personas/${encodeURIComponent(id)}${draft ? '?draft=1' : ''}`, { body: yaml });
    editing = res.id;
    $('#persona-editor-title').textContent = res.id;
    clear($('#persona-errors')).append(h('li', { class: 'tr-ok' }, t('persona.saved', { v: res.version })));
    await showPersonas();
  } catch (e) { showErrs(e.errors.length ? e.errors : [{ message: e.message }]); }
}
