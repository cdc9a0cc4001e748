package main

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sparring-gym/sparring/scenarios"
	"github.com/sparring-gym/sparring/simulator"
)

// newPlayCmd is `sparring play SCENARIO`: a practice session in the terminal
// on the same turn loop, scorer and storage as the server.
func newPlayCmd(env *cliEnv) *cobra.Command {
	var (
		lang, mode, trainee string
		seed                int64
	)
	cmd := &cobra.Command{
		Use:   "play SCENARIO",
		Short: "Practise a scenario in the terminal (see `sparring scenarios list`)",
		Long: `Play starts a practice session in the terminal: read the brief, then type your replies, one
per line. The customer answers with their mood (anger and trust, 0–100) and what moved it; in
coach mode each reply also gets feedback and a hint. Type /end to close the conversation (the
customer decides how it ended) and see the scorecard, or /help for the commands. Sessions run on
the embedded in-memory storage, with the same scorer and customer engine as the server.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			logger := slog.New(slog.NewTextHandler(io.Discard, nil))
			lib, err := scenarios.BuiltinLibrary()
			if err != nil {
				return err
			}
			sc, err := lib.Scenario(ctx, args[0])
			if err != nil {
				return fmt.Errorf("%s; see `sparring scenarios list`", simulator.ErrorMessage(err, simulator.LangEN))
			}
			l := simulator.Lang(lang)
			if lang == "" {
				l = sc.Lang
			}
			if !sc.Supports(l) {
				return fmt.Errorf("--lang %q: scenario %s is played in %v", lang, sc.ID, sc.Langs)
			}
			m := simulator.Mode(mode)
			if m != simulator.ModeCoach && m != simulator.ModeExam {
				return fmt.Errorf("--mode %q: use coach or exam", mode)
			}
			sim, closeStore, err := localSimulator(ctx, lib, logger, nil)
			if err != nil {
				return err
			}
			defer closeStore()
			req := simulator.StartRequest{Scenario: sc.ID, Trainee: trainee, Mode: m, Engine: simulator.EngineScripted, Lang: l}
			if cmd.Flags().Changed("seed") {
				req.Seed = &seed
			}
			sess, _, err := sim.Start(ctx, req)
			if err != nil {
				return err
			}
			p := &printer{w: out, lang: l}
			p.brief(sc)
			p.events(sess.Events)
			in := bufio.NewScanner(env.stdin)
			in.Buffer(make([]byte, 64*1024), 64*1024)
			n := 0
			for sess.State == simulator.StateActive {
				fmt.Fprint(out, p.t("\n> ", "\n> "))
				if !in.Scan() {
					fmt.Fprintln(out)
					break // end of input: close the conversation
				}
				text := strings.TrimSpace(in.Text())
				switch text {
				case "":
					continue
				case "/help":
					p.help()
					continue
				case "/end", "/quit":
				default:
					n++
					evs, err := sim.Reply(ctx, sess, fmt.Sprintf("t%d", n), text, nil)
					if err != nil {
						p.line(p.t("(not sent: %s)", "（未发送：%s)"), simulator.ErrorMessage(err, l))
						continue
					}
					p.events(evs)
					continue
				}
				break
			}
			if sess.State == simulator.StateActive {
				evs, err := sim.End(ctx, sess)
				if err != nil {
					return err
				}
				p.events(evs)
			}
			return in.Err()
		},
	}
	cmd.Flags().StringVar(&lang, "lang", "", "play in zh or en (default: the scenario's language)")
	cmd.Flags().StringVar(&mode, "mode", "coach", "coach (feedback after every reply) or exam (scorecard at the end)")
	cmd.Flags().StringVar(&trainee, "trainee", "terminal", "your display name")
	cmd.Flags().Int64Var(&seed, "seed", 0, "fix the customer's choices (default: random)")
	return cmd
}

// printer renders session events for the terminal in the session language.
type printer struct {
	w    io.Writer
	lang simulator.Lang
}

func (p *printer) t(en, zh string) string {
	if p.lang == simulator.LangZH {
		return zh
	}
	return en
}

func (p *printer) line(format string, a ...any) { fmt.Fprintf(p.w, format+"\n", a...) }

func (p *printer) brief(sc *simulator.Scenario) {
	l := p.lang
	p.line("== %s (%s) ==", sc.Title.In(l), sc.ID)
	b := sc.Brief
	p.line(p.t("Customer: %s", "客户：%s"), b.CustomerName.In(l))
	for _, f := range []struct {
		label string
		text  simulator.Text
	}{{p.t("Order", "订单"), b.Order}, {p.t("History", "历史"), b.History}, {p.t("Situation", "情况"), b.Situation}, {p.t("Policy", "政策"), b.PolicySheet}} {
		if s := f.text.In(l); s != "" {
			p.line(p.t("%s: %s", "%s：%s"), f.label, s)
		}
	}
	limit := p.t("untimed", "不限时")
	if sc.TimeLimitS > 0 {
		limit = fmt.Sprintf(p.t("%d min", "%d 分钟"), (sc.TimeLimitS+59)/60)
	}
	p.line(p.t("Up to %d replies, %s. Type /end to finish, /help for help.", "最多 %d 次回复，%s。输入 /end 结束，/help 查看帮助。"), sc.MaxTurns, limit)
}

func (p *printer) help() {
	p.line(p.t("Type your reply and press Enter. /end closes the conversation and shows the scorecard.",
		"输入回复后按回车。/end 结束对话并显示评分。"))
}

func bar(v int) string {
	n := max(0, min(10, (v+5)/10))
	return strings.Repeat("█", n) + strings.Repeat("░", 10-n)
}

func (p *printer) events(evs []simulator.Event) {
	for _, e := range evs {
		switch e.Type {
		case simulator.EventFeedback:
			if a := e.Feedback; a != nil {
				var codes []string
				for _, s := range a.Signals {
					codes = append(codes, string(s.Polarity)+s.Code)
				}
				p.line(p.t("  [coach] %s, %d/100 %s", "  [教练] %s,%d/100 %s"), a.Verdict, a.Score, strings.Join(codes, " "))
				if a.Hint != "" {
					p.line(p.t("  [hint] %s", "  [提示] %s"), a.Hint)
				}
			}
		case simulator.EventCustomer:
			p.line(p.t("\n%s: %s", "\n%s：%s"), p.t("Customer", "客户"), e.Text)
			if e.Mood != nil {
				p.line(p.t("  anger %s %3d   trust %s %3d", "  愤怒 %s %3d   信任 %s %3d"), bar(e.Mood.Anger), e.Mood.Anger, bar(e.Mood.Trust), e.Mood.Trust)
			}
			var moves []string
			for _, m := range e.Moves {
				moves = append(moves, fmt.Sprintf("%s %+d/%+d", m.Signal, m.Anger, m.Trust))
			}
			if len(moves) > 0 {
				p.line(p.t("  moved by: %s", "  情绪变化：%s"), strings.Join(moves, ", "))
			}
		case simulator.EventEnd:
			p.line(p.t("\n== Ended: %s. %s", "\n== 结束：%s。%s"), e.Outcome, e.Reason)
		case simulator.EventReport:
			if r := e.Report; r != nil {
				p.report(r)
			}
		}
	}
}

func (p *printer) report(r *simulator.Report) {
	p.line(p.t("== Score %d/100 (%d replies, outcome %s)", "== 得分 %d/100（%d 次回复，结果 %s）"), r.Total, r.Turns, r.Outcome)
	for _, s := range simulator.Steps {
		st, ok := r.Steps[s]
		if !ok {
			continue
		}
		p.line("  %-10s %3d  %s", s, st.Score, st.Advice)
	}
	dims := make([]string, 0, len(r.Dimensions))
	for _, d := range simulator.Dimensions {
		if v, ok := r.Dimensions[d]; ok {
			dims = append(dims, fmt.Sprintf("%s %d", d, v))
		}
	}
	if len(dims) > 0 {
		p.line("  %s", strings.Join(dims, " · "))
	}
	if len(r.HardFails) > 0 {
		p.line(p.t("  capped: %s", "  封顶原因：%s"), strings.Join(slices.Clone(r.HardFails), "; "))
	}
}
