// Interface strings in English and Chinese. The conversation itself is in the
// session's language; only the chrome around it follows this setting.

const STORE_KEY = 'sparring.lang';

const en = {
  'app.name': 'Sparring',
  'app.tagline': 'Practise the hard conversations before they happen.',
  'lang.switch': '中文',
  'lang.switch.label': 'Switch interface language to Chinese',
  'skip': 'Skip to main content',
  'colon': ': ',

  'picker.title': 'Choose a scenario',
  'picker.filters': 'Filters',
  'filter.lang': 'Language',
  'filter.difficulty': 'Difficulty',
  'filter.persona': 'Customer type',
  'filter.any': 'Any',
  'picker.count': '{n} scenarios',
  'picker.count.one': '1 scenario',
  'picker.empty': 'No scenario matches these filters.',
  'picker.loading': 'Loading scenarios…',
  'picker.loadError': 'Could not load the scenarios: {msg}',
  'picker.choose': 'Pick a scenario on the left to read its brief.',
  'picker.retry': 'Try again',

  'difficulty.label': 'Difficulty {n} of 5',
  'untimed': 'Untimed',
  'minutes': '{n} min',
  'maxTurns': 'up to {n} replies',

  'brief.title': 'Before you start',
  'brief.customer': 'Customer',
  'brief.order': 'Order',
  'brief.history': 'History',
  'brief.situation': 'Situation',
  'brief.policy': 'What you may offer',
  'brief.loading': 'Loading the brief…',
  'brief.show': 'Brief',
  'brief.hide': 'Hide brief',

  'start.name': 'Your name',
  'start.name.hint': 'Shown on your scorecard and in contests.',
  'start.mode': 'Mode',
  'mode.coach': 'Coach',
  'mode.coach.desc': 'a hint after every reply',
  'mode.exam': 'Exam',
  'mode.exam.desc': 'no help; scored at the end',
  'start.engine': 'Customer engine',
  'engine.scripted': 'Scripted',
  'engine.scripted.desc': 'rule-based, always available',
  'engine.llm': 'Language model',
  'engine.llm.desc': 'free-form, if the server has one',
  'start.playLang': 'Conversation language',
  'start.button': 'Start the conversation',
  'start.starting': 'Starting…',
  'start.nameRequired': 'Please enter your name (1–64 characters).',
  'start.llmUnavailable': 'The language-model customer is not available on this server right now. Choose Scripted, or ask your trainer to set it up.',

  'lang.zh': '中文',
  'lang.en': 'English',

  'chat.transcript': 'Conversation',
  'chat.turn': 'Turn {n}',
  'chat.turnLabel': 'Turn',
  'chat.turnOf': 'Turn {n} / {max}',
  'chat.mode': 'Mode',
  'chat.state': 'State',
  'chat.state.active': 'In progress',
  'chat.state.ended': 'Ended',
  'chat.timeLeft': 'Time left',
  'chat.you': 'You',
  'chat.typing': '{name} is typing…',
  'chat.input': 'Your reply',
  'chat.input.placeholder': 'Type your reply. Enter sends, Shift+Enter adds a line.',
  'chat.send': 'Send',
  'chat.end': 'End conversation',
  'chat.end.confirm': 'End the conversation now and see your scorecard?',
  'chat.sending': 'Sending…',
  'chat.notSent': 'Not sent: {msg}',
  'chat.retry': 'Retry',
  'chat.ended': 'The conversation is over: {outcome}.',
  'chat.waitReport': 'Preparing your scorecard…',
  'chat.viewReport': 'See the scorecard',
  'chat.tooLong': 'A reply can be at most 2000 characters.',
  'chat.timeUp': 'Time is up.',
  'chat.customerSays': '{name} says: {text}',

  'conn.online': 'Connected',
  'conn.offline': 'Reconnecting…',
  'conn.offlineIn': 'Connection lost. Reconnecting in {s} s…',
  'conn.resumed': 'Reconnected. Nothing was lost.',
  'conn.lost': 'This session can no longer be resumed: {msg}',

  'mood.title': 'Customer mood',
  'mood.anger': 'Anger',
  'mood.trust': 'Trust',
  'mood.moves': 'What moved it',
  'mood.noMoves': 'Changes appear here after your replies.',
  'mood.moveLabel': 'Turn {turn}: {signal}, anger {anger}, trust {trust}',
  'mood.detail.reply': 'Your reply',
  'mood.detail.signal': 'Signal',
  'mood.detail.hint': 'Hover or tap a change to see which reply caused it.',
  'mood.chart': 'Anger and trust over the conversation',

  'coach.title': 'Coach',
  'coach.steps': 'Service steps shown so far',
  'coach.none': 'Your first hint appears after your first reply.',
  'coach.exam': 'Exam mode: feedback comes with the scorecard.',
  'coach.noHint': 'Good — keep going.',

  'report.title': 'Scorecard',
  'report.total': 'Total score',
  'report.outcome': 'Outcome',
  'report.turns': 'Replies',
  'report.duration': 'Duration',
  'report.mode': 'Mode',
  'report.steps': 'The five steps',
  'report.stepsChart': 'Score per service step',
  'report.dimensions': 'Service quality',
  'report.evidence': 'Evidence',
  'report.noEvidence': 'No reply showed this step.',
  'report.advice': 'Advice',
  'report.hardFails': 'Score capped because:',
  'report.transcript': 'Transcript, turn by turn',
  'report.replyScore': 'Reply score {n}',
  'report.download': 'Download JSON',
  'report.print': 'Print',
  'report.again': 'New practice',
  'report.retry': 'Try this scenario again',
  'report.trainee': 'Trainee',
  'report.scenario': 'Scenario',
  'report.signals': 'Signals',
  'report.strongest': 'Strongest',
  'report.focus': 'Work on next',

  'verdict.good': 'good',
  'verdict.ok': 'ok',
  'verdict.poor': 'poor',

  'outcome.resolved': 'Resolved',
  'outcome.retained': 'Retained',
  'outcome.escalated': 'Escalated',
  'outcome.lost': 'Lost',
  'outcome.timeout': 'Timed out',
  'outcome.abandoned': 'Abandoned',

  'step.receive': 'Receive',
  'step.understand': 'Understand',
  'step.help': 'Help',
  'step.agree': 'Agree',
  'step.retain': 'Retain',

  'dim.reliability': 'Reliability',
  'dim.assurance': 'Assurance',
  'dim.tangibles': 'Tangibles',
  'dim.empathy': 'Empathy',
  'dim.responsiveness': 'Responsiveness',

  'sig.greet': 'Greet',
  'sig.identify': 'Identify yourself',
  'sig.offer_help': 'Offer help',
  'sig.use_context': 'Use the brief',
  'sig.apologize': 'Apologise',
  'sig.acknowledge_feeling': 'Acknowledge feeling',
  'sig.ask': 'Ask',
  'sig.restate_fact': 'Restate facts',
  'sig.restate_feeling': 'Restate feelings',
  'sig.inform': 'Inform',
  'sig.options': 'Options',
  'sig.recommend': 'Recommend',
  'sig.set_expectation': 'Set expectations',
  'sig.own': 'Take ownership',
  'sig.propose_plan': 'Propose a plan',
  'sig.check_agreement': 'Check agreement',
  'sig.refuse_with_alternative': 'Refuse with an alternative',
  'sig.escalate_cleanly': 'Escalate cleanly',
  'sig.confirm_satisfaction': 'Confirm satisfaction',
  'sig.offer_more': 'Offer more',
  'sig.future_contact': 'Future contact',
  'sig.appreciate': 'Appreciate',
  'sig.command': 'Commanding tone',
  'sig.blame': 'Blame',
  'sig.over_promise': 'Over-promise',
  'sig.flat_unknown': 'Flat “I don’t know”',
  'sig.flat_refusal': 'Flat refusal',
  'sig.show_off': 'Show off',
  'sig.minimize': 'Minimise',
  'sig.calm_down': '“Calm down”',
  'sig.argue': 'Argue',
  'sig.irritation': 'Irritation',
  'sig.insult': 'Insult',

  'err.generic': 'Something went wrong: {msg}',
  'err.network': 'The server cannot be reached.',
};

const zh = {
  'app.name': 'Sparring 陪练',
  'app.tagline': '难缠的对话,先在这里练熟。',
  'lang.switch': 'English',
  'lang.switch.label': '切换界面语言为英文',
  'skip': '跳到主要内容',
  'colon': ':',

  'picker.title': '选择练习场景',
  'picker.filters': '筛选',
  'filter.lang': '语言',
  'filter.difficulty': '难度',
  'filter.persona': '客户类型',
  'filter.any': '全部',
  'picker.count': '共 {n} 个场景',
  'picker.count.one': '共 1 个场景',
  'picker.empty': '没有符合筛选条件的场景。',
  'picker.loading': '正在加载场景…',
  'picker.loadError': '无法加载场景:{msg}',
  'picker.choose': '从左侧选择一个场景,查看情况简介。',
  'picker.retry': '重试',

  'difficulty.label': '难度 {n}/5',
  'untimed': '不限时',
  'minutes': '{n} 分钟',
  'maxTurns': '最多 {n} 次回复',

  'brief.title': '开始之前',
  'brief.customer': '客户',
  'brief.order': '订单',
  'brief.history': '历史记录',
  'brief.situation': '情况',
  'brief.policy': '你可以提供的',
  'brief.loading': '正在加载简介…',
  'brief.show': '简介',
  'brief.hide': '收起简介',

  'start.name': '你的名字',
  'start.name.hint': '显示在成绩单和比赛排行榜上。',
  'start.mode': '模式',
  'mode.coach': '教练',
  'mode.coach.desc': '每次回复后给出提示',
  'mode.exam': '考试',
  'mode.exam.desc': '全程无提示,结束后评分',
  'start.engine': '客户引擎',
  'engine.scripted': '脚本',
  'engine.scripted.desc': '基于规则,随时可用',
  'engine.llm': '大语言模型',
  'engine.llm.desc': '自由对话,需服务器已配置',
  'start.playLang': '对话语言',
  'start.button': '开始对话',
  'start.starting': '正在开始…',
  'start.nameRequired': '请输入你的名字(1–64 个字符)。',
  'start.llmUnavailable': '此服务器目前无法使用大语言模型客户。请选择“脚本”,或请培训师配置。',

  'lang.zh': '中文',
  'lang.en': 'English',

  'chat.transcript': '对话',
  'chat.turn': '第 {n} 轮',
  'chat.turnLabel': '轮次',
  'chat.turnOf': '第 {n}/{max} 轮',
  'chat.mode': '模式',
  'chat.state': '状态',
  'chat.state.active': '进行中',
  'chat.state.ended': '已结束',
  'chat.timeLeft': '剩余时间',
  'chat.you': '你',
  'chat.typing': '{name} 正在输入…',
  'chat.input': '你的回复',
  'chat.input.placeholder': '输入回复。Enter 发送,Shift+Enter 换行。',
  'chat.send': '发送',
  'chat.end': '结束对话',
  'chat.end.confirm': '现在结束对话并查看成绩单吗?',
  'chat.sending': '发送中…',
  'chat.notSent': '未发送:{msg}',
  'chat.retry': '重试',
  'chat.ended': '对话已结束:{outcome}。',
  'chat.waitReport': '正在生成成绩单…',
  'chat.viewReport': '查看成绩单',
  'chat.tooLong': '回复最多 2000 个字符。',
  'chat.timeUp': '时间到。',
  'chat.customerSays': '{name} 说:{text}',

  'conn.online': '已连接',
  'conn.offline': '正在重新连接…',
  'conn.offlineIn': '连接中断,{s} 秒后重连…',
  'conn.resumed': '已重新连接,内容没有丢失。',
  'conn.lost': '无法继续这个会话:{msg}',

  'mood.title': '客户情绪',
  'mood.anger': '愤怒',
  'mood.trust': '信任',
  'mood.moves': '变化原因',
  'mood.noMoves': '你回复之后,这里会显示情绪的变化。',
  'mood.moveLabel': '第 {turn} 轮:{signal},愤怒 {anger},信任 {trust}',
  'mood.detail.reply': '你的回复',
  'mood.detail.signal': '信号',
  'mood.detail.hint': '将鼠标悬停或点按某个变化,查看是哪句回复引起的。',
  'mood.chart': '对话过程中的愤怒与信任',

  'coach.title': '教练',
  'coach.steps': '已展示的服务步骤',
  'coach.none': '第一次回复后,这里会出现提示。',
  'coach.exam': '考试模式:反馈会在成绩单中给出。',
  'coach.noHint': '很好,继续。',

  'report.title': '成绩单',
  'report.total': '总分',
  'report.outcome': '结果',
  'report.turns': '回复数',
  'report.duration': '用时',
  'report.mode': '模式',
  'report.steps': '服务五步',
  'report.stepsChart': '各服务步骤得分',
  'report.dimensions': '服务质量五维度',
  'report.evidence': '依据',
  'report.noEvidence': '没有回复体现这一步。',
  'report.advice': '建议',
  'report.hardFails': '总分被封顶,原因:',
  'report.transcript': '逐轮对话记录',
  'report.replyScore': '本句得分 {n}',
  'report.download': '下载 JSON',
  'report.print': '打印',
  'report.again': '新的练习',
  'report.retry': '再练一次这个场景',
  'report.trainee': '学员',
  'report.scenario': '场景',
  'report.signals': '信号',
  'report.strongest': '做得最好',
  'report.focus': '下次重点',

  'verdict.good': '好',
  'verdict.ok': '一般',
  'verdict.poor': '差',

  'outcome.resolved': '已解决',
  'outcome.retained': '已挽留',
  'outcome.escalated': '已升级',
  'outcome.lost': '客户流失',
  'outcome.timeout': '超时',
  'outcome.abandoned': '中途放弃',

  'step.receive': '接待',
  'step.understand': '理解',
  'step.help': '帮助',
  'step.agree': '达成共识',
  'step.retain': '留住',

  'dim.reliability': '信赖度',
  'dim.assurance': '专业度',
  'dim.tangibles': '有形度',
  'dim.empathy': '同理度',
  'dim.responsiveness': '反应度',

  'sig.greet': '问候',
  'sig.identify': '自我介绍',
  'sig.offer_help': '主动提供帮助',
  'sig.use_context': '运用已知信息',
  'sig.apologize': '致歉',
  'sig.acknowledge_feeling': '体谅感受',
  'sig.ask': '提问',
  'sig.restate_fact': '复述事实',
  'sig.restate_feeling': '复述情感',
  'sig.inform': '提供信息',
  'sig.options': '提供选择',
  'sig.recommend': '给出建议',
  'sig.set_expectation': '设定期望值',
  'sig.own': '承担责任',
  'sig.propose_plan': '提出方案',
  'sig.check_agreement': '征求同意',
  'sig.refuse_with_alternative': '拒绝并给替代方案',
  'sig.escalate_cleanly': '妥善升级',
  'sig.confirm_satisfaction': '确认满意',
  'sig.offer_more': '询问其他需要',
  'sig.future_contact': '安排后续联系',
  'sig.appreciate': '表达感谢',
  'sig.command': '命令式语气',
  'sig.blame': '推卸责任',
  'sig.over_promise': '过度承诺',
  'sig.flat_unknown': '一句“不知道”',
  'sig.flat_refusal': '生硬拒绝',
  'sig.show_off': '卖弄专业',
  'sig.minimize': '轻视问题',
  'sig.calm_down': '叫客户冷静',
  'sig.argue': '争辩',
  'sig.irritation': '不耐烦',
  'sig.insult': '侮辱',

  'err.generic': '出错了:{msg}',
  'err.network': '无法连接服务器。',
};

const DICTS = { en, zh };
const listeners = new Set();

function readStored() {
  try {
    const v = localStorage.getItem(STORE_KEY);
    return v === 'zh' || v === 'en' ? v : null;
  } catch {
    return null; // storage can be disabled; fall back to the browser language
  }
}

function fromNavigator() {
  const langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || 'en'];
  for (const l of langs) {
    const low = String(l).toLowerCase();
    if (low.startsWith('zh')) return 'zh';
    if (low.startsWith('en')) return 'en';
  }
  return 'en';
}

let current = readStored() || fromNavigator();

export function lang() {
  return current;
}

export function setLang(l, { remember = true } = {}) {
  if (l !== 'zh' && l !== 'en') return;
  current = l;
  if (remember) {
    try {
      localStorage.setItem(STORE_KEY, l);
    } catch {
      // not remembered, still switched
    }
  }
  applyDocument();
  for (const fn of listeners) fn(l);
}

export function onLangChange(fn) {
  listeners.add(fn);
}

// t looks a key up in the current language, then in English, then shows the
// key itself so a missing string is visible rather than blank.
export function t(key, vars) {
  let s = DICTS[current][key] ?? en[key] ?? key;
  if (vars) {
    for (const [k, v] of Object.entries(vars)) s = s.split(`{${k}}`).join(String(v));
  }
  return s;
}

// label gives a display name for a rubric code ("step.help", "sig.blame"),
// falling back to the raw code for codes the project adds later.
export function label(prefix, code) {
  const key = `${prefix}.${code}`;
  return DICTS[current][key] ?? en[key] ?? String(code);
}

// pick chooses a string from a value that is either a plain string or a
// {zh, en} map, preferring the given language.
export function pick(v, prefer = current) {
  if (v == null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'object') {
    if (v[prefer]) return String(v[prefer]);
    for (const k of ['zh', 'en']) if (v[k]) return String(v[k]);
    const first = Object.values(v).find((x) => typeof x === 'string' && x);
    return first || '';
  }
  return String(v);
}

// applyDocument refreshes every element that carries a static string key.
export function applyDocument(root = document) {
  document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-aria-label]')) el.setAttribute('aria-label', t(el.dataset.i18nAriaLabel));
  document.title = t('app.name');
}
