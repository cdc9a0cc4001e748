package scripted_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparring-gym/sparring/scenarios"
	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/scripted"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata/")

// turn is one trainee reply with a hand-built assessment, so these tests do
// not depend on the rubric.
type turn struct {
	reply   string
	signals []string
}

func sig(codes ...string) []string { return codes }

func mustLibrary(tb testing.TB) *scenarios.Library {
	tb.Helper()
	lib, err := scenarios.BuiltinLibrary()
	if err != nil {
		tb.Fatalf("load library: %v", err)
	}
	return lib
}

func mustScenario(tb testing.TB, lib *scenarios.Library, id string) *simulator.Scenario {
	tb.Helper()
	sc, err := lib.Scenario(context.Background(), id)
	if err != nil {
		tb.Fatalf("scenario %s: %v", id, err)
	}
	return sc
}

func assessment(codes []string, reply string) simulator.Assessment {
	a := simulator.Assessment{}
	for _, c := range codes {
		pol := simulator.Positive
		for _, n := range simulator.NegativeSignals {
			if n == c {
				pol = simulator.Negative
			}
		}
		a.Signals = append(a.Signals, simulator.Signal{Code: c, Polarity: pol, Evidence: reply})
	}
	return a
}

// play runs a conversation and renders it as text for a golden file.
func play(tb testing.TB, sc *simulator.Scenario, lang simulator.Lang, seed int64, turns []turn, end bool) (string, []simulator.CustomerTurn) {
	tb.Helper()
	return playWith(tb, scripted.New(), sc, lang, seed, turns, end)
}

func playWith(tb testing.TB, e *scripted.Engine, sc *simulator.Scenario, lang simulator.Lang, seed int64, turns []turn, end bool) (string, []simulator.CustomerTurn) {
	tb.Helper()
	ctx := context.Background()
	var b strings.Builder
	var all []simulator.CustomerTurn
	ct, err := e.Open(ctx, simulator.OpenRequest{Scenario: sc, Lang: lang, Seed: seed})
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	all = append(all, ct)
	fmt.Fprintf(&b, "scenario %s lang %s seed %d\n\n", sc.ID, lang, seed)
	writeTurn(&b, 0, ct)
	var transcript []simulator.Line
	transcript = append(transcript, simulator.Line{Turn: 0, Speaker: simulator.SpeakerCustomer, Text: ct.Text})
	state := ct.State
	for i, t := range turns {
		n := i + 1
		fmt.Fprintf(&b, "T%d trainee: %s\n   signals: %s\n", n, t.reply, strings.Join(t.signals, ", "))
		ct, err = e.Respond(ctx, simulator.RespondRequest{Scenario: sc, Lang: lang, Seed: seed, Turn: n, State: state,
			Reply: t.reply, Assessment: assessment(t.signals, t.reply), Transcript: transcript})
		if err != nil {
			tb.Fatalf("respond turn %d: %v", n, err)
		}
		all = append(all, ct)
		writeTurn(&b, n, ct)
		transcript = append(transcript,
			simulator.Line{Turn: n, Speaker: simulator.SpeakerTrainee, Text: t.reply},
			simulator.Line{Turn: n, Speaker: simulator.SpeakerCustomer, Text: ct.Text})
		state = ct.State
		if ct.Outcome != "" {
			return b.String(), all
		}
	}
	if end {
		o, reason, err := e.Conclude(ctx, simulator.ConcludeRequest{Scenario: sc, Lang: lang, State: state, Transcript: transcript})
		if err != nil {
			tb.Fatalf("conclude: %v", err)
		}
		fmt.Fprintf(&b, "END by trainee: %s (%s)\n", o, reason)
	}
	return b.String(), all
}

func writeTurn(b *strings.Builder, n int, ct simulator.CustomerTurn) {
	fmt.Fprintf(b, "T%d customer: %s\n   mood: anger %d trust %d\n", n, ct.Text, ct.Mood.Anger, ct.Mood.Trust)
	for _, m := range ct.Moves {
		fmt.Fprintf(b, "   move: turn %d %s anger %+d trust %+d", m.Turn, m.Signal, m.Anger, m.Trust)
		if m.Note != "" {
			fmt.Fprintf(b, " (%s)", m.Note)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(b, "   intent: %s\n", ct.Intent)
	if ct.Outcome != "" {
		fmt.Fprintf(b, "END by customer: %s (%s)\n", ct.Outcome, ct.Reason)
	}
	b.WriteString("\n")
}

type goldenCase struct {
	name     string
	scenario string
	lang     simulator.Lang
	seed     int64
	turns    []turn
}

func goldenCases() []goldenCase {
	return []goldenCase{
		{"p01-angry-good-en", "p01-lost-manuscript-en", simulator.LangEN, 7, []turn{
			{"Ms Zhao, I'm so sorry. Losing a year of your novel is devastating. I'm Lin and I'll take this on myself.", sig("greet", "identify", "apologize", "acknowledge_feeling", "own")},
			{"When did you first notice it, and was there any email or message on the screen just before?", sig("ask")},
			{"So the PC we repaired crashed last night and a year's work is gone. Is that right?", sig("restate_fact", "check_agreement")},
			{"I'd suggest an engineer visit tomorrow for a free diagnosis and a recovery assessment; I can't promise recovery but it often works.", sig("options", "recommend", "set_expectation")},
			{"I'll book the engineer for 9 to 12 tomorrow and call you by 6 p.m. Would that work?", sig("propose_plan", "check_agreement")},
			{"Your case number is AS-20417-R. Is there anything else I can do? Thank you for bearing with us.", sig("future_contact", "offer_more", "appreciate")},
		}},
		{"p01-facts-first-en", "p01-lost-manuscript-en", simulator.LangEN, 7, []turn{
			{"The log shows we never touched the disk. It was probably a virus.", sig("inform", "blame")},
			{"You should have backed up your files.", sig("blame")},
			{"Calm down, it's not a big deal.", sig("calm_down", "minimize")},
		}},
		{"p03-refund-alternative-zh", "p03-day-five-return-zh", simulator.LangZH, 3, []turn{
			{"陈先生您好，我是客服小林，看到您五天前买的 Nova 12。", sig("greet", "identify", "use_context")},
			{"不好意思，不行，规定就是这样。", sig("flat_refusal")},
			{"看到别家便宜确实不舒服。按规定无故障手机三天后不能退款，但我可以帮您做电池检测，再送您 50 元配件券，您看可以吗？", sig("acknowledge_feeling", "refuse_with_alternative", "check_agreement")},
			{"我再说明一下，电池检测如果查出问题可以直接换新机，配件券今天就发，您看这样行吗？", sig("inform", "options", "check_agreement")},
			{"配件券已经发到您的账户，还有其他需要帮忙的吗？谢谢您。", sig("confirm_satisfaction", "offer_more", "appreciate")},
		}},
		{"p03-cave-en", "p03-day-five-return-en", simulator.LangEN, 3, []turn{
			{"Hi Mr Chen, I'm Lin. I see your Nova 12 from five days ago.", sig("greet", "identify", "use_context")},
			{"OK, fine, I'll make an exception and process the full refund today.", sig("over_promise")},
			{"Is there anything else?", sig("offer_more")},
			{"Thanks for your patience.", sig("appreciate")},
		}},
		{"p05-repeat-en", "p05-broadband-date-en", simulator.LangEN, 11, []turn{
			{"Hello Mrs Liu, I'm Lin. Your order is waiting for a capacity check.", sig("greet", "identify", "inform")},
			{"The check takes up to one working day.", sig("inform")},
			{"As I already told you, it takes a day.", sig("irritation")},
			{"Installation is usually within five working days after that.", sig("set_expectation")},
			{"What will you be using it for, if you don't mind me asking?", sig("ask")},
			{"So you need to know the day it's on, because your grandson's classes start Monday. Is that right?", sig("restate_fact", "restate_feeling", "check_agreement")},
			{"I'll flag it urgent, send a 20 GB data pack and call you by 4 p.m. tomorrow. All right?", sig("propose_plan", "options", "check_agreement")},
			{"Anything else I can help with? Thank you for your patience.", sig("offer_more", "appreciate")},
		}},
	}
}

func TestGoldenTranscripts(t *testing.T) {
	lib := mustLibrary(t)
	for _, c := range goldenCases() {
		t.Run(c.name, func(t *testing.T) {
			sc := mustScenario(t, lib, c.scenario)
			got, _ := play(t, sc, c.lang, c.seed, c.turns, true)
			again, _ := play(t, sc, c.lang, c.seed, c.turns, true)
			if got != again {
				t.Fatalf("two runs with the same scenario, seed and replies differ")
			}
			path := filepath.Join("testdata", c.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden (run with -update to create): %v", err)
			}
			if !bytes.Equal([]byte(got), want) {
				t.Errorf("transcript differs from %s (run with -update if the change is intended)\n--- got\n%s", path, got)
			}
		})
	}
}

// TestVariety plays 20 turns that keep every persona talking without
// settling anything and counts customer lines said verbatim before.
func TestVariety(t *testing.T) {
	lib := mustLibrary(t)
	list, err := lib.Scenarios(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cycle := [][]string{sig("acknowledge_feeling"), sig("ask"), sig("inform"), sig("set_expectation"), sig("appreciate"), sig("apologize")}
	seen := map[string]bool{}
	for _, sc := range list {
		if sc.Drill || seen[sc.PersonaID+string(sc.Lang)] {
			continue
		}
		seen[sc.PersonaID+string(sc.Lang)] = true
		t.Run(sc.ID, func(t *testing.T) {
			var turns []turn
			for i := range 20 {
				turns = append(turns, turn{reply: fmt.Sprintf("reply %d", i+1), signals: cycle[i%len(cycle)]})
			}
			_, cts := play(t, sc, sc.Lang, 5, turns, false)
			said := map[string]int{}
			repeats := 0
			for _, ct := range cts {
				if said[ct.Text] > 0 {
					repeats++
				}
				said[ct.Text]++
			}
			t.Logf("%d customer lines, %d verbatim repeats", len(cts), repeats)
			if len(cts) > 1 && repeats*10 > len(cts) {
				t.Errorf("%d of %d customer lines repeat verbatim; want at most 10%%", repeats, len(cts))
			}
		})
	}
}
