package rubric_test

import (
	"slices"
	"testing"

	"github.com/sparring-gym/sparring/simulator"
)

// TestReportedMisreads pins the misreads reported against the scorer: each
// reply must show the codes in want and none of the codes in not.
func TestReportedMisreads(t *testing.T) {
	a := mustNew(t)
	sc := phoneScenario()
	tests := []struct {
		name     string
		reply    string
		customer string
		scenario bool
		want     []string
		not      []string
	}{
		{name: "a case id is not an amount", reply: "您的索赔编号是 SF-66120-C,补偿券我这边已经申请了。", scenario: true, want: []string{"future_contact"}, not: []string{"over_promise"}},
		{name: "an order id is not an amount (en)", reply: "Your claim reference is A20931 and the voucher request is in.", scenario: true, not: []string{"over_promise"}},
		{name: "a real amount over the cap still is", reply: "我送您一张 200 元的代金券。", scenario: true, want: []string{"over_promise"}},
		{name: "agreeing is not quoting (zh)", reply: "您说得对,这是我们的错,非常抱歉。", want: []string{"own", "apologize"}, not: []string{"restate_fact"}},
		{name: "agreeing is not quoting (en)", reply: "You're right, it was our fault and I'm sorry.", want: []string{"own", "apologize"}},
		{name: "a promised approval is a promise", reply: "No problem, I'll get the full refund approved for you today.", scenario: true, want: []string{"over_promise"}},
		{name: "asking whether it can be approved is not", reply: "I'll ask my supervisor whether a full refund can be approved and call you back within the hour.", scenario: true, not: []string{"over_promise"}},
		{name: "fetching right away", reply: "请稍等,我马上给您拿过来", want: []string{"own", "set_expectation"}},
		{name: "fetching right away (en)", reply: "One moment, I'm grabbing them for you right now.", want: []string{"own", "set_expectation"}},
		{name: "you need to know inside a restatement", reply: "I hear that you need to know this won't happen again.", not: []string{"command", "over_promise"}},
		{name: "tell me what you want is an order", reply: "Tell me what you want exactly, I don't have all day.", want: []string{"command"}, not: []string{"restate_fact"}},
		{name: "a question is not future contact", reply: "請問您的訂單號是多少呢?", want: []string{"ask"}, not: []string{"future_contact"}},
		{name: "vague look into it is no ownership", reply: "We'll look into it.", not: []string{"own"}},
		{name: "not blaming you", reply: "I'm not blaming you at all, and I'm sorry it came across that way.", want: []string{"apologize"}, not: []string{"blame"}},
		{name: "cannot guarantee", reply: "我不能保证明天修好,最晚周五给您答复。", want: []string{"set_expectation"}, not: []string{"over_promise"}},
		{name: "third-party blame", reply: "That's the courier's fault, not ours.", want: []string{"blame"}},
		{name: "delegated blame zh", reply: "这是快递的锅,跟我们没关系。", want: []string{"blame"}},
		{name: "bare imperative after a lead word", reply: "Just check your bank statement again before you message us.", want: []string{"command"}},
		{name: "polite request is no command", reply: "Could you check your bank statement and let me know?", not: []string{"command"}},
		{name: "courtesy opening is no command", reply: "Take your time, and go ahead whenever you're ready.", not: []string{"command"}},
		{name: "traditional flat unknown with a particle", reply: "不曉得耶。", want: []string{"flat_unknown"}},
		{name: "promising one's own call-back", reply: "我保证今天下午五点前给您回电。", not: []string{"over_promise"}},
		{name: "promising one's own call-back (en)", reply: "I promise I'll call you back by 5pm.", not: []string{"over_promise"}},
		{name: "promising the outcome still is", reply: "我保证明天修好,修好后给您回电。", want: []string{"over_promise"}},
		{name: "a rhetorical question is irritation", reply: "难道你不会自己看订单吗?", want: []string{"irritation"}, not: []string{"ask"}},
		{name: "scoping a promise is honest", reply: "我可以保证的是,今天下班前一定给您回复进度。", want: []string{"set_expectation"}, not: []string{"over_promise"}},
		{name: "steps asked for are instructions", reply: "Open the app, go to Orders and tap Return. I'll approve it on my side straight away.", customer: "How do I return it?", not: []string{"command"}},
		{name: "steps asked for are instructions (zh)", reply: "打开订单页面,点击申请退货,填写原因就可以了。", customer: "怎么退货?", not: []string{"command"}},
		{name: "the same steps unasked are orders", reply: "Open the app and go to Orders. Now.", customer: "Where's my refund?", want: []string{"command"}},
		{name: "naming the courier's tracking is no blame", reply: "The courier's tracking shows it left the depot at 9, so it should arrive today.", not: []string{"blame"}},
		{name: "I told you is no quotation", reply: "刚才不是跟你说过了吗?", want: []string{"irritation"}, not: []string{"ask", "restate_fact"}},
		{name: "echoed insult is restated, not an insult", reply: "您说我们是\"骗子\",我能感受到您现在非常失望。", customer: "你们就是一群骗子!", want: []string{"restate_fact"}, not: []string{"insult"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := simulator.AssessRequest{Reply: tt.reply, Customer: tt.customer}
			if tt.scenario {
				req.Scenario = sc
			}
			got := codes(assess(t, a, req))
			for _, c := range tt.want {
				if !slices.Contains(got, c) {
					t.Errorf("%q: want %s, got %v", tt.reply, c, got)
				}
			}
			for _, c := range tt.not {
				if slices.Contains(got, c) {
					t.Errorf("%q: %s must not fire, got %v", tt.reply, c, got)
				}
			}
		})
	}
}
