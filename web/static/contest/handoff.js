// The bridge between the contest join page and the trainee app (/):
// join.js stores the `start` request and opens the app; the app takes it
// (once) and starts the session; a refusal sends the trainee back to the
// join page with the server's message. During a contest session the app
// reports pasted replies and a lost tab focus as `note` frames, recorded
// for the trainer and never blocking.

const KEY = 'sparring.contest.join';
const ENTRANT = 'sparring.contest.entrant';

export function handOff(req) {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(req));
    localStorage.setItem(ENTRANT, JSON.stringify({ trainee: req.trainee, team: req.team }));
  } catch {
    // storage disabled: the app cannot pick it up; nothing else would work either
  }
  location.href = '/';
}

export function rememberedEntrant() {
  try {
    return JSON.parse(localStorage.getItem(ENTRANT) || '{}') || {};
  } catch {
    return {};
  }
}

// takeJoin returns the pending contest start request, once.
export function takeJoin() {
  try {
    const raw = sessionStorage.getItem(KEY);
    sessionStorage.removeItem(KEY);
    const v = raw ? JSON.parse(raw) : null;
    if (!v || typeof v.contest !== 'string' || typeof v.trainee !== 'string') return null;
    const req = { contest: v.contest, trainee: v.trainee, team: String(v.team || ''), mode: 'exam' };
    if (typeof v.scenario === 'string' && v.scenario) req.scenario = v.scenario;
    if (v.lang === 'zh' || v.lang === 'en') req.lang = v.lang;
    return req;
  } catch {
    return null;
  }
}

// joinFailed goes back to the join page with the server's message.
export function joinFailed(req, message) {
  location.href = `/contest/join.html?code=${encodeURIComponent(req.contest)}&error=${encodeURIComponent(message)}`;
}

// watchIntegrity sends `note` frames for pastes into the reply box and for
// the tab losing focus, while a contest session is active.
export function watchIntegrity(session, reply) {
  let lastBlur = 0;
  const note = (kind, text) => {
    if (!session.meta?.contest || session.state !== 'active' || !session.conn) return;
    session.conn.send({ type: 'note', kind, text });
  };
  reply.addEventListener('paste', (ev) => {
    const n = (ev.clipboardData?.getData('text') || '').length;
    note('paste', `pasted ${n} characters`);
  });
  const blur = (why) => {
    const now = Date.now();
    if (now - lastBlur < 2000) return; // blur and visibilitychange come together
    lastBlur = now;
    note('blur', why);
  };
  window.addEventListener('blur', () => blur('window lost focus'));
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') blur('tab hidden');
  });
}
