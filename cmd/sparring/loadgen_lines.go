package main

// Scripted trainees for loadgen, written for the p01 "lost manuscript"
// scenario (the default) in both languages. A good trainee walks the
// service cycle; a poor one blames, minimises and refuses, which the
// rubric and the persona react to (angrier customer, lost outcome).
var trainerLines = map[string]map[bool][]string{
	"en": {
		true: {
			"Ms Zhao, I'm so sorry. Losing a year of your novel is devastating. I'm Lin and I'll take this on myself.",
			"When did you first notice it, and was there any email or message on the screen just before?",
			"So the PC we repaired crashed last night and a year's work is gone. Is that right?",
			"Have you kept any copies anywhere, say chapters emailed to your editor or a USB stick?",
			"I'd suggest an engineer visit tomorrow for a free diagnosis and a recovery assessment; I can't promise recovery but it often works.",
			"I'll book the engineer for 9 to 12 tomorrow and call you by 6 p.m. Would that work?",
			"Your case number is AS-20417-R. Is there anything else I can do? Thank you for bearing with us.",
		},
		false: {
			"The log shows we never touched the disk. It was probably a virus.",
			"You should have backed up your files.",
			"Calm down, it's not a big deal.",
			"There is nothing I can do about it, that's the policy.",
			"I already told you, we didn't touch the disk.",
		},
	},
	"zh": {
		true: {
			"赵女士您好,我是客服小林。一整年的书稿没了,换谁都会特别着急,真的很抱歉让您遇到这种事,这件事我来跟进。",
			"想跟您了解一下,您是什么时候发现的?崩溃之前屏幕上有没有出现什么提示,或者打开过什么邮件附件?",
			"我确认一下:电脑昨晚崩溃,一年的书稿都找不到了,是这样吗?",
			"您之前有没有把章节发邮件给编辑,或者存在 U 盘、云盘这些其他地方?",
			"我建议明天安排工程师上门免费检测,再评估能不能恢复;我不能保证一定能恢复,但很多情况是可以找回的。",
			"我帮您预约明天上午 9 点到 12 点上门,今天下午 6 点前给您回电确认,您看可以吗?",
			"您的工单号是 AS-20417-R。还有其他需要我帮忙的吗?谢谢您的耐心。",
		},
		false: {
			"记录显示我们维修时根本没动硬盘,应该是中病毒了。",
			"您自己应该备份的。",
			"您先冷静一下,这也不是什么大事。",
			"规定就是这样,我也没办法。",
			"我已经说过了,我们没有动硬盘。",
		},
	},
}

// trainerLine is the reply a scripted trainee gives on a turn (0-based);
// past the script it keeps repeating the last lines in turn.
func trainerLine(lang string, good bool, turn int) string {
	lines := trainerLines[lang][good]
	if turn < len(lines) {
		return lines[turn]
	}
	return lines[len(lines)-2+turn%2]
}
