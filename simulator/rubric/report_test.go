package rubric_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sparring-gym/sparring/scenarios"
	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/rubric"
)

// session assesses replies in order, as the turn loop does, and builds the
// report request.
func session(tb testing.TB, a *rubric.Assessor, sc *simulator.Scenario, lang simulator.Lang, mode simulator.Mode, mood simulator.Mood, customer []string, replies []string, delay time.Duration) simulator.ReportRequest {
	tb.Helper()
	req := simulator.ReportRequest{Scenario: sc, Lang: lang, Mode: mode, Mood: mood, Outcome: simulator.OutcomeResolved, Duration: time.Duration(len(replies)) * time.Minute}
	var prev []simulator.Assessment
	var transcript []simulator.Line
	for i, r := range replies {
		c := customer[min(i, len(customer)-1)]
		as := assess(tb, a, simulator.AssessRequest{Reply: r, Lang: lang, Customer: c, Transcript: transcript, Previous: prev, Scenario: sc, Turn: i + 1, Delay: delay})
		req.Turns = append(req.Turns, simulator.TurnRecord{Turn: i + 1, Customer: c, Reply: r, Assessment: as, Delay: delay})
		prev = append(prev, as)
		transcript = append(transcript, simulator.Line{Turn: i, Speaker: simulator.SpeakerCustomer, Text: c}, simulator.Line{Turn: i + 1, Speaker: simulator.SpeakerTrainee, Text: r})
	}
	return req
}

func report(tb testing.TB, a *rubric.Assessor, req simulator.ReportRequest) simulator.Report {
	tb.Helper()
	rep, err := a.Report(tb.Context(), req)
	if err != nil {
		tb.Fatal(err)
	}
	return rep
}

// transcripts builds a good, a mediocre and a poor trainee for a scenario
// from its brief alone, so the test covers every scenario in the library
// without knowing its content.
func transcripts(sc *simulator.Scenario, lang simulator.Lang) (customer, good, mediocre, poor []string) {
	name := sc.Brief.CustomerName.In(lang)
	fact := ""
	if len(sc.Brief.Context) > 0 {
		fact = sc.Brief.Context[0]
	}
	situation := sc.Brief.Situation.In(lang)
	if lang == simulator.LangZH {
		customer = []string{situation, "那你说怎么办?", "行吧,那就这样。", "好的。", "没有了。"}
		good = []string{
			fmt.Sprintf("%s您好,我是客服小林。非常抱歉给您添麻烦了,换成我也会着急。我看到了您的记录(%s),能具体说说发生了什么吗?", name, fact),
			"我确认一下,您的意思是问题到现在还没有解决,对吗?这件事让您很失望,我能理解。",
			"目前有两个办法:一是我今天就帮您提交处理,二是先给您安排一个替代方案。我建议第一个,因为更快。正常需要一到两个工作日,我不能保证更早,但这件事由我负责跟进。",
			"那我们这样安排:我今天下午五点前提交处理,明天中午前给您打电话告知进展,您看这样可以吗?",
			"您的工单号是 C-1024,有任何问题可以直接联系我。现在还有其他需要我帮忙的吗?谢谢您的耐心。",
		}
		mediocre = []string{"您好,请讲。", "好的,我看一下。", "这个一般需要几个工作日。", "有结果了会通知您。", "好的。"}
		poor = []string{"说吧,什么事。", "那是系统的问题,跟我们没关系。", "你别激动,我已经说过了,我也不知道。", "不行,规定就是这样。", "随便你,我保证明天全部搞定。"}
		return
	}
	customer = []string{situation, "So what are you going to do?", "Fine, let's do that.", "OK.", "No, that's all."}
	good = []string{
		fmt.Sprintf("Hello %s, I'm Lin from customer care. I'm really sorry about this - I can see why it's frustrating. I have your details here (%s); could you tell me what happened?", name, fact),
		"Let me check I have this right: the problem still isn't fixed, is that correct? You're clearly let down by this, and I understand.",
		"There are two options: I can submit this for you today, or set up an alternative first. I'd recommend the first because it's quicker. It usually takes one to two working days - I can't promise sooner - and I'll see this through myself.",
		"Here's the plan: I'll submit it by 5 p.m. today and call you by noon tomorrow with an update. Would that work for you?",
		"Your case number is C-1024, and you can reach me directly. Is there anything else I can help with? Thank you for your patience.",
	}
	mediocre = []string{"Hi, go ahead.", "OK, let me see.", "That usually takes a few working days.", "We'll let you know when there's news.", "OK."}
	poor = []string{"What.", "That's the system's fault, nothing to do with us.", "Calm down. As I already said, I don't know.", "No, that's the policy.", "Whatever. I guarantee it'll all be done tomorrow."}
	return
}

// TestLibraryOrdering: for every scenario in the built-in library and every
// language it is played in, a good transcript outscores a mediocre one,
// which outscores a poor one, at the same mood and timing.
func TestLibraryOrdering(t *testing.T) {
	a := mustNew(t)
	lib, err := scenarios.BuiltinLibrary()
	if err != nil {
		t.Fatalf("library: %v", err)
	}
	list, err := lib.Scenarios(t.Context())
	if err != nil || len(list) == 0 {
		t.Fatalf("library scenarios: %v (%d)", err, len(list))
	}
	mood := simulator.Mood{Anger: 40, Trust: 50}
	for _, sc := range list {
		langs := sc.Langs
		if len(langs) == 0 {
			langs = []simulator.Lang{sc.Lang}
		}
		for _, lang := range langs {
			t.Run(sc.ID+"/"+string(lang), func(t *testing.T) {
				customer, good, mediocre, poor := transcripts(sc, lang)
				g := report(t, a, session(t, a, sc, lang, simulator.ModeExam, mood, customer, good, 10*time.Second))
				m := report(t, a, session(t, a, sc, lang, simulator.ModeExam, mood, customer, mediocre, 10*time.Second))
				p := report(t, a, session(t, a, sc, lang, simulator.ModeExam, mood, customer, poor, 10*time.Second))
				if g.Total <= m.Total || m.Total <= p.Total {
					t.Errorf("totals good %d, mediocre %d, poor %d: want strictly decreasing", g.Total, m.Total, p.Total)
				}
				if g.Total < 60 {
					t.Errorf("good transcript scored only %d: %+v", g.Total, g.Steps)
				}
			})
		}
	}
}

// TestReportShape: every field present, empty lists as [], five steps and
// five dimensions, every turn's feedback.
func TestReportShape(t *testing.T) {
	a := mustNew(t)
	rep := report(t, a, simulator.ReportRequest{Lang: simulator.LangEN})
	b, _ := json.Marshal(rep)
	for _, want := range []string{`"feedback":[]`, `"hard_fails":[]`, `"evidence":[]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("empty report lacks %s: %s", want, b)
		}
	}
	if len(rep.Steps) != 5 || len(rep.Dimensions) != 5 {
		t.Fatalf("steps %d dimensions %d", len(rep.Steps), len(rep.Dimensions))
	}
	sc := phoneScenario()
	_, good, _, _ := transcripts(sc, simulator.LangZH)
	req := session(t, a, sc, simulator.LangZH, simulator.ModeCoach, simulator.Mood{Anger: 10}, []string{"我要退款"}, good, 5*time.Second)
	// A stored assessment may be missing (rebuilt sessions): it is redone.
	req.Turns[1].Assessment = simulator.Assessment{}
	rep = report(t, a, req)
	if len(rep.Feedback) != len(good) || rep.Turns != len(good) || rep.DurationS != 300 {
		t.Fatalf("feedback %d turns %d duration %d", len(rep.Feedback), rep.Turns, rep.DurationS)
	}
	if len(rep.Feedback[1].Signals) == 0 {
		t.Errorf("turn 2 was not re-assessed: %+v", rep.Feedback[1])
	}
	for _, st := range simulator.Steps {
		s := rep.Steps[st]
		if s.Advice == "" || s.Evidence == nil {
			t.Errorf("%s: advice %q evidence %v", st, s.Advice, s.Evidence)
		}
		for _, ev := range s.Evidence {
			if !slices.ContainsFunc(good, func(r string) bool { return strings.Contains(r, ev) }) {
				t.Errorf("%s evidence %q is not a trainee quote", st, ev)
			}
		}
	}
	for _, d := range simulator.Dimensions {
		if v, ok := rep.Dimensions[d]; !ok || v < 0 || v > 100 {
			t.Errorf("dimension %s = %d (%v)", d, v, ok)
		}
	}
}

// TestHardFails: insults, uncorrected out-of-policy commitments and an angry
// ending with no next step cap the total at 40.
func TestHardFails(t *testing.T) {
	a := mustNew(t)
	sc := phoneScenario()
	_, good, _, _ := transcripts(sc, simulator.LangZH)
	calm := simulator.Mood{Anger: 10}
	base := report(t, a, session(t, a, sc, simulator.LangZH, simulator.ModeCoach, calm, []string{"?"}, good, 0))
	if len(base.HardFails) != 0 || base.Total <= 40 {
		t.Fatalf("good session: total %d hard fails %v", base.Total, base.HardFails)
	}
	cases := []struct {
		name    string
		replies []string
		mood    simulator.Mood
		fail    bool
	}{
		{"insult", append(slices.Clone(good[:4]), "你是不是不识字?"), calm, true},
		{"policy uncorrected", append(slices.Clone(good[:3]), "好吧,我给您办理全额退款。", good[4]), calm, true},
		{"policy corrected", append(slices.Clone(good[:3]), "好吧,我给您办理全额退款。", "抱歉,我刚才说错了,需要更正:无故障的手机过了三天不能退款,不过我可以送您配件券。"), calm, false},
		{"angry end without next step", append(slices.Clone(good[:4]), "好的。"), simulator.Mood{Anger: 85}, true},
		{"angry end with a next step", good, simulator.Mood{Anger: 85}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := report(t, a, session(t, a, sc, simulator.LangZH, simulator.ModeCoach, c.mood, []string{"?"}, c.replies, 0))
			if c.fail != (len(rep.HardFails) > 0) {
				t.Fatalf("hard fails %v, want fail=%v", rep.HardFails, c.fail)
			}
			if c.fail && rep.Total > 40 {
				t.Errorf("total %d above the cap", rep.Total)
			}
		})
	}
}

// TestOverlayAndWeights: challenging scenarios move the total by −10…+5;
// per-scenario weights change how steps count.
func TestOverlayAndWeights(t *testing.T) {
	a := mustNew(t)
	plain := phoneScenario()
	plain.Tags = nil
	tagged := phoneScenario()
	tagged.Tags = []string{"complaint"}
	_, good, mediocre, _ := transcripts(plain, simulator.LangEN)
	mood := simulator.Mood{Anger: 20}
	for _, replies := range [][]string{good, mediocre} {
		p := report(t, a, session(t, a, plain, simulator.LangEN, simulator.ModeExam, mood, []string{"?"}, replies, 0))
		g := report(t, a, session(t, a, tagged, simulator.LangEN, simulator.ModeExam, mood, []string{"?"}, replies, 0))
		if d := g.Total - p.Total; d < -10 || d > 5 {
			t.Errorf("overlay moved the total by %d", d)
		}
	}
	pg := report(t, a, session(t, a, plain, simulator.LangEN, simulator.ModeExam, mood, []string{"?"}, good, 0))
	tg := report(t, a, session(t, a, tagged, simulator.LangEN, simulator.ModeExam, mood, []string{"?"}, good, 0))
	if tg.Total <= pg.Total {
		t.Errorf("a model complaint handling earns the overlay bonus: tagged %d plain %d", tg.Total, pg.Total)
	}
	// All weight on receive: the mediocre transcript (a greeting only) does
	// relatively better than under the default weights.
	heavy := phoneScenario()
	heavy.Tags = nil
	heavy.Weights = map[simulator.Step]float64{simulator.StepReceive: 1, simulator.StepUnderstand: 0, simulator.StepHelp: 0, simulator.StepAgree: 0, simulator.StepRetain: 0}
	d := report(t, a, session(t, a, plain, simulator.LangEN, simulator.ModeExam, mood, []string{"?"}, mediocre, 0))
	h := report(t, a, session(t, a, heavy, simulator.LangEN, simulator.ModeExam, mood, []string{"?"}, mediocre, 0))
	if h.Total == d.Total || h.Total != h.Steps[simulator.StepReceive].Score {
		t.Errorf("weights ignored: default %d, receive-only %d (receive %d)", d.Total, h.Total, h.Steps[simulator.StepReceive].Score)
	}
}

// TestResponsiveness: timing drives the responsiveness dimension; exam
// limits (20 s first, 45 s later) are stricter than coach mode.
func TestResponsiveness(t *testing.T) {
	a := mustNew(t)
	_, good, _, _ := transcripts(phoneScenario(), simulator.LangEN)
	resp := func(mode simulator.Mode, d time.Duration) int {
		return report(t, a, session(t, a, nil, simulator.LangEN, mode, simulator.Mood{}, []string{"?"}, good, d)).Dimensions[simulator.DimResponsiveness]
	}
	fast, slow := resp(simulator.ModeExam, 10*time.Second), resp(simulator.ModeExam, 80*time.Second)
	if fast != 100 || slow >= fast {
		t.Errorf("exam: fast %d slow %d", fast, slow)
	}
	if coach := resp(simulator.ModeCoach, 80*time.Second); coach <= slow {
		t.Errorf("coach mode should be more lenient: coach %d exam %d", coach, slow)
	}
}
