package rubric_test

import (
	"slices"
	"testing"

	"github.com/sparring-gym/sparring/simulator"
)

// TestRubricExamples: the example phrasings of RUBRIC.md and GUIDE.md (the
// contract's own words) are read as the signals they illustrate.
func TestRubricExamples(t *testing.T) {
	a := mustNew(t)
	prior := []simulator.Assessment{{Steps: []simulator.Step{simulator.StepUnderstand, simulator.StepAgree}}}
	examples := map[string][]string{
		"greet":                {"您好", "Hello"},
		"identify":             {"我是客服小林", "I'm Lin from support"},
		"offer_help":           {"有什么可以帮您?", "How can I help?"},
		"apologize":            {"非常抱歉给您添麻烦了", "I'm sorry about this"},
		"acknowledge_feeling":  {"换成我也会着急", "I can see why that's frustrating", "这份文件对您这么重要,却误了时间,换成我也会非常恼火。", "That document mattered a great deal and it missed the deadline. I'd be furious too."},
		"restate_fact":         {"我确认一下,您是昨天下的单,对吗?", "So it arrived at noon, not 9 — right?", "我确认一下:文件约定今天上午九点前送到,实际是中午十二点多才到,对吗?", "Let me check I have this right: it was due before 9 a.m. today and arrived just after noon?"},
		"restate_feeling":      {"这件事让您很失望", "You're clearly let down by this"},
		"ask":                  {"当时屏幕上出现了什么提示?", "What did the screen show when it stopped?", "是在商店刷卡时被拒,还是在网上付款时?", "Was it declined at a shop till or online?"},
		"options":              {"目前有两个办法:一是换货,二是退款。", "There are two ways to go: a replacement or a refund."},
		"recommend":            {"如果您最看重时间,我建议第一个。", "If speed matters most I'd suggest the first."},
		"set_expectation":      {"正常需要三个工作日,我会申请加急,但不能保证一定提前;最晚周五我一定给您答复。", "It usually takes three working days. I'll ask for priority but can't promise it'll be quicker; you'll hear from me by Friday at the latest."},
		"own":                  {"这件事由我跟进", "I'll see this through myself", "这件事由我跟进到底,您不用再找其他部门。", "I'll see this through myself. You won't need to chase anyone else."},
		"propose_plan":         {"那我们这样安排:我今天下午三点前提交,您这边只需要签收,这样您看行吗?", "Here's the plan: by 3 p.m. I'll send it, and all you need to do is sign. Does that suit you?"},
		"check_agreement":      {"您看这样可以吗?", "Would that work for you?", "帮您改到周六上午,好吗?"},
		"confirm_satisfaction": {"现在可以了吗?", "Is it working now?", "现在能正常打印了吗?", "Is it printing properly now?"},
		"offer_more":           {"还有其他需要吗?", "Anything else I can help with?"},
		"future_contact":       {"您的工单号是 A100,我周四上午会再联系您确认结果。", "Your case number is A100; I'll check back with you on Thursday morning."},
		"appreciate":           {"感谢您的耐心", "Thank you for bearing with us", "谢谢您把这件事告诉我们。", "Thank you for telling us."},
		"command":              {"你把发票拍过来", "You need to send the receipt", "先把单号发过来"},
		"blame":                {"那是物流的问题", "That's the warehouse, not us"},
		"over_promise":         {"保证明天修好", "I guarantee it'll be there by nine", "数据一定能恢复"},
		"flat_unknown":         {"不知道", "No idea", "不清楚"},
		"flat_refusal":         {"不行,规定就是这样", "No, that's the policy"},
		"show_off":             {"那个叫主板不叫机箱", "Actually it's called a router"},
		"minimize":             {"这不是什么大事", "It's not a big deal"},
		"calm_down":            {"你别激动", "Calm down", "please calm down"},
		"argue":                {"不可能,我们从来不会弄错", "That can't be right"},
		"irritation":           {"我已经说过三遍了", "As I already told you"},
		"insult":               {"你是不是不识字", "Are you stupid?"},
	}
	for code, replies := range examples {
		for _, r := range replies {
			as := assess(t, a, simulator.AssessRequest{Reply: r, Previous: prior, Turn: 3})
			if !slices.Contains(codes(as), code) {
				t.Errorf("%s: %q gave %v", code, r, codes(as))
			}
		}
	}
}
