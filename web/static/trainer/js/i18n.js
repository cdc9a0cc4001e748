// Trainer UI strings in English and Chinese; the choice is remembered.
const KEY = 'sparring.trainer.lang';

const S = {
  en: {
    brand: 'Sparring · Trainer', skip: 'Skip to main content', signout: 'Sign out',
    'nav.scenarios': 'Scenarios', 'nav.sessions': 'Sessions', 'nav.calibrate': 'Calibration', 'nav.personas': 'Personas', 'nav.trainee': 'Trainee app',
    'signin.title': 'Trainer sign-in', 'signin.hint': 'Paste a trainer token from the server configuration (trainer.tokens). It is kept for this browser tab only.',
    'signin.token': 'Trainer token', 'signin.go': 'Sign in', 'signin.wrong': 'That token is not a trainer token.', 'signin.missing': 'Enter a token.',
    'signin.expired': 'Your trainer token was refused; sign in again.',
    'scenarios.title': 'Scenarios', 'scenarios.new': 'New scenario', 'scenarios.import': 'Import YAML…',
    'scenarios.imported': 'Imported {id} as version {v}.',
    'col.id': 'Id', 'col.title': 'Title', 'col.status': 'Status', 'col.version': 'Version', 'col.created': 'Started', 'col.trainee': 'Trainee',
    'col.scenario': 'Scenario', 'col.outcome': 'Outcome', 'col.score': 'Score', 'col.turns': 'Turns', 'col.review': 'Review', 'col.name': 'Name',
    'status.builtin': 'built-in', 'status.draft': 'draft', 'status.published': 'published',
    'act.edit': 'Edit', 'act.copy': 'Copy as new', 'act.export': 'Export', 'act.delete': 'Delete', 'act.confirmDelete': 'Delete {id}? Sessions keep the versions they used.',
    'designer.title': 'Scenario designer', 'designer.save': 'Save', 'designer.publish': 'Publish', 'designer.unpublish': 'Unpublish', 'designer.export': 'Export YAML',
    'designer.hint': 'The form and the YAML are the same scenario: edit either. Every save is a new version; sessions keep the version they were played on.',
    'designer.problems': 'Problems', 'designer.valid': 'No problems: the validator accepts this scenario.', 'designer.yaml': 'YAML',
    'designer.saved': 'Saved version {v}.', 'designer.unsaved': 'unsaved', 'designer.new': 'new',
    'designer.fixFirst': 'Fix the problems before saving.', 'designer.saveFirst': 'Save the scenario first.',
    'fld.id': 'Id', 'fld.title': 'Title', 'fld.lang': 'Starts in', 'fld.langs': 'Languages (comma-separated)', 'fld.persona': 'Persona',
    'fld.difficulty': 'Difficulty (1–5)', 'fld.tags': 'Tags (comma-separated)', 'fld.published': 'Published (trainees see it)',
    'fld.brief.customer_name': 'Customer name', 'fld.brief.order': 'Order', 'fld.brief.history': 'History', 'fld.brief.situation': 'Situation',
    'fld.brief.policy_sheet': 'Policy sheet', 'fld.brief.context': 'Briefing facts (one per line)', 'fld.success': 'Success criteria',
    'fld.time_limit_s': 'Time limit (s, 0 = none)', 'fld.max_turns': 'Max replies', 'fld.customer.opening': 'Opening lines (one per line)',
    'fld.customer.issue': 'The issue, in the customer\'s words',
    'play.title': 'Test play', 'play.hint': 'Play the saved version as a trainee (drafts too), or watch a built-in bot play it.',
    'play.trainee': 'Name', 'play.start': 'Start', 'play.bot': 'Bot', 'play.watch': 'Watch the bot', 'play.reply': 'Reply', 'play.send': 'Send', 'play.end': 'End',
    'play.result': 'Outcome: {o} · score {s}/100', 'play.customer': 'Customer', 'play.you': 'Trainee',
    'sessions.title': 'Session review', 'sessions.csv': 'Export CSV', 'sessions.none': 'No sessions match.',
    'f.trainee': 'Trainee', 'f.scenario': 'Scenario', 'f.contest': 'Contest', 'f.from': 'From', 'f.to': 'To', 'f.outcome': 'Outcome',
    'f.min': 'Min score', 'f.max': 'Max score', 'f.apply': 'Filter',
    'session.title': 'Session', 'session.back': 'Back to the list', 'session.json': 'Export JSON', 'session.transcript': 'Annotated transcript',
    'session.scorecard': 'Scorecard', 'session.meta': '{trainee} · {scenario} v{v} · {mode} · {lang} · {created}',
    'session.comment': 'Comment', 'session.commentSave': 'Add comment', 'session.auto': 'automatic', 'session.override': 'trainer',
    'session.score': 'Score', 'session.reason': 'Reason', 'session.overrideSave': 'Override', 'session.noReport': 'No report yet: the session is still going.',
    'session.hint': 'Hint', 'session.whole': 'The whole session',
    'cal.title': 'Rubric calibration', 'cal.add': 'Add a transcript', 'cal.upload': 'Upload text files…', 'cal.run': 'Check the order',
    'cal.hint': 'Paste reference transcripts (one speaker per line: "Customer: …" / "Agent: …", or 客户:/客服:) labelled good, average or poor, and check that the current rubric ranks them in that order, step by step.',
    'cal.ordered': 'The rubric orders these transcripts as you labelled them.', 'cal.notOrdered': 'The rubric does not order them as labelled: see the steps marked ✗.',
    'cal.step': 'Step', 'cal.total': 'Total', 'cal.remove': 'Remove', 'cal.label': 'Label', 'cal.transcript': 'Reference transcript',
    'label.good': 'good', 'label.average': 'average', 'label.poor': 'poor',
    'personas.title': 'Personas', 'card.title': 'Import a Character Card V2', 'card.hint': 'The card becomes a draft persona; the fields our format needs are flagged for you to fill.',
    'card.file': 'Card file (.json or .png)', 'card.paste': '…or paste the JSON', 'card.import': 'Import',
    'persona.validate': 'Validate', 'persona.draft': 'Save as draft', 'persona.publish': 'Publish', 'persona.ok': 'Valid.', 'persona.saved': 'Saved version {v}.',
    'persona.needs': 'To fill before publishing', 'persona.new': 'New persona', 'persona.import': 'Import YAML…',
  },
  zh: {
    brand: 'Sparring · 培训师', skip: '跳到主要内容', signout: '退出',
    'nav.scenarios': '场景', 'nav.sessions': '练习记录', 'nav.calibrate': '评分校准', 'nav.personas': '客户画像', 'nav.trainee': '学员端',
    'signin.title': '培训师登录', 'signin.hint': '粘贴服务器配置中的培训师令牌(trainer.tokens)。令牌只保存在当前浏览器标签页。',
    'signin.token': '培训师令牌', 'signin.go': '登录', 'signin.wrong': '该令牌不是培训师令牌。', 'signin.missing': '请输入令牌。',
    'signin.expired': '培训师令牌被拒绝,请重新登录。',
    'scenarios.title': '场景', 'scenarios.new': '新建场景', 'scenarios.import': '导入 YAML…', 'scenarios.imported': '已导入 {id},第 {v} 版。',
    'col.id': 'ID', 'col.title': '标题', 'col.status': '状态', 'col.version': '版本', 'col.created': '开始时间', 'col.trainee': '学员',
    'col.scenario': '场景', 'col.outcome': '结果', 'col.score': '得分', 'col.turns': '回合', 'col.review': '点评', 'col.name': '名称',
    'status.builtin': '内置', 'status.draft': '草稿', 'status.published': '已发布',
    'act.edit': '编辑', 'act.copy': '复制为新场景', 'act.export': '导出', 'act.delete': '删除', 'act.confirmDelete': '删除 {id}?已有练习仍保留其所用版本。',
    'designer.title': '场景设计', 'designer.save': '保存', 'designer.publish': '发布', 'designer.unpublish': '撤回发布', 'designer.export': '导出 YAML',
    'designer.hint': '表单与 YAML 是同一个场景,任选其一编辑。每次保存生成新版本;练习记录保留其所用版本。',
    'designer.problems': '问题', 'designer.valid': '没有问题:校验通过。', 'designer.yaml': 'YAML',
    'designer.saved': '已保存第 {v} 版。', 'designer.unsaved': '未保存', 'designer.new': '新建',
    'designer.fixFirst': '请先修正问题再保存。', 'designer.saveFirst': '请先保存场景。',
    'fld.id': 'ID', 'fld.title': '标题', 'fld.lang': '起始语言', 'fld.langs': '可用语言(逗号分隔)', 'fld.persona': '客户画像',
    'fld.difficulty': '难度(1–5)', 'fld.tags': '标签(逗号分隔)', 'fld.published': '已发布(学员可见)',
    'fld.brief.customer_name': '客户称呼', 'fld.brief.order': '订单', 'fld.brief.history': '历史', 'fld.brief.situation': '情况',
    'fld.brief.policy_sheet': '政策说明', 'fld.brief.context': '简报要点(每行一条)', 'fld.success': '成功标准',
    'fld.time_limit_s': '时限(秒,0 为不限)', 'fld.max_turns': '最多回复数', 'fld.customer.opening': '开场白(每行一句)',
    'fld.customer.issue': '客户口中的问题',
    'play.title': '试练', 'play.hint': '以学员身份试练已保存的版本(草稿也可),或观看内置机器人演练。',
    'play.trainee': '姓名', 'play.start': '开始', 'play.bot': '机器人', 'play.watch': '观看机器人', 'play.reply': '回复', 'play.send': '发送', 'play.end': '结束',
    'play.result': '结果:{o} · 得分 {s}/100', 'play.customer': '客户', 'play.you': '学员',
    'sessions.title': '练习点评', 'sessions.csv': '导出 CSV', 'sessions.none': '没有符合条件的练习。',
    'f.trainee': '学员', 'f.scenario': '场景', 'f.contest': '比赛', 'f.from': '起', 'f.to': '止', 'f.outcome': '结果',
    'f.min': '最低分', 'f.max': '最高分', 'f.apply': '筛选',
    'session.title': '练习', 'session.back': '返回列表', 'session.json': '导出 JSON', 'session.transcript': '带批注的对话',
    'session.scorecard': '评分卡', 'session.meta': '{trainee} · {scenario} 第{v}版 · {mode} · {lang} · {created}',
    'session.comment': '批注', 'session.commentSave': '添加批注', 'session.auto': '自动', 'session.override': '培训师',
    'session.score': '分数', 'session.reason': '理由', 'session.overrideSave': '改分', 'session.noReport': '暂无报告:练习仍在进行。',
    'session.hint': '提示', 'session.whole': '整场练习',
    'cal.title': '评分校准', 'cal.add': '添加对话', 'cal.upload': '上传文本文件…', 'cal.run': '检查排序',
    'cal.hint': '粘贴参考对话(每行一个说话人:“客户:…”/“客服:…”,或 Customer:/Agent:),标注为好、中、差,检查当前评分规则是否在每个步骤上按此排序。',
    'cal.ordered': '评分规则的排序与标注一致。', 'cal.notOrdered': '评分规则的排序与标注不一致:见标 ✗ 的步骤。',
    'cal.step': '步骤', 'cal.total': '总分', 'cal.remove': '移除', 'cal.label': '标注', 'cal.transcript': '参考对话',
    'label.good': '好', 'label.average': '中', 'label.poor': '差',
    'personas.title': '客户画像', 'card.title': '导入 Character Card V2', 'card.hint': '角色卡会成为草稿画像;我们格式需要的字段会被标出,供你填写。',
    'card.file': '角色卡文件(.json 或 .png)', 'card.paste': '…或粘贴 JSON', 'card.import': '导入',
    'persona.validate': '校验', 'persona.draft': '存为草稿', 'persona.publish': '发布', 'persona.ok': '校验通过。', 'persona.saved': '已保存第 {v} 版。',
    'persona.needs': '发布前需填写', 'persona.new': '新建画像', 'persona.import': '导入 YAML…',
  },
};

let current = (() => {
  const v = localStorage.getItem(KEY);
  if (v === 'zh' || v === 'en') return v;
  return (navigator.language || '').toLowerCase().startsWith('zh') ? 'zh' : 'en';
})();

export function lang() { return current; }

export function t(key, vars) {
  let s = (S[current] && S[current][key]) || S.en[key] || key;
  for (const [k, v] of Object.entries(vars || {})) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}

export function applyI18n(root = document) {
  document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
}

export function toggleLang() {
  current = current === 'zh' ? 'en' : 'zh';
  localStorage.setItem(KEY, current);
  applyI18n();
}
