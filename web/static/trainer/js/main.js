// The trainer app: sign-in, routing between the views, and the small API
// client every view uses. The trainer token lives in sessionStorage only, so
// it is gone when the tab closes.
import { $ } from '/js/dom.js';
import { t, applyI18n, toggleLang, lang } from './i18n.js';
import { showScenarios, importFile } from './scenarios.js';
import { showDesigner } from './designer.js';
import { showSessions, showSession } from './sessions.js';
import { showCalibrate } from './calibrate.js';
import { showPersonas } from './personas.js';

const TOKEN_KEY = 'sparring.trainer.token';

export function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }

// ApiError carries the HTTP status and, for 422, the field errors.
export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.message || (body.errors && body.errors.map((e) => `${e.path}: ${e.message}`).join('; ')))) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
    this.errors = (body && body.errors) || [];
  }
}

// api calls the JSON API with the trainer token. body: an object (sent as
// JSON) or a string (sent as YAML). raw: return the Response itself.
export async function api(method, path, { body, raw, type } = {}) {
  const headers = { Authorization: `Bearer ${token()}` };
  let payload;
  if (body instanceof Blob) {
    payload = body;
    headers['Content-Type'] = type || body.type || 'application/octet-stream';
  } else if (typeof body === 'string') {
    payload = body;
    headers['Content-Type'] = type || 'application/yaml';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  const res = await fetch(path, { method, headers, body: payload, cache: 'no-store' });
  if (res.status === 401 || res.status === 403) {
    if (path !== '/api/trainer/me') signOut(t('signin.expired'));
    throw new ApiError(res.status, await res.json().catch(() => null));
  }
  if (raw && res.ok) return res;
  const ct = res.headers.get('Content-Type') || '';
  const data = ct.includes('json') ? await res.json().catch(() => null) : await res.text();
  if (!res.ok) throw new ApiError(res.status, typeof data === 'object' ? data : { message: data });
  return data;
}

// download saves a response body as a file (exports need the auth header,
// so a plain link cannot fetch them).
export async function download(path, name) {
  const res = await api('GET', path, { raw: true });
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export function alertMsg(msg) {
  $('#alert').textContent = msg || '';
}

function signOut(msg) {
  sessionStorage.removeItem(TOKEN_KEY);
  document.body.dataset.signedIn = '0';
  location.hash = '#signin';
  if (msg) $('#signin-error').textContent = msg;
}

async function signIn(ev) {
  ev.preventDefault();
  const input = $('#token');
  const err = $('#signin-error');
  err.textContent = '';
  sessionStorage.setItem(TOKEN_KEY, input.value.trim());
  try {
    await api('GET', '/api/trainer/me');
    input.value = '';
    document.body.dataset.signedIn = '1';
    location.hash = '#scenarios';
  } catch (e) {
    sessionStorage.removeItem(TOKEN_KEY);
    err.textContent = e.status === 403 ? t('signin.wrong') : e.status === 401 ? t('signin.missing') : e.message;
  }
}

const views = ['signin', 'scenarios', 'designer', 'sessions', 'session', 'calibrate', 'personas'];

// route shows the view named by the hash: #view or #view/argument.
async function route() {
  const [name, ...rest] = (location.hash.slice(1) || 'scenarios').split('/');
  const arg = decodeURIComponent(rest.join('/'));
  let view = views.includes(name) ? name : 'scenarios';
  if (!token()) view = 'signin';
  alertMsg('');
  document.body.dataset.signedIn = token() ? '1' : '0';
  $('#nav').hidden = !token();
  $('#signout').hidden = !token();
  for (const v of views) $(`#view-${v}`).hidden = v !== view;
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.getAttribute('href') === `#${view}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.body.dataset.view = view;
  try {
    switch (view) {
      case 'signin': $('#token').focus(); break;
      case 'scenarios': await showScenarios(); break;
      case 'designer': await showDesigner(arg || 'new'); break;
      case 'sessions': await showSessions(); break;
      case 'session': await showSession(arg); break;
      case 'calibrate': await showCalibrate(); break;
      case 'personas': await showPersonas(); break;
    }
  } catch (e) {
    if (e.status !== 401 && e.status !== 403) alertMsg(e.message);
  }
}

function init() {
  applyI18n();
  $('#lang-toggle').textContent = lang() === 'zh' ? 'English' : '中文';
  $('#lang-toggle').addEventListener('click', () => {
    toggleLang();
    $('#lang-toggle').textContent = lang() === 'zh' ? 'English' : '中文';
    route();
  });
  $('#signin-form').addEventListener('submit', signIn);
  $('#signout').addEventListener('click', () => signOut(''));
  $('#import-file').addEventListener('change', importFile);
  window.addEventListener('hashchange', route);
  route().finally(() => { document.body.dataset.ready = '1'; });
}

init();
