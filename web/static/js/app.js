// Entry point: wires the picker, the chat and the scorecard to one Session
// and switches between them. State hooks for tests and styling live on
// <body> (data-ready, data-view) and on each view (data-state, data-seq,
// data-connected, ...), so nothing ever needs to wait by sleeping.

import { $ } from './dom.js';
import { t, lang, setLang, onLangChange, applyDocument } from './i18n.js';
import { Picker } from './picker.js';
import { ChatView } from './chat.js';
import { renderReport } from './report.js';
import { Session, loadStored, clearStored } from './session.js';
// Contests (issue 8): the join page hands a start request over; pastes and
// tab blurs in a contest session are reported as notes.
import { takeJoin, joinFailed, watchIntegrity } from '../contest/handoff.js';

const body = document.body;
const views = {
  picker: $('#view-picker'),
  chat: $('#view-chat'),
  report: $('#view-report'),
};
let view = 'loading';
let showReportWhenReady = false;
let lastScenario = '';
let lastEngine = '';

const live = $('#live');
const alertBox = $('#alert');
const connEl = $('#conn');

const session = new Session({
  onChange: () => update(),
  onCustomerLine: (m) => {
    // One polite announcement per new customer line; the transcript itself
    // is not a live region, so a full replay is not read out line by line.
    live.textContent = t('chat.customerSays', { name: chat.customerName(), text: String(m.text ?? '') });
  },
  onStartError: (m) => {
    const msg = String(m.message || m.code || t('err.network'));
    if (contestJoin) return joinFailed(contestJoin, msg); // issue 8: back to the join page
    // The server's message names configuration keys; lead with a sentence
    // a trainee can act on and keep the server's words as the detail.
    if (m.code === 'unavailable' && lastEngine === 'llm') picker.startFailed(t('start.llmUnavailable'), msg);
    else picker.startFailed(msg);
    setView('picker');
  },
  onFatal: (m) => {
    clearStored();
    session.reset();
    setView('picker');
    picker.alert(t('conn.lost', { msg: String(m.message || m.code) }));
  },
});

const picker = new Picker(views.picker, {
  onStart: (req) => {
    lastScenario = req.scenario;
    lastEngine = req.engine;
    showReportWhenReady = false;
    contestJoin = null; // issue 8: a practice start is not a contest join
    session.start(req);
  },
});

const chat = new ChatView(views.chat, {
  session,
  onEnd: () => {
    showReportWhenReady = true;
    session.end();
  },
  onShowReport: () => setView('report'),
});

function setView(name) {
  if (view === name) return;
  view = name;
  body.dataset.view = name;
  for (const [k, el] of Object.entries(views)) el.hidden = k !== name;
  connEl.hidden = name !== 'chat';
  renderCurrent();
  // Move focus to the new view's heading so keyboard and screen-reader users
  // land where the content changed.
  const heading = views[name]?.querySelector('h1');
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: false });
  }
  if (name === 'chat') $('#reply').focus();
  window.scrollTo(0, 0);
}

function setTitle() {
  const scenarioTitle = session.meta?.scenario?.title;
  document.title = view !== 'picker' && scenarioTitle ? `${scenarioTitle} · ${t('app.name')}` : t('app.name');
}

function renderCurrent() {
  setTitle();
  if (view === 'picker') picker.render();
  if (view === 'chat') chat.render();
  if (view === 'report') {
    renderReport(views.report, session, {
      onAgain: () => newPractice(''),
      onRetry: lastScenario || session.meta?.scenario?.id ? () => newPractice(lastScenario || session.meta.scenario.id) : null,
    });
  }
  renderConn();
}

function renderConn() {
  const on = session.connected;
  connEl.dataset.connected = on ? '1' : '0';
  connEl.textContent = on ? t('conn.online') : t('conn.offline');
}

// loadDetail fetches the structured brief of the session's scenario, in the
// session's language, for the chat's brief panel and the customer's name.
async function loadDetail() {
  const meta = session.meta;
  if (!meta?.scenario?.id || session.detailFor === session.id) return;
  session.detailFor = session.id;
  try {
    const res = await fetch(`/api/scenarios/${encodeURIComponent(meta.scenario.id)}?lang=${encodeURIComponent(meta.lang || '')}`);
    if (!res.ok) return;
    const d = await res.json();
    if (session.meta?.scenario?.id !== d.id) return;
    session.detail = d;
    update();
  } catch {
    // the plain-text brief from the session frame stays
  }
}

function update() {
  if (session.meta) loadDetail();
  if (session.meta && view === 'picker') {
    picker.startDone();
    setView('chat');
    return;
  }
  if (view === 'chat') {
    if (session.reportEvent() && showReportWhenReady) {
      showReportWhenReady = false;
      setView('report');
      return;
    }
    chat.render();
  }
  setTitle();
  renderConn();
}

function newPractice(scenarioID) {
  session.close();
  clearStored();
  session.reset();
  showReportWhenReady = false;
  setView('picker');
  if (scenarioID) picker.select(scenarioID);
}

$('#lang-toggle').addEventListener('click', () => setLang(lang() === 'zh' ? 'en' : 'zh'));
onLangChange(() => {
  renderCurrent();
  body.dataset.lang = lang();
  picker.load(); // scenario titles come from the server in the page's language
});

setInterval(() => {
  if (view === 'chat') chat.tick();
}, 1000);

// Warn before closing the tab with a reply still on its way.
window.addEventListener('beforeunload', (ev) => {
  if (session.pending.some((p) => p.status === 'sending') && !session.connected) {
    ev.preventDefault();
  }
});

let contestJoin = null; // issue 8: the pending contest start, if the join page sent one

async function init() {
  applyDocument();
  body.dataset.lang = lang();
  const stored = loadStored();
  contestJoin = takeJoin(); // issue 8: a join just made wins over an older stored session
  watchIntegrity(session, $('#reply')); // issue 8
  if (contestJoin) {
    clearStored();
    setView('chat');
    session.start(contestJoin);
  } else if (stored) {
    // A reload in the middle of a session: go straight back to it, and to
    // the scorecard if it already has one.
    showReportWhenReady = true;
    setView('chat');
    session.resume(stored);
  } else {
    setView('picker');
  }
  await picker.load();
  body.dataset.ready = '1';
}

init().catch((err) => {
  alertBox.textContent = t('err.generic', { msg: err.message });
  body.dataset.ready = '1';
});
