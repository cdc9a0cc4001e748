package rubric_test

import (
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/sparring-gym/sparring/scenarios"
	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/scripted/fidelity"
)

// benchReplies are typical replies up to 300 characters in both languages.
var benchReplies = []string{
	"您好,我是售后顾问小林。非常抱歉让您久等了,换成我也会着急。我确认一下:文件约定今天上午九点前送到,实际是中午十二点多才到,对吗?这件事由我跟进到底,最晚今天下午五点前给您答复,您看这样可以吗?",
	"Hi Ms Zhao, I'm Lin from after-sales. I'm really sorry about this - I can see why it's frustrating. Let me check I have this right: it was due before 9 a.m. and arrived just after noon? I'll look into it myself and call you back by 5 p.m. today. Would that work for you?",
	"你别激动,这不是什么大事,我已经说过三遍了,那是物流的问题。",
	"As I already told you, that's the courier's problem. Calm down. I guarantee it'll be there tomorrow.",
	"好的",
	"我理解您看到别家更便宜,心里不舒服。按规定,没有质量问题的手机过了三天就不能退款,这一点我没法为您破例。不过我可以马上帮您做一次电池检测,再送您一张配件券,您看这样可以吗?",
	"I understand it stings to see it cheaper elsewhere. Phones without a fault can't be returned after three days, and I can't make an exception there. What I can do right now is run a battery check and give you an accessory voucher. Would that help?",
	"Sorry 让您久等了, let me check your order status right away 😊",
}

// BenchmarkAssess measures one reply at a time on one goroutine; run with
// -cpu 1 for the single-core figure the README quotes.
func BenchmarkAssess(b *testing.B) {
	a := mustNew(b)
	ctx := b.Context()
	var chars int
	for _, r := range benchReplies {
		chars += len([]rune(r))
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	n := 0
	for b.Loop() {
		r := benchReplies[n%len(benchReplies)]
		n++
		if _, err := a.Assess(ctx, simulator.AssessRequest{Reply: r}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "replies/s")
	// The CI machine is shared; CPU time spent by this process is the
	// figure that does not depend on what else is running.
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(n)/cpu.Seconds(), "replies/cpu-s")
	}
}

// cpuTime is the user+system time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAssessTurn measures Assess as the turn loop calls it: with the
// scenario, the customer's line, the transcript so far and the earlier
// assessments (the repeat check reads every earlier reply).
func BenchmarkAssessTurn(b *testing.B) {
	a := mustNew(b)
	lib, err := scenarios.BuiltinLibrary()
	if err != nil {
		b.Fatal(err)
	}
	sc, err := lib.Scenario(b.Context(), "p01-lost-manuscript-en")
	if err != nil {
		b.Fatal(err)
	}
	customer := "You people wiped my computer! A whole year of my novel, gone. What are you going to do about it?"
	// A good trainee's side: the scenario's own playbook, as the fidelity
	// bots play it.
	replies := fidelity.Script(fidelity.Excellent, sc, simulator.LangEN)
	// Precompute each turn's request as the simulator would build it.
	reqs := make([]simulator.AssessRequest, len(replies))
	var transcript []simulator.Line
	var previous []simulator.Assessment
	for i, reply := range replies {
		transcript = append(transcript, simulator.Line{Turn: i + 1, Speaker: simulator.SpeakerCustomer, Text: customer})
		reqs[i] = simulator.AssessRequest{
			Reply: reply, Lang: simulator.LangEN, Customer: customer, Scenario: sc, Turn: i + 1,
			Transcript: slices.Clone(transcript), Previous: slices.Clone(previous),
		}
		as, err := a.Assess(b.Context(), reqs[i])
		if err != nil {
			b.Fatal(err)
		}
		previous = append(previous, as)
		transcript = append(transcript, simulator.Line{Turn: i + 1, Speaker: simulator.SpeakerTrainee, Text: reply})
	}
	ctx := b.Context()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if _, err := a.Assess(ctx, reqs[n%len(reqs)]); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "replies/s")
}
