// Final results: standings, CSV exports; live while the contest still runs.

import { $ } from '/js/dom.js';
import { t, lang, applyStrings, wireLangToggle, onLang, codeFromURL, fetchContest, Clock, Live, statusAt, renderBoard } from './common.js';

const body = document.body;
const clock = new Clock();
let contest = null;
let board = null;
let live = null;

function render() {
  if (!contest || !board) return;
  const status = statusAt(board, clock);
  body.dataset.status = status;
  $('#title').textContent = contest.title || `${t('title')} ${contest.code}`;
  const titles = contest.scenarios.map((s) => s.title).join(lang() === 'zh' ? '、' : ', ');
  $('#meta').textContent = `${contest.code} · ${new Date(contest.starts_at).toLocaleString()} – ${new Date(contest.ends_at).toLocaleTimeString()} · ${titles}`;
  $('#provisional').hidden = status === 'finished';
  renderBoard($('#standings'), board.entries);
  $('#teams-card').hidden = !board.team_mode;
  $('#csv-teams').hidden = !board.team_mode;
  if (board.team_mode) {
    renderBoard($('#teams'), board.teams || [], { teams: true });
    $('#team-rule').textContent = board.team_rule ? `(${t(`board.rule.${board.team_rule}`)})` : '';
  }
}

function show(m) {
  clock.sync(m.now);
  board = m;
  body.dataset.updates = String(Number(body.dataset.updates) + 1);
  render();
}

async function init() {
  applyStrings();
  wireLangToggle($('#lang-toggle'));
  onLang(render);
  const code = codeFromURL();
  contest = code ? await fetchContest(code) : null;
  if (!contest) {
    $('#error').textContent = t('code.bad');
    body.dataset.ready = '1';
    return;
  }
  $('#results').hidden = false;
  $('#csv').href = contest.links.csv;
  $('#csv-teams').href = `${contest.links.csv}?board=teams`;
  $('#screen-link').href = contest.links.screen;
  show(contest.leaderboard);
  if (contest.status !== 'finished') {
    live = new Live(contest.code, { onBoard: show });
    // When the clock runs out, read the final standings once more: the
    // server closes the sessions still open and records them.
    const left = Date.parse(contest.ends_at) - clock.now();
    setTimeout(async () => {
      const fresh = await fetchContest(contest.code).catch(() => null);
      if (fresh) {
        contest = fresh;
        show(fresh.leaderboard);
      }
      live?.close();
    }, Math.max(0, left) + 1500);
  }
  setInterval(render, 1000);
  body.dataset.ready = '1';
}

init().catch((err) => {
  $('#error').textContent = String(err.message || err);
  body.dataset.ready = '1';
});
