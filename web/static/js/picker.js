// The scenario picker: filters, a list of scenario cards, the brief of the
// chosen one and the start form.

import { h, clear, $ } from './dom.js';
import { t, pick, lang as uiLang } from './i18n.js';

const NAME_KEY = 'sparring.trainee';
const PREFS_KEY = 'sparring.prefs';

function remembered(key) {
  try {
    return localStorage.getItem(key) || '';
  } catch {
    return '';
  }
}

function remember(key, v) {
  try {
    localStorage.setItem(key, v);
  } catch {
    // not remembered; harmless
  }
}

async function getJSON(url) {
  const res = await fetch(url, { headers: { Accept: 'application/json' } });
  if (!res.ok) {
    let msg = `${res.status} ${res.statusText}`;
    try {
      const body = await res.json();
      if (body && body.message) msg = String(body.message);
    } catch {
      // keep the status line
    }
    throw new Error(msg);
  }
  return res.json();
}

export class Picker {
  constructor(root, { onStart }) {
    this.root = root;
    this.onStart = onStart;
    this.scenarios = [];
    this.personas = new Map(); // id -> name (string or {zh,en})
    this.selected = null; // scenario id
    this.detail = null; // /api/scenarios/{id}
    this.detailErr = '';
    this.loadErr = '';
    this.loaded = false;
    this.starting = false;
    this.startErr = '';
    this.form = { mode: 'coach', engine: 'scripted', playLang: '' };
    try {
      const p = JSON.parse(remembered(PREFS_KEY) || '{}');
      if (p.mode === 'coach' || p.mode === 'exam') this.form.mode = p.mode;
      if (p.engine === 'scripted' || p.engine === 'llm') this.form.engine = p.engine;
    } catch {
      // defaults
    }
    this.filters = { lang: '', difficulty: '', persona: '' };
    this.listEl = $('#scenario-list', root);
    this.countEl = $('#scenario-count', root);
    this.briefEl = $('#brief-card', root);
    this.fLang = $('#f-lang', root);
    this.fDiff = $('#f-diff', root);
    this.fPersona = $('#f-persona', root);
    for (const [el, key] of [
      [this.fLang, 'lang'],
      [this.fDiff, 'difficulty'],
      [this.fPersona, 'persona'],
    ]) {
      el.addEventListener('change', () => {
        this.filters[key] = el.value;
        this.renderList();
      });
    }
  }

  async load() {
    this.loadErr = '';
    this.listEl.setAttribute('aria-busy', 'true');
    this.countEl.textContent = t('picker.loading');
    try {
      const [scenarios, personas] = await Promise.all([
        // Titles in the page's language wherever a scenario has it.
        getJSON(`/api/scenarios?lang=${encodeURIComponent(uiLang())}`),
        getJSON('/api/personas').catch(() => []),
      ]);
      this.scenarios = Array.isArray(scenarios) ? scenarios : [];
      for (const p of Array.isArray(personas) ? personas : []) if (p && p.id) this.personas.set(p.id, p.name ?? p.id);
    } catch (err) {
      this.loadErr = err.message || t('err.network');
    }
    this.loaded = true;
    this.listEl.removeAttribute('aria-busy');
    this.render();
  }

  personaName(id) {
    const n = this.personas.get(id);
    return n ? pick(n) : id || '';
  }

  render() {
    this.renderFilters();
    this.renderList();
    this.renderBrief();
  }

  renderFilters() {
    const opts = (sel, items, value) => {
      clear(sel);
      for (const [v, text] of items) sel.append(h('option', { value: v }, text));
      sel.value = value;
    };
    opts(
      this.fLang,
      [
        ['', t('filter.any')],
        ['zh', t('lang.zh')],
        ['en', t('lang.en')],
      ],
      this.filters.lang,
    );
    opts(
      this.fDiff,
      [['', t('filter.any')], ...[1, 2, 3, 4, 5].map((n) => [String(n), `${'●'.repeat(n)}${'○'.repeat(5 - n)}  ${n}`])],
      this.filters.difficulty,
    );
    const ids = new Set([...this.personas.keys(), ...this.scenarios.map((s) => s.persona).filter(Boolean)]);
    opts(
      this.fPersona,
      [['', t('filter.any')], ...[...ids].map((id) => [id, this.personaName(id)]).sort((a, b) => a[1].localeCompare(b[1]))],
      this.filters.persona,
    );
  }

  visible() {
    const f = this.filters;
    return this.scenarios.filter((s) => {
      const langs = Array.isArray(s.langs) && s.langs.length ? s.langs : [s.lang];
      if (f.lang && !langs.includes(f.lang)) return false;
      if (f.difficulty && String(s.difficulty) !== f.difficulty) return false;
      if (f.persona && s.persona !== f.persona) return false;
      return true;
    });
  }

  renderList() {
    clear(this.listEl);
    if (this.loadErr) {
      this.countEl.textContent = '';
      this.listEl.append(
        h(
          'li',
          { class: 'load-error', role: 'alert', 'data-testid': 'load-error' },
          h('p', null, t('picker.loadError', { msg: this.loadErr })),
          h('button', { type: 'button', class: 'btn', onclick: () => this.load() }, t('picker.retry')),
        ),
      );
      return;
    }
    const list = this.visible();
    this.countEl.textContent = list.length === 1 ? t('picker.count.one') : t('picker.count', { n: list.length });
    if (!list.length) {
      this.listEl.append(h('li', { class: 'empty muted' }, t('picker.empty')));
      return;
    }
    for (const s of list) {
      const langs = Array.isArray(s.langs) && s.langs.length ? s.langs : [s.lang];
      const d = Math.max(1, Math.min(5, Number(s.difficulty) || 1));
      const pressed = this.selected === s.id;
      const btn = h(
        'button',
        {
          type: 'button',
          class: 'scenario',
          'aria-pressed': pressed ? 'true' : 'false',
          'data-testid': 'scenario-card',
          'data-id': s.id,
          onclick: () => this.select(s.id),
        },
        h('span', { class: 'scenario-title' }, pick(s.title, s.lang)),
        h(
          'span',
          { class: 'scenario-meta' },
          h('span', { class: 'persona-name' }, this.personaName(s.persona)),
          h('span', { class: `dots d${d}`, role: 'img', 'aria-label': t('difficulty.label', { n: d }) }, '●'.repeat(d), h('span', { class: 'dots-off', 'aria-hidden': 'true' }, '●'.repeat(5 - d))),
          h('span', { class: 'time' }, Number(s.time_limit_s) > 0 ? t('minutes', { n: Math.round(s.time_limit_s / 60) || 1 }) : t('untimed')),
        ),
        h(
          'span',
          { class: 'chips' },
          langs.map((l) => h('span', { class: 'chip chip-lang', lang: l === 'zh' ? 'zh-CN' : 'en' }, l === 'zh' ? '中文' : 'EN')),
          (Array.isArray(s.tags) ? s.tags : []).slice(0, 3).map((tag) => h('span', { class: 'chip' }, String(tag))),
        ),
      );
      this.listEl.append(h('li', null, btn));
    }
  }

  async select(id) {
    if (this.selected === id && this.detail) return;
    this.selected = id;
    this.detail = null;
    this.detailErr = '';
    this.startErr = '';
    this.startDetail = '';
    const s = this.scenarios.find((x) => x.id === id);
    this.form.playLang = this.pickPlayLang(s);
    this.renderList();
    this.renderBrief();
    await this.fetchDetail();
    if (window.matchMedia('(max-width: 860px)').matches) {
      this.briefEl.scrollIntoView({ block: 'start' });
    }
    this.briefEl.focus({ preventScroll: true });
  }

  // fetchDetail loads the selected scenario's brief in the language it
  // will be played in, and shows it.
  async fetchDetail() {
    const id = this.selected;
    const playLang = this.form.playLang;
    this.detail = null;
    this.detailErr = '';
    try {
      const d = await getJSON(`/api/scenarios/${encodeURIComponent(id)}?lang=${encodeURIComponent(playLang)}`);
      if (this.selected !== id || this.form.playLang !== playLang) return;
      this.detail = d;
    } catch (err) {
      if (this.selected !== id || this.form.playLang !== playLang) return;
      this.detailErr = err.message;
    }
    this.renderBrief();
  }

  pickPlayLang(s) {
    if (!s) return '';
    const langs = Array.isArray(s.langs) && s.langs.length ? s.langs : [s.lang];
    if (this.filters.lang && langs.includes(this.filters.lang)) return this.filters.lang;
    if (langs.includes(uiLang())) return uiLang();
    return s.lang || langs[0];
  }

  renderBrief() {
    const el = this.briefEl;
    const sameScenario = el.dataset.id === this.selected;
    clear(el);
    if (!sameScenario) el.scrollTop = 0;
    const s = this.scenarios.find((x) => x.id === this.selected);
    if (!s) {
      el.append(h('p', { class: 'muted' }, t('picker.choose')));
      el.dataset.state = 'empty';
      return;
    }
    const d = this.detail || s;
    const playLang = this.form.playLang || s.lang;
    const title = pick(d.title ?? s.title, playLang);
    el.dataset.state = this.detail ? 'loaded' : 'loading';
    el.dataset.id = s.id;
    el.append(h('h2', { class: 'brief-title', id: 'brief-title' }, title));
    const meta = [this.personaName(s.persona), t('difficulty.label', { n: s.difficulty })];
    meta.push(Number(s.time_limit_s) > 0 ? t('minutes', { n: Math.round(s.time_limit_s / 60) || 1 }) : t('untimed'));
    if (d.max_turns) meta.push(t('maxTurns', { n: d.max_turns }));
    el.append(h('p', { class: 'muted small' }, meta.join(' · ')));

    if (this.detailErr) {
      el.append(h('p', { class: 'error', role: 'alert' }, t('err.generic', { msg: this.detailErr })));
    } else if (!this.detail) {
      el.append(h('p', { class: 'muted' }, t('brief.loading')));
    } else {
      el.append(briefList(this.detail.brief, playLang, 'brief-details'));
    }
    el.append(this.startForm(s));
  }

  startForm(s) {
    const langs = Array.isArray(s.langs) && s.langs.length ? s.langs : [s.lang];
    const err = h(
      'p',
      { class: 'error', id: 'start-error', role: 'alert', 'data-testid': 'start-error' },
      this.startErr,
      this.startDetail ? h('span', { class: 'error-detail' }, this.startDetail) : null,
    );
    const nameHint = h('span', { class: 'hint', id: 'name-hint' }, t('start.name.hint'));
    const name = h('input', {
      id: 'trainee',
      'data-testid': 'trainee',
      name: 'trainee',
      type: 'text',
      required: true,
      maxlength: '64',
      autocomplete: 'name',
      'aria-describedby': 'name-hint',
      value: this.form.name ?? remembered(NAME_KEY),
      // Kept across re-renders (a language switch) before it is remembered.
      oninput: (ev) => {
        this.form.name = ev.target.value;
      },
    });
    const radios = (group, options) =>
      h(
        'div',
        { class: 'segmented' },
        options.map(([value, labelKey, descKey]) =>
          h(
            'label',
            { class: 'seg' },
            h('input', {
              type: 'radio',
              name: group,
              value,
              'data-testid': `${group}-${value}`,
              checked: this.form[group] === value,
              onchange: () => {
                this.form[group] = value;
                remember(PREFS_KEY, JSON.stringify({ mode: this.form.mode, engine: this.form.engine }));
              },
            }),
            h('span', { class: 'seg-body' }, h('span', { class: 'seg-label' }, t(labelKey)), h('span', { class: 'seg-desc' }, t(descKey))),
          ),
        ),
      );
    const form = h(
      'form',
      { class: 'start-form', 'data-testid': 'start-form', novalidate: true },
      h('label', { class: 'field', for: 'trainee' }, h('span', null, t('start.name')), name, nameHint),
      h('fieldset', { class: 'field' }, h('legend', null, t('start.mode')), radios('mode', [
        ['coach', 'mode.coach', 'mode.coach.desc'],
        ['exam', 'mode.exam', 'mode.exam.desc'],
      ])),
      h('fieldset', { class: 'field' }, h('legend', null, t('start.engine')), radios('engine', [
        ['scripted', 'engine.scripted', 'engine.scripted.desc'],
        ['llm', 'engine.llm', 'engine.llm.desc'],
      ])),
    );
    if (langs.length > 1) {
      const sel = h(
        'select',
        {
          id: 'play-lang',
          'data-testid': 'play-lang',
          onchange: () => {
            this.form.playLang = sel.value;
            this.renderBrief();
            this.fetchDetail();
          },
        },
        langs.map((l) => h('option', { value: l }, t(`lang.${l}`))),
      );
      sel.value = this.form.playLang || s.lang;
      form.append(h('label', { class: 'field', for: 'play-lang' }, h('span', null, t('start.playLang')), sel));
    }
    const btn = h(
      'button',
      { type: 'submit', class: 'btn btn-primary btn-large', 'data-testid': 'start', disabled: this.starting },
      this.starting ? t('start.starting') : t('start.button'),
    );
    form.append(err, btn);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const trainee = name.value.trim();
      if (!trainee || [...trainee].length > 64) {
        this.startErr = t('start.nameRequired');
        err.textContent = this.startErr;
        name.setAttribute('aria-invalid', 'true');
        name.focus();
        return;
      }
      remember(NAME_KEY, trainee);
      this.startErr = '';
      this.startDetail = '';
      this.starting = true;
      btn.disabled = true;
      btn.textContent = t('start.starting');
      err.textContent = '';
      const req = { scenario: s.id, trainee, mode: this.form.mode, engine: this.form.engine };
      if (this.form.playLang) req.lang = this.form.playLang;
      this.onStart(req, { summary: s, detail: this.detail });
    });
    return form;
  }

  // startFailed shows the server's message (e.g. `unavailable` for the LLM
  // engine) next to the start button.
  startFailed(msg, detail = '') {
    this.starting = false;
    this.startErr = msg;
    this.startDetail = detail;
    this.renderBrief();
    $('[data-testid="start-error"]', this.root)?.focus?.();
  }

  // alert shows a message that concerns no particular scenario, e.g. a
  // session that could not be resumed.
  alert(msg) {
    const el = $('#picker-alert', this.root);
    if (el) el.textContent = msg;
  }

  startDone() {
    this.starting = false;
    this.startErr = '';
  }
}

// briefList renders a scenario brief as a definition list. Values may be
// strings or {zh, en} maps.
export function briefList(brief, lang, testid) {
  const dl = h('dl', { class: 'brief', 'data-testid': testid });
  const b = brief || {};
  for (const [key, labelKey] of [
    ['customer_name', 'brief.customer'],
    ['order', 'brief.order'],
    ['history', 'brief.history'],
    ['situation', 'brief.situation'],
    ['policy_sheet', 'brief.policy'],
  ]) {
    const v = pick(b[key], lang);
    if (!v) continue;
    dl.append(h('div', { class: `brief-row brief-${key}` }, h('dt', null, t(labelKey)), h('dd', null, v)));
  }
  return dl;
}
