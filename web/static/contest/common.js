// Shared by the contest pages (big screen, results, join): strings in both
// languages, the contest API, the live `leaderboard` subscription and a
// countdown that runs on the server's clock, not the screen's.

import { h, clear } from '/js/dom.js';

const LANG_KEY = 'sparring.lang'; // the trainee app's key, so the choice carries over

const STRINGS = {
  en: {
    'title': 'Contest',
    'code': 'Join code',
    'code.enter': 'Enter a join code',
    'code.go': 'Open',
    'code.bad': 'No contest with that join code.',
    'status.scheduled': 'Starts in',
    'status.running': 'Time left',
    'status.finished': 'Finished',
    'board.trainees': 'Standings',
    'board.teams': 'Teams',
    'board.rule.mean': 'team score: mean of members',
    'board.rule.sum': 'team score: sum of members',
    'col.rank': '#',
    'col.name': 'Name',
    'col.team': 'Team',
    'col.score': 'Score',
    'col.sessions': 'Sessions',
    'board.empty': 'Nobody has joined yet.',
    'join.at': 'Join at',
    'live.on': 'Live',
    'live.off': 'Reconnecting…',
    'results.title': 'Final results',
    'results.provisional': 'The contest is still running; these standings are provisional and update live.',
    'results.csv': 'Download CSV',
    'results.csv.teams': 'Teams CSV',
    'results.screen': 'Big screen',
    'join.title': 'Join the contest',
    'join.name': 'Your name',
    'join.team': 'Your team',
    'join.scenario': 'Scenario',
    'join.scenario.next': 'Next one for me',
    'join.lang': 'Language',
    'join.go': 'Start',
    'join.rules': 'Exam mode: feedback comes in the report at the end. {attempts} attempt(s) per scenario. Pasting and leaving the tab are noted for the trainer.',
    'join.wait': 'The contest has not started yet. You can join when the countdown reaches zero.',
    'join.over': 'This contest is over; you can no longer join.',
    'join.need.name': 'Give your name (1–64 characters).',
    'join.need.team': 'Give your team name.',
    'lang.switch': '中文',
  },
  zh: {
    'title': '比赛',
    'code': '参赛码',
    'code.enter': '输入参赛码',
    'code.go': '打开',
    'code.bad': '没有该参赛码对应的比赛。',
    'status.scheduled': '距开始',
    'status.running': '剩余时间',
    'status.finished': '已结束',
    'board.trainees': '个人排名',
    'board.teams': '团队排名',
    'board.rule.mean': '团队得分:成员平均',
    'board.rule.sum': '团队得分:成员总和',
    'col.rank': '名次',
    'col.name': '姓名',
    'col.team': '队伍',
    'col.score': '得分',
    'col.sessions': '场次',
    'board.empty': '还没有人加入。',
    'join.at': '加入地址',
    'live.on': '实时',
    'live.off': '正在重新连接…',
    'results.title': '最终成绩',
    'results.provisional': '比赛仍在进行,以下为实时更新的暂定排名。',
    'results.csv': '下载 CSV',
    'results.csv.teams': '团队 CSV',
    'results.screen': '大屏',
    'join.title': '加入比赛',
    'join.name': '你的姓名',
    'join.team': '你的队伍',
    'join.scenario': '场景',
    'join.scenario.next': '按顺序下一个',
    'join.lang': '语言',
    'join.go': '开始',
    'join.rules': '考试模式:反馈在结束后的报告中给出。每个场景可尝试 {attempts} 次。粘贴和离开页面会记录给培训师。',
    'join.wait': '比赛尚未开始,倒计时结束后即可加入。',
    'join.over': '比赛已结束,不能再加入。',
    'join.need.name': '请填写姓名(1–64 个字符)。',
    'join.need.team': '请填写队名。',
    'lang.switch': 'English',
  },
};

function storedLang() {
  try {
    const l = localStorage.getItem(LANG_KEY);
    if (l === 'zh' || l === 'en') return l;
  } catch {
    // storage disabled
  }
  return (navigator.language || 'en').toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

let current = storedLang();
const listeners = new Set();

export function lang() {
  return current;
}

export function t(key, vars) {
  let s = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  for (const [k, v] of Object.entries(vars || {})) s = s.split(`{${k}}`).join(String(v));
  return s;
}

export function onLang(fn) {
  listeners.add(fn);
}

// applyStrings fills every [data-i18n] element and wires the language button.
export function applyStrings() {
  document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
}

export function wireLangToggle(button) {
  button.addEventListener('click', () => {
    current = current === 'zh' ? 'en' : 'zh';
    try {
      localStorage.setItem(LANG_KEY, current);
    } catch {
      // not remembered
    }
    applyStrings();
    for (const fn of listeners) fn(current);
  });
}

// codeFromURL reads ?code= as people type it.
export function codeFromURL() {
  const raw = new URLSearchParams(location.search).get('code') || '';
  return raw.toUpperCase().replace(/[\s-]/g, '');
}

// fetchContest loads GET /api/contests/{code}; null when there is none.
export async function fetchContest(code) {
  const res = await fetch(`/api/contests/${encodeURIComponent(code)}?lang=${current}`, { headers: { Accept: 'application/json' } });
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.json();
}

// Clock keeps the offset between the server's clock and this screen's.
export class Clock {
  constructor() {
    this.offset = 0;
  }

  sync(serverNow) {
    const ms = Date.parse(serverNow);
    if (Number.isFinite(ms)) this.offset = ms - Date.now();
  }

  now() {
    return Date.now() + this.offset;
  }
}

// countdownText is m:ss, or h:mm:ss for long waits.
export function countdownText(ms) {
  const v = Math.max(0, Math.ceil(ms / 1000));
  const hh = Math.floor(v / 3600);
  const mm = Math.floor((v % 3600) / 60);
  const ss = String(v % 60).padStart(2, '0');
  return hh > 0 ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

// status derives scheduled / running / finished from the board and the clock.
export function statusAt(board, clock) {
  const now = clock.now();
  if (now < Date.parse(board.starts_at)) return 'scheduled';
  if (now < Date.parse(board.ends_at)) return 'running';
  return 'finished';
}

// Live subscribes to a contest's `leaderboard` frames over /ws and
// re-subscribes after a drop (0.5 s doubling to 8 s).
export class Live {
  constructor(code, { onBoard, onState, onError }) {
    this.code = code;
    this.onBoard = onBoard;
    this.onState = onState || (() => {});
    this.onError = onError || (() => {});
    this.attempt = 0;
    this.closed = false;
    this.open();
  }

  open() {
    if (this.closed) return;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${proto}//${location.host}/ws`);
    this.ws = ws;
    ws.addEventListener('open', () => {
      ws.send(JSON.stringify({ type: 'subscribe', contest: this.code, lang: current }));
    });
    ws.addEventListener('message', (ev) => {
      let m;
      try {
        m = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (m.type === 'leaderboard') {
        this.attempt = 0;
        this.onState(true);
        this.onBoard(m);
      } else if (m.type === 'error') {
        this.onError(m);
      }
    });
    ws.addEventListener('close', () => {
      if (this.ws !== ws || this.closed) return;
      this.onState(false);
      const cap = Math.min(8000, 500 * 2 ** this.attempt++);
      setTimeout(() => this.open(), cap / 2 + Math.random() * (cap / 2));
    });
  }

  close() {
    this.closed = true;
    this.ws?.close(1000);
  }
}

// renderBoard draws one leaderboard table. Rows carry data-* hooks (rank,
// name, team, score, sessions) for tests and styling.
export function renderBoard(el, rows, { teams = false } = {}) {
  clear(el);
  if (!rows || rows.length === 0) {
    el.append(h('p', { class: 'muted board-empty', 'data-testid': 'board-empty' }, t('board.empty')));
    return;
  }
  const top = Math.max(1, ...rows.map((r) => Number(r.score) || 0));
  const head = h('tr', null,
    h('th', { scope: 'col', class: 'c-rank' }, t('col.rank')),
    h('th', { scope: 'col' }, teams ? t('col.team') : t('col.name')),
    teams ? null : h('th', { scope: 'col', class: 'c-team' }, t('col.team')),
    h('th', { scope: 'col', class: 'c-score' }, t('col.score')),
    h('th', { scope: 'col', class: 'c-num' }, t('col.sessions')));
  const body = h('tbody');
  for (const r of rows) {
    const bar = h('span', { class: 'bar', 'aria-hidden': 'true' });
    // CSSOM, not a style attribute: the CSP forbids inline styles.
    bar.style.width = `${Math.round((100 * (Number(r.score) || 0)) / top)}%`;
    body.append(h('tr', {
      'data-testid': 'row',
      class: r.rank <= 3 ? `podium p${r.rank}` : null,
      dataset: { rank: r.rank, name: r.name, team: r.team || '', score: r.score, sessions: r.sessions },
    },
    h('td', { class: 'c-rank' }, String(r.rank)),
    h('td', { class: 'c-name' }, String(r.name)),
    teams ? null : h('td', { class: 'c-team' }, String(r.team || '')),
    h('td', { class: 'c-score' }, h('span', { class: 'score-cell' }, bar, h('span', { class: 'score-num' }, fmtScore(r.score)))),
    h('td', { class: 'c-num' }, String(r.sessions))));
  }
  el.append(h('table', { class: 'board' }, h('thead', null, head), body));
}

export function fmtScore(v) {
  const n = Number(v) || 0;
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}
