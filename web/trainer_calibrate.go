package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/sparring-gym/sparring/scenarios"
	"github.com/sparring-gym/sparring/simulator"
)

// Rubric calibration: trainers post reference transcripts labelled good,
// average or poor for a scenario, and see whether the current rubric ranks
// them in that order, step by step, before they publish.

// calibration labels, best first.
var calLabels = []string{"good", "average", "poor"}

func labelRank(l string) int {
	for i, x := range calLabels {
		if x == l {
			return len(calLabels) - i
		}
	}
	return 0
}

// CalibrationRequest is the body of POST /api/trainer/calibrate.
type CalibrationRequest struct {
	Scenario    string              `json:"scenario"`
	Lang        simulator.Lang      `json:"lang,omitempty"`
	Transcripts []CalibrationScript `json:"transcripts"`
}

// CalibrationScript is one reference transcript: either Text, pasted with
// one speaker per line ("Customer: …" / "Agent: …", 客户:/客服:), or Turns.
type CalibrationScript struct {
	Label   string            `json:"label"`
	Name    string            `json:"name,omitempty"`
	Text    string            `json:"text,omitempty"`
	Turns   []CalibrationTurn `json:"turns,omitempty"`
	Outcome simulator.Outcome `json:"outcome,omitempty"` // default resolved
}

// CalibrationTurn is one customer line and the reply to it.
type CalibrationTurn struct {
	Customer string `json:"customer,omitempty"`
	Reply    string `json:"reply"`
}

// CalibrationResult answers a calibration.
type CalibrationResult struct {
	Scenario    string                       `json:"scenario"`
	Version     int                          `json:"version"`
	Ordered     bool                         `json:"ordered"` // every step and the total
	Total       StepOrder                    `json:"total"`
	Steps       map[simulator.Step]StepOrder `json:"steps"`
	Transcripts []CalibrationScore           `json:"transcripts"`
}

// CalibrationScore is how the rubric scored one transcript.
type CalibrationScore struct {
	Name  string                 `json:"name"`
	Label string                 `json:"label"`
	Turns int                    `json:"turns"`
	Total int                    `json:"total"`
	Steps map[simulator.Step]int `json:"steps"`
}

// StepOrder says whether one score orders the labels as the trainer did.
type StepOrder struct {
	Ordered    bool           `json:"ordered"`
	Means      map[string]int `json:"means"` // label → mean score
	Inversions []Inversion    `json:"inversions"`
}

// Inversion is a pair the rubric ranks the wrong way round (or ties).
type Inversion struct {
	Better      string `json:"better"` // name of the transcript labelled better
	Worse       string `json:"worse"`
	BetterScore int    `json:"better_score"`
	WorseScore  int    `json:"worse_score"`
}

var (
	customerMarks = []string{"customer", "client", "c", "客户", "顾客", "用户"}
	agentMarks    = []string{"agent", "trainee", "staff", "a", "客服", "员工", "我"}
)

// parseTranscript reads "Speaker: text" lines; lines without a known
// speaker continue the previous line.
func parseTranscript(text string) ([]CalibrationTurn, error) {
	var turns []CalibrationTurn
	var customer string
	last := ""
	for i, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		who, rest := speaker(line)
		switch who {
		case "customer":
			customer, last = rest, who
		case "agent":
			turns = append(turns, CalibrationTurn{Customer: customer, Reply: rest})
			customer, last = "", who
		default:
			switch last {
			case "customer":
				customer += " " + line
			case "agent":
				turns[len(turns)-1].Reply += " " + line
			default:
				return nil, fmt.Errorf("line %d: start each line with the speaker, e.g. \"Customer: …\" or \"Agent: …\" (客户:/客服:)", i+1)
			}
		}
	}
	return turns, nil
}

func speaker(line string) (string, string) {
	for _, sep := range []string{":", ":"} {
		head, rest, ok := strings.Cut(line, sep)
		if !ok || utf8.RuneCountInString(head) > 12 {
			continue
		}
		h := strings.ToLower(strings.TrimSpace(head))
		for _, m := range customerMarks {
			if h == m {
				return "customer", strings.TrimSpace(rest)
			}
		}
		for _, m := range agentMarks {
			if h == m {
				return "agent", strings.TrimSpace(rest)
			}
		}
	}
	return "", line
}

func (s *Server) handleCalibrate(w http.ResponseWriter, r *http.Request, _ string) {
	if s.calibrator == nil {
		writeAPIError(w, http.StatusServiceUnavailable, "unavailable", "no rubric is configured for calibration")
		return
	}
	var req CalibrationRequest
	if !decodeJSONBodyLimit(w, r, &req, maxAuthorBody) {
		return
	}
	sc, err := s.authoring.Scenario(r.Context(), req.Scenario)
	if err != nil {
		writeFieldErrors(w, invalid("scenario", "no scenario %q; give the id of a built-in or authored scenario", req.Scenario))
		return
	}
	lang := req.Lang
	if lang == "" {
		lang = sc.Lang
	}
	var errs scenarios.ValidationErrors
	if !lang.Valid() {
		errs = append(errs, scenarios.FieldError{Path: "lang", Message: `use "zh" or "en"`})
	}
	if len(req.Transcripts) < 2 || len(req.Transcripts) > 50 {
		errs = append(errs, scenarios.FieldError{Path: "transcripts", Message: "give 2 to 50 reference transcripts with at least two different labels"})
	}
	labels := map[string]bool{}
	for i := range req.Transcripts {
		t := &req.Transcripts[i]
		p := fmt.Sprintf("transcripts[%d]", i)
		if labelRank(t.Label) == 0 {
			errs = append(errs, scenarios.FieldError{Path: p + ".label", Message: fmt.Sprintf("%q is not a label; use good, average or poor", t.Label)})
		}
		labels[t.Label] = true
		if t.Name == "" {
			t.Name = fmt.Sprintf("%s #%d", t.Label, i+1)
		}
		if t.Text != "" && len(t.Turns) == 0 {
			turns, err := parseTranscript(t.Text)
			if err != nil {
				errs = append(errs, scenarios.FieldError{Path: p + ".text", Message: err.Error()})
			}
			t.Turns = turns
		}
		if len(t.Turns) == 0 && t.Text == "" {
			errs = append(errs, scenarios.FieldError{Path: p, Message: "no agent replies; paste the transcript in text or list turns"})
		}
		if t.Outcome == "" {
			t.Outcome = simulator.OutcomeResolved
		}
	}
	if len(labels) < 2 && len(errs) == 0 {
		errs = append(errs, scenarios.FieldError{Path: "transcripts", Message: "use at least two different labels, so there is an order to check"})
	}
	if len(errs) > 0 {
		writeFieldErrors(w, errs)
		return
	}
	res := CalibrationResult{Scenario: sc.ID, Version: sc.Version, Steps: map[simulator.Step]StepOrder{}}
	for _, t := range req.Transcripts {
		cs, err := s.scoreTranscript(r.Context(), sc, lang, t)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		res.Transcripts = append(res.Transcripts, cs)
	}
	res.Ordered = true
	for _, st := range simulator.Steps {
		o := orderOf(res.Transcripts, func(c CalibrationScore) int { return c.Steps[st] })
		res.Steps[st] = o
		res.Ordered = res.Ordered && o.Ordered
	}
	res.Total = orderOf(res.Transcripts, func(c CalibrationScore) int { return c.Total })
	res.Ordered = res.Ordered && res.Total.Ordered
	writeJSON(w, http.StatusOK, res)
}

// scoreTranscript runs the rubric over a transcript as the turn loop would.
func (s *Server) scoreTranscript(ctx context.Context, sc *simulator.Scenario, lang simulator.Lang, t CalibrationScript) (CalibrationScore, error) {
	var lines []simulator.Line
	var prev []simulator.Assessment
	var recs []simulator.TurnRecord
	for i, turn := range t.Turns {
		a, err := s.calibrator.Assess(ctx, simulator.AssessRequest{Reply: turn.Reply, Lang: lang, Customer: turn.Customer,
			Transcript: lines, Previous: prev, Scenario: sc, Turn: i + 1})
		if err != nil {
			return CalibrationScore{}, fmt.Errorf("assess %s turn %d: %w", t.Name, i+1, err)
		}
		prev = append(prev, a)
		recs = append(recs, simulator.TurnRecord{Turn: i + 1, Customer: turn.Customer, Reply: turn.Reply, Assessment: a})
		if turn.Customer != "" {
			lines = append(lines, simulator.Line{Turn: i, Speaker: simulator.SpeakerCustomer, Text: turn.Customer})
		}
		lines = append(lines, simulator.Line{Turn: i + 1, Speaker: simulator.SpeakerTrainee, Text: turn.Reply})
	}
	rep, err := s.calibrator.Report(ctx, simulator.ReportRequest{Scenario: sc, Lang: lang, Mode: simulator.ModeCoach, Turns: recs, Outcome: t.Outcome})
	if err != nil {
		return CalibrationScore{}, fmt.Errorf("report %s: %w", t.Name, err)
	}
	cs := CalibrationScore{Name: t.Name, Label: t.Label, Turns: len(t.Turns), Total: rep.Total, Steps: map[simulator.Step]int{}}
	for _, st := range simulator.Steps {
		cs.Steps[st] = rep.Steps[st].Score
	}
	return cs, nil
}

// orderOf checks that every transcript labelled better scores strictly
// higher than every one labelled worse.
func orderOf(all []CalibrationScore, score func(CalibrationScore) int) StepOrder {
	o := StepOrder{Ordered: true, Means: map[string]int{}, Inversions: []Inversion{}}
	sum, n := map[string]int{}, map[string]int{}
	for _, c := range all {
		sum[c.Label] += score(c)
		n[c.Label]++
	}
	for l := range n {
		o.Means[l] = (sum[l] + n[l]/2) / n[l]
	}
	for _, a := range all {
		for _, b := range all {
			if labelRank(a.Label) > labelRank(b.Label) && score(a) <= score(b) {
				o.Ordered = false
				o.Inversions = append(o.Inversions, Inversion{Better: a.Name, Worse: b.Name, BetterScore: score(a), WorseScore: score(b)})
			}
		}
	}
	return o
}
