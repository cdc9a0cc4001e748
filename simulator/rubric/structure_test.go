package rubric_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/rubric"
)

// TestStructures: clause shapes (rubric.yaml `structures`) catch wording no
// lexicon lists, and leave the polite look-alikes alone.
func TestStructures(t *testing.T) {
	a := mustNew(t)
	tests := []struct {
		name, reply, customer string
		want, not             []string
	}{
		{name: "subject-led order zh", reply: "你进个人设置,把密码删了重设。", want: []string{"command"}},
		{name: "subject-led order zh, adverbs between", reply: "您直接上网点申请就可以了吧", not: []string{"command"}},
		{name: "subject-led order with 自己", reply: "你自己登陆后台核对。", want: []string{"command"}},
		{name: "permission is no order zh", reply: "您可以登录官网修改地址,有问题随时找我。", not: []string{"command"}},
		{name: "conditional is no order zh", reply: "您去营业厅的话记得带上身份证。", not: []string{"command"}},
		{name: "restatement is no order zh", reply: "您问的是退款进度,我这就帮您查。", not: []string{"command"}},
		{name: "subject-led order en", reply: "You just tap Reset and wait.", want: []string{"command"}},
		{name: "subject-led order, terse en", reply: "u call bank.", want: []string{"command"}},
		{name: "you can is no order", reply: "You can reset it under Settings, and I'm happy to walk you through it.", not: []string{"command"}},
		{name: "you'll receive is no order", reply: "You'll receive a code by text within five minutes.", not: []string{"command"}},
		{name: "if you is no order", reply: "If you send the photo, I'll log the claim straight away.", not: []string{"command"}},
		{name: "accusing question zh", reply: "您到底有没有看我发的链接?", want: []string{"irritation"}, not: []string{"ask"}},
		{name: "plain question with negation zh", reply: "您没收到验证码吗?我再给您发一次。", want: []string{"ask"}, not: []string{"irritation"}},
		{name: "accusing question en", reply: "Didn't you see the banner on the home page?", want: []string{"irritation"}, not: []string{"ask"}},
		{name: "diagnostic why-can't question", reply: "Why can't you log in? What does the error say?", want: []string{"ask"}, not: []string{"irritation"}},
		{name: "counting question is no retort", reply: "Roughly how many times a day does it restart?", not: []string{"irritation"}},
		{name: "mock agreement zh", reply: "对对对,都是我们的错,行了吧。", want: []string{"irritation"}},
		{name: "sarcastic opener en", reply: "Oh wonderful, another refund request.", want: []string{"irritation"}},
		{name: "wow with sympathy is no sarcasm", reply: "Wow, a week without heating is awful; I'm so sorry.", not: []string{"irritation"}},
		{name: "congratulations on is no sarcasm", reply: "Congratulations on the new flat! Let me move your plan over.", not: []string{"irritation"}},
		{name: "small quantity dismissed zh", reply: "一点色差罢了,不影响穿。", want: []string{"minimize"}},
		{name: "rhetorical why-bother zh", reply: "有啥好急的,迟早会到。", want: []string{"minimize"}},
		{name: "small quantity with apology zh", reply: "才两天就坏了,确实不应该,非常抱歉。", not: []string{"minimize"}},
		{name: "dismissed as trivial en", reply: "It's merely a loose thread.", want: []string{"minimize"}},
		{name: "only a minute to help is no minimiser", reply: "It only takes a minute: could you send me the order number?", not: []string{"minimize"}},
		{name: "third party at fault zh", reply: "是骑手弄丢的。", want: []string{"blame"}},
		{name: "owning the third party zh", reply: "不是您的错,是我们的配送没安排好,我来跟进。", not: []string{"blame"}},
		{name: "third party at fault en", reply: "The supplier botched that shipment.", want: []string{"blame"}},
		{name: "our side owns it en", reply: "The courier is late today, and that's on us to fix; I'll chase them now.", not: []string{"blame"}},
		{name: "bare refusal zh", reply: "这个订单取消不了,退不了。", want: []string{"flat_refusal"}},
		{name: "refusal with reason and alternative zh", reply: "已经拆封的没法退全款,不过可以给您换一台,您看可以吗?", not: []string{"flat_refusal"}},
		{name: "bare refusal en", reply: "Nope. We don't swap colours.", want: []string{"flat_refusal"}},
		{name: "refusal with reason and alternative en", reply: "I can't refund it since it's past 30 days, but I can offer a free repair.", not: []string{"flat_refusal"}},
		{name: "no idea is no bare no", reply: "No idea.", not: []string{"flat_refusal"}},
		{name: "rhetorical unknown zh", reply: "谁晓得它什么时候到。", want: []string{"flat_unknown"}},
		{name: "temper ordered down en", reply: "Whoa there, tone it down.", want: []string{"calm_down"}},
		{name: "stop asking zh", reply: "别老催了,到了自然会通知。", want: []string{"irritation"}},
		{name: "don't worry is no stop-asking", reply: "别担心,我会盯着物流。", not: []string{"irritation"}},
		{name: "counted repetition zh", reply: "这个我都解释过好几遍了。", want: []string{"irritation"}},
		{name: "the customer's repetition is acknowledged", reply: "您已经说了好几次了,真的很抱歉让您反复解释。", not: []string{"irritation"}},
		{name: "counted repetition en", reply: "I've gone over this three times now.", want: []string{"irritation"}},
		{name: "certainty promised zh", reply: "周五铁定修好。", want: []string{"over_promise"}},
		{name: "certainty denied is honest", reply: "我不敢说准能修好,周五前给您检测结果。", not: []string{"over_promise"}},
		{name: "certainty promised en", reply: "It'll be there Monday, count on it.", want: []string{"over_promise"}},
		{name: "order with a tag is still an order", reply: "You fill in the form first, okay?", want: []string{"command"}},
		{name: "claim disputed by question", reply: "我们凭什么要赔?", want: []string{"argue"}, not: []string{"ask"}},
		{name: "agent's own repetition after 跟您讲", reply: "跟您讲了好多回了。", want: []string{"irritation"}},
		{name: "quoted words are the customer's", reply: "您说\"你们一点都不在乎而已\",我明白您的失望。", customer: "你们一点都不在乎而已", not: []string{"minimize"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := a.Assess(t.Context(), simulator.AssessRequest{Reply: tt.reply, Customer: tt.customer})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range res.Signals {
				got = append(got, s.Code)
			}
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("%q: want %s, got %v", tt.reply, w, got)
				}
			}
			for _, n := range tt.not {
				if slices.Contains(got, n) {
					t.Errorf("%q: must not be %s, got %v", tt.reply, n, got)
				}
			}
		})
	}
}

// TestStructureErrors: a broken structure names the file, the line of the
// entry, the field and the fix.
func TestStructureErrors(t *testing.T) {
	base := defaultYAML(t)
	tests := []struct {
		name string
		edit string
		want []string
	}{
		{"unknown code", "    code: commandd\n", []string{"my.yaml:", "structures.", "code", "fix"}},
		{"bad scope", "    code: command\n    scope: paragraph\n", []string{"scope", "clause or sentence"}},
		{"unknown unless", "    code: command\n    unless: [_nope]\n", []string{"unless", "_nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first := "  - name: subject-led order (zh)\n    code: command\n"
			if !strings.Contains(base, first) {
				t.Fatal("rubric.yaml changed: update the test's anchor")
			}
			y := strings.Replace(base, first, "  - name: subject-led order (zh)\n"+tt.edit, 1)
			_, err := rubric.Load(fstest.MapFS{"my.yaml": {Data: []byte(y)}}, "my.yaml")
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			line := strings.Count(base[:strings.Index(base, first)], "\n") + 1
			if !strings.Contains(err.Error(), "my.yaml:"+strconv.Itoa(line)+":") {
				t.Errorf("error %q does not name line %d", err, line)
			}
		})
	}
}
