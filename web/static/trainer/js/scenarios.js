// The scenario list: built-in and authored, drafts included; import and export.
import { h, clear, $ } from '/js/dom.js';
import { api, download, alertMsg } from './main.js';
import { t } from './i18n.js';

export async function showScenarios() {
  const tbody = $('#scenario-rows');
  const view = $('#view-scenarios');
  view.dataset.loaded = '0';
  const list = await api('GET', '/api/trainer/scenarios');
  clear(tbody);
  for (const s of list) {
    const status = s.builtin ? 'builtin' : s.draft ? 'draft' : 'published';
    const actions = [];
    if (!s.builtin) actions.push(h('a', { class: 'btn btn-small', href: `#designer/${encodeURIComponent(s.id)}`, dataset: { testid: 'edit' } }, t('act.edit')));
    actions.push(h('a', { class: 'btn btn-small btn-quiet', href: `#designer/copy:${encodeURIComponent(s.id)}` }, t('act.copy')));
    actions.push(h('button', { type: 'button', class: 'btn btn-small btn-quiet', onclick: () => download(`/api/trainer/scenarios/${encodeURIComponent(s.id)}/source?download=1`, `${s.id}.yaml`).catch((e) => alertMsg(e.message)) }, t('act.export')));
    if (!s.builtin) {
      actions.push(h('button', {
        type: 'button', class: 'btn btn-small btn-quiet', dataset: { testid: 'delete' },
        onclick: async () => {
          if (!confirm(t('act.confirmDelete', { id: s.id }))) return;
          try { await api('DELETE', `/api/scenarios/${encodeURIComponent(s.id)}`); await showScenarios(); } catch (e) { alertMsg(e.message); }
        },
      }, t('act.delete')));
    }
    tbody.append(h('tr', { dataset: { testid: 'scenario-row', id: s.id, status, version: s.version } },
      h('td', {}, h('code', {}, s.id)),
      h('td', {}, s.title),
      h('td', {}, h('span', { class: `badge${status === 'published' ? ' badge-live' : ''}` }, t(`status.${status}`))),
      h('td', { class: 'tr-num' }, s.version),
      h('td', {}, h('div', { class: 'tr-actions' }, actions))));
  }
  view.dataset.loaded = '1';
}

// importFile posts a YAML (or JSON) scenario file: a new id is created, an
// authored one gets a new version.
export async function importFile(ev) {
  const file = ev.target.files[0];
  ev.target.value = '';
  if (!file) return;
  const text = await file.text();
  const type = file.name.endsWith('.json') ? 'application/json' : 'application/yaml';
  try {
    let res;
    try {
      res = await api('POST', '/api/scenarios', { body: text, type });
    } catch (e) {
      if (e.status !== 409 || e.body.error !== 'exists') throw e;
      const id = (text.match(/^\s*"?id"?\s*:\s*"?([a-z0-9][a-z0-9_-]*)"?/m) || [])[1];
      res = await api('PUT', `/api/scenarios/${encodeURIComponent(id)}`, { body: text, type });
    }
    alertMsg(t('scenarios.imported', { id: res.id, v: res.version }));
    await showScenarios();
  } catch (e) {
    alertMsg(e.message);
  }
}
