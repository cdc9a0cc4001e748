// The big screen: subscribes to the contest's live leaderboard and counts
// down on the server's clock. Every change arrives as a `leaderboard` frame
// (pushed through Redis pub/sub from whichever server instance recorded it).

import { $ } from '/js/dom.js';
import { t, applyStrings, wireLangToggle, onLang, codeFromURL, Clock, Live, countdownText, statusAt, renderBoard } from './common.js';

const body = document.body;
const clock = new Clock();
let board = null;
let live = null;

function showCodeForm(message) {
  $('#code-form').hidden = false;
  $('#screen').hidden = true;
  $('#code-error').textContent = message || '';
  body.dataset.ready = '1';
}

$('#code-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const code = $('#code-input').value.toUpperCase().replace(/[\s-]/g, '');
  if (code) location.search = `?code=${encodeURIComponent(code)}`;
});

function render() {
  if (!board) return;
  $('#contest-title').textContent = board.title || `${t('title')} ${board.contest}`;
  document.title = `${board.title || t('title')} · ${board.contest}`;
  $('#join-code').textContent = board.contest;
  $('#join-url').textContent = `${location.origin}/contest/join.html?code=${board.contest}`;
  renderBoard($('#standings'), board.entries);
  $('#teams-card').hidden = !board.team_mode;
  if (board.team_mode) {
    renderBoard($('#teams'), board.teams || [], { teams: true });
    $('#team-rule').textContent = board.team_rule ? `(${t(`board.rule.${board.team_rule}`)})` : '';
  }
  tick();
}

function tick() {
  if (!board) return;
  const status = statusAt(board, clock);
  body.dataset.status = status;
  $('#clock-label').textContent = t(`status.${status}`);
  const el = $('#clock-value');
  let remaining = 0;
  if (status === 'scheduled') remaining = Date.parse(board.starts_at) - clock.now();
  if (status === 'running') remaining = Date.parse(board.ends_at) - clock.now();
  el.dataset.remaining = String(Math.max(0, Math.ceil(remaining / 1000)));
  el.textContent = status === 'finished' ? t('status.finished') : countdownText(remaining);
}

function init() {
  applyStrings();
  wireLangToggle($('#lang-toggle'));
  onLang(render);
  const code = codeFromURL();
  if (!code) {
    showCodeForm('');
    return;
  }
  $('#screen').hidden = false;
  live = new Live(code, {
    onBoard: (m) => {
      clock.sync(m.now);
      const first = !board;
      board = m;
      body.dataset.updates = String(Number(body.dataset.updates) + 1);
      render();
      if (!first) $('#announce').textContent = m.entries?.[0] ? `1. ${m.entries[0].name} ${m.entries[0].score}` : '';
      body.dataset.ready = '1';
    },
    onState: (on) => {
      body.dataset.live = on ? '1' : '0';
      const el = $('#live');
      el.dataset.connected = on ? '1' : '0';
      el.textContent = on ? t('live.on') : t('live.off');
    },
    onError: (m) => {
      live.close();
      showCodeForm(m.message || t('code.bad'));
    },
  });
  setInterval(tick, 250);
}

init();
