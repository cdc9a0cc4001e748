// Join form: checks the contest, then hands the `start` request to the
// trainee app, which plays the session (exam mode, the contest's scenario,
// seed and clock — all decided by the server).

import { $ } from '/js/dom.js';
import { t, applyStrings, wireLangToggle, onLang, codeFromURL, fetchContest, Clock, countdownText, statusAt } from './common.js';
import { handOff, rememberedEntrant } from './handoff.js';

const body = document.body;
const clock = new Clock();
let contest = null;

function render() {
  if (!contest) return;
  $('#title').textContent = contest.title || `${t('title')} ${contest.code}`;
  $('#meta').textContent = `${t('code')}: ${contest.code}`;
  $('#team-field').hidden = !contest.team_mode;
  $('#rules').textContent = t('join.rules', { attempts: contest.attempts });
  const sel = $('#scenario');
  const keep = sel.value;
  sel.replaceChildren(new Option(t('join.scenario.next'), ''));
  for (const s of contest.scenarios) sel.append(new Option(s.title, s.id));
  sel.value = keep;
  $('#scenario-field').hidden = contest.scenarios.length < 2;
  tick();
}

function tick() {
  if (!contest) return;
  const status = statusAt(contest.leaderboard, clock);
  body.dataset.status = status;
  $('#clock-label').textContent = t(`status.${status}`);
  const target = status === 'scheduled' ? contest.starts_at : contest.ends_at;
  $('#join-countdown').textContent = status === 'finished' ? '' : countdownText(Date.parse(target) - clock.now());
  $('#go').disabled = status !== 'running';
  if (status === 'scheduled' && !$('#error').textContent) $('#rules').textContent = t('join.wait');
  if (status === 'finished') $('#error').textContent = t('join.over');
}

$('#join-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  if (!contest) {
    const code = $('#code').value.toUpperCase().replace(/[\s-]/g, '');
    if (code) location.search = `?code=${encodeURIComponent(code)}`;
    return;
  }
  const name = $('#name').value.trim();
  const team = $('#team').value.trim();
  const err = $('#error');
  if (!name || name.length > 64) {
    err.textContent = t('join.need.name');
    $('#name').setAttribute('aria-invalid', 'true');
    $('#name').focus();
    return;
  }
  if (contest.team_mode && !team) {
    err.textContent = t('join.need.team');
    $('#team').setAttribute('aria-invalid', 'true');
    $('#team').focus();
    return;
  }
  const scenario = $('#scenario').value;
  const chosen = contest.scenarios.find((s) => s.id === scenario);
  handOff({
    contest: contest.code,
    trainee: name,
    team: contest.team_mode ? team : '',
    scenario: scenario || undefined,
    lang: contest.lang || chosen?.lang || undefined,
  });
});

async function init() {
  applyStrings();
  wireLangToggle($('#lang-toggle'));
  onLang(render);
  const params = new URLSearchParams(location.search);
  const code = codeFromURL();
  const prior = rememberedEntrant();
  $('#name').value = prior.trainee || '';
  $('#team').value = prior.team || '';
  contest = code ? await fetchContest(code) : null;
  if (!contest) {
    $('#code-field').hidden = false;
    $('#code').value = code;
    if (code) $('#error').textContent = t('code.bad');
    body.dataset.ready = '1';
    return;
  }
  clock.sync(contest.now);
  render();
  // Back from the trainee app with the server's refusal (in the language
  // the start asked for).
  if (params.get('error')) $('#error').textContent = params.get('error');
  setInterval(tick, 500);
  body.dataset.ready = '1';
}

init().catch((err) => {
  $('#error').textContent = String(err.message || err);
  body.dataset.ready = '1';
});
