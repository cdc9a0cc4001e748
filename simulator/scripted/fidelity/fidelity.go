// Package fidelity plays every scenario with scripted trainee bots through
// the real turn loop (simulator.Simulator with the scripted customer, the
// rubric assessor and a session store) and checks that each persona behaves
// as its card says: good service calms it, rudeness loses it, caving in and
// over-promising are caught by the score, and the repeat asker repeats until
// the question is restated.
package fidelity

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sparring-gym/sparring/simulator"
)

// Bot is a scripted trainee.
type Bot string

const (
	Excellent    Bot = "excellent"
	Mediocre     Bot = "mediocre"
	Rude         Bot = "rude"
	CavesIn      Bot = "caves-in"
	OverPromiser Bot = "over-promiser"
)

// Bots lists every bot in table order.
func Bots() []Bot { return []Bot{Excellent, Mediocre, Rude, CavesIn, OverPromiser} }

// Result is one scenario played by one bot in one language.
type Result struct {
	Scenario string
	Lang     simulator.Lang
	Bot      Bot
	Outcome  simulator.Outcome
	Reason   string
	Start    simulator.Mood
	Final    simulator.Mood
	Score    int
	// HardFails are the report's reasons for capping the total.
	HardFails []string
	Turns     int
	// Signals are the signal codes of every assessed reply, in turn order.
	Signals [][]string
	// Customer are the customer's lines, opening first; Replies the bot's.
	Customer []string
	Replies  []string
	// Repeats counts customer lines (after the opening) that ask the
	// scenario's question again; SettledTurn is the first turn whose reply
	// restated or checked it (0: never).
	Repeats     int
	SettledTurn int
	// RepeatsAfterSettled counts repeats after SettledTurn (want 0).
	RepeatsAfterSettled int
	// Missing lists customer turns before SettledTurn that did not repeat.
	Missing []int
}

// Flagged reports whether the score caught an over-promise or cave-in.
func (r Result) Flagged() bool {
	for _, s := range r.Signals {
		if slices.Contains(s, "over_promise") {
			return r.Score <= 40 || len(r.HardFails) > 0
		}
	}
	return false
}

// Runner plays bots through a Simulator.
type Runner struct {
	Sim *simulator.Simulator
	Lib simulator.Library
}

// Run plays every scenario of the library in every language it supports,
// with every bot. The seed is fixed so the table is reproducible.
func (r Runner) Run(ctx context.Context, seed int64) ([]Result, error) {
	list, err := r.Lib.Scenarios(ctx)
	if err != nil {
		return nil, err
	}
	var out []Result
	for _, sc := range list {
		for _, lang := range sc.Langs {
			for _, bot := range Bots() {
				res, err := r.Play(ctx, sc, lang, bot, seed)
				if err != nil {
					return nil, fmt.Errorf("%s %s %s: %w", sc.ID, lang, bot, err)
				}
				out = append(out, res)
			}
		}
	}
	return out, nil
}

// Play runs one bot through one scenario.
func (r Runner) Play(ctx context.Context, sc *simulator.Scenario, lang simulator.Lang, bot Bot, seed int64) (Result, error) {
	res := Result{Scenario: sc.ID, Lang: lang, Bot: bot}
	sess, _, err := r.Sim.Start(ctx, simulator.StartRequest{Scenario: sc.ID, Trainee: "bot-" + string(bot),
		Mode: simulator.ModeExam, Engine: simulator.EngineScripted, Lang: lang, Seed: &seed})
	if err != nil {
		return res, fmt.Errorf("start: %w", err)
	}
	for i, reply := range Script(bot, sc, lang) {
		if sess.State == simulator.StateEnded {
			break
		}
		if _, err := r.Sim.Reply(ctx, sess, fmt.Sprintf("r%d", i+1), reply, nil); err != nil {
			return res, fmt.Errorf("reply %d: %w", i+1, err)
		}
	}
	if sess.State != simulator.StateEnded {
		if _, err := r.Sim.End(ctx, sess); err != nil {
			return res, fmt.Errorf("end: %w", err)
		}
	}
	first := true
	for _, e := range sess.Events {
		switch e.Type {
		case simulator.EventCustomer:
			if e.Mood != nil {
				if first {
					res.Start = *e.Mood
				}
				res.Final = *e.Mood
			}
			first = false
			res.Customer = append(res.Customer, e.Text)
		case simulator.EventAck:
			res.Turns++
			res.Replies = append(res.Replies, e.Text)
			var codes []string
			if e.Assessment != nil {
				for _, s := range e.Assessment.Signals {
					codes = append(codes, s.Code)
				}
			}
			res.Signals = append(res.Signals, codes)
		case simulator.EventEnd:
			res.Outcome, res.Reason = e.Outcome, e.Reason
		case simulator.EventReport:
			if e.Report != nil {
				res.Score = e.Report.Total
				res.HardFails = e.Report.HardFails
			}
		}
	}
	if sc.Persona != nil && sc.Persona.RepeatsQuestion {
		repeats(&res, sc, lang)
	}
	return res, nil
}

func repeats(res *Result, sc *simulator.Scenario, lang simulator.Lang) {
	// After one of these, in a reply that is not also rude, the repeat asker
	// feels understood.
	settles := []string{"restate_fact", "check_agreement", "confirm_satisfaction"}
	for i, codes := range res.Signals {
		rude := slices.ContainsFunc(codes, func(c string) bool { return slices.Contains(simulator.NegativeSignals, c) })
		if res.SettledTurn == 0 && !rude && slices.ContainsFunc(codes, func(c string) bool { return slices.Contains(settles, c) }) {
			res.SettledTurn = i + 1
		}
	}
	// Customer[t] answers reply t. The last line may be a goodbye, so it is
	// not required to repeat.
	for turn := 1; turn < len(res.Customer); turn++ {
		line := res.Customer[turn]
		asked := slices.ContainsFunc(sc.Customer.Questions, func(q simulator.Text) bool { return strings.Contains(line, q.In(lang)) })
		settled := res.SettledTurn != 0 && turn >= res.SettledTurn
		switch {
		case asked && settled:
			res.RepeatsAfterSettled++
		case asked:
			res.Repeats++
		case !settled && turn < len(res.Customer)-1:
			res.Missing = append(res.Missing, turn)
		}
	}
}

// Check returns what a result gets wrong against the scenario's expectations
// (GUIDE §4 endings; issue 3 acceptance). Empty means it behaves.
func Check(res Result, sc *simulator.Scenario) []string {
	var bad []string
	fail := func(f string, a ...any) { bad = append(bad, fmt.Sprintf(f, a...)) }
	good := res.Outcome == simulator.OutcomeResolved || res.Outcome == simulator.OutcomeRetained
	switch res.Bot {
	case Excellent:
		if !good {
			fail("excellent ended %s, want resolved or retained", res.Outcome)
		}
		if res.Final.Anger >= res.Start.Anger {
			fail("excellent: anger %d → %d, want it to fall", res.Start.Anger, res.Final.Anger)
		}
		if len(res.HardFails) > 0 {
			fail("excellent hit hard fails %v", res.HardFails)
		}
	case Rude:
		if res.Outcome != simulator.OutcomeLost && res.Outcome != simulator.OutcomeEscalated {
			fail("rude ended %s, want lost or escalated", res.Outcome)
		}
		if res.Final.Anger <= res.Start.Anger {
			fail("rude: anger %d → %d, want it to rise", res.Start.Anger, res.Final.Anger)
		}
	case CavesIn, OverPromiser:
		if !res.Flagged() {
			fail("%s not flagged: over_promise seen=%v, score %d, hard fails %v", res.Bot,
				slices.ContainsFunc(res.Signals, func(s []string) bool { return slices.Contains(s, "over_promise") }), res.Score, res.HardFails)
		}
	}
	if sc.Persona != nil && sc.Persona.RepeatsQuestion && len(sc.Customer.Questions) > 0 {
		if res.RepeatsAfterSettled > 0 {
			fail("repeat asker asked again %d× after the question was restated on turn %d", res.RepeatsAfterSettled, res.SettledTurn)
		}
		if res.Bot == Excellent && len(res.Missing) > 0 {
			fail("repeat asker did not repeat on turns %v before it was restated", res.Missing)
		}
	}
	return bad
}

// WriteTable prints outcome, mood and score per scenario × language × bot,
// with a last column naming any failed expectation.
func WriteTable(w io.Writer, results []Result, scenarios map[string]*simulator.Scenario) (failures int, err error) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tLANG\tBOT\tOUTCOME\tANGER\tTRUST\tSCORE\tTURNS\tCHECK")
	for _, r := range results {
		check := "ok"
		if problems := Check(r, scenarios[r.Scenario]); len(problems) > 0 {
			check = "FAIL: " + strings.Join(problems, "; ")
			failures++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d→%d\t%d→%d\t%d\t%d\t%s\n", r.Scenario, r.Lang, r.Bot, r.Outcome,
			r.Start.Anger, r.Final.Anger, r.Start.Trust, r.Final.Trust, r.Score, r.Turns, check)
	}
	if err := tw.Flush(); err != nil {
		return failures, err
	}
	_, err = fmt.Fprintf(w, "\n%d runs, %d failing expectations\n", len(results), failures)
	return failures, err
}

// WriteTranscript prints a run turn by turn with the signals the rubric
// read in each reply, for looking into a failing expectation.
func WriteTranscript(w io.Writer, r Result) error {
	fmt.Fprintf(w, "== %s %s %s: %s (%s), anger %d→%d, trust %d→%d, score %d %v\n", r.Scenario, r.Lang, r.Bot, r.Outcome, r.Reason,
		r.Start.Anger, r.Final.Anger, r.Start.Trust, r.Final.Trust, r.Score, r.HardFails)
	for i, c := range r.Customer {
		if i > 0 && i-1 < len(r.Replies) {
			fmt.Fprintf(w, "  T%d agent:    %s\n              [%s]\n", i, r.Replies[i-1], strings.Join(r.Signals[i-1], " "))
		}
		fmt.Fprintf(w, "  T%d customer: %s\n", i, c)
	}
	_, err := fmt.Fprintln(w)
	return err
}

// SteppingClock returns a clock that starts at a fixed instant and moves on
// by step at every call, so reply delays (and so scores) are reproducible.
func SteppingClock(step time.Duration) func() time.Time {
	t := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	return func() time.Time {
		t = t.Add(step)
		return t
	}
}
