package rubric

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"go.yaml.in/yaml/v3"

	"github.com/sparring-gym/sparring/simulator"
)

//go:embed testdata/devset.jsonl
var devSet []byte

//go:embed testdata/devscenarios.yaml
var devScenarios []byte

// DevItem is one labelled reply of a development set (testdata/devset.jsonl).
type DevItem struct {
	ID       string           `json:"id"`
	Lang     simulator.Lang   `json:"lang"`
	Customer string           `json:"customer"`
	Text     string           `json:"text"`
	Scenario string           `json:"scenario,omitempty"`
	Steps    []simulator.Step `json:"steps"`
	Signals  []string         `json:"signals"`
	// Prior lists the steps earlier turns already showed (for the order rules).
	Prior []simulator.Step `json:"prior,omitempty"`
}

// DevSet returns the embedded development set and the policies it refers to.
func DevSet() ([]DevItem, map[string]*simulator.Scenario, error) {
	items, err := ReadDevSet(bytes.NewReader(devSet))
	if err != nil {
		return nil, nil, err
	}
	sc, err := ReadDevScenarios(devScenarios)
	return items, sc, err
}

// ReadDevSet reads labelled replies, one JSON object per line.
func ReadDevSet(r io.Reader) ([]DevItem, error) {
	var out []DevItem
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	known := map[string]bool{}
	for _, c := range Codes() {
		known[c] = true
	}
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var it DevItem
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&it); err != nil {
			return nil, fmt.Errorf("dev set line %d: %w", n, err)
		}
		if !it.Lang.Valid() || it.Text == "" {
			return nil, fmt.Errorf("dev set line %d (%s): lang must be zh or en and text non-empty", n, it.ID)
		}
		for _, c := range it.Signals {
			if !known[c] {
				return nil, fmt.Errorf("dev set line %d (%s): unknown signal %q", n, it.ID, c)
			}
		}
		out = append(out, it)
	}
	return out, sc.Err()
}

type devScenario struct {
	ID      string   `yaml:"id"`
	Lang    string   `yaml:"lang"`
	Tags    []string `yaml:"tags"`
	Context []string `yaml:"context"`
	Policy  struct {
		RefundWindowDays int      `yaml:"refund_window_days"`
		VoucherCap       int      `yaml:"voucher_cap"`
		NeedsSupervisor  []string `yaml:"needs_supervisor"`
		Forbidden        []struct {
			ID       string              `yaml:"id"`
			Keywords map[string][]string `yaml:"keywords"`
		} `yaml:"forbidden"`
	} `yaml:"policy"`
}

// ReadDevScenarios reads the policy sheets a dev set refers to.
func ReadDevScenarios(data []byte) (map[string]*simulator.Scenario, error) {
	var list []devScenario
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf("dev scenarios: %w", err)
	}
	out := map[string]*simulator.Scenario{}
	for _, d := range list {
		sc := &simulator.Scenario{ID: d.ID, Lang: simulator.Lang(d.Lang), Tags: d.Tags}
		sc.Brief.Context = d.Context
		sc.Policy.RefundWindowDays = d.Policy.RefundWindowDays
		sc.Policy.VoucherCap = d.Policy.VoucherCap
		sc.Policy.NeedsSupervisor = d.Policy.NeedsSupervisor
		for _, f := range d.Policy.Forbidden {
			kw := map[simulator.Lang][]string{}
			for l, ws := range f.Keywords {
				kw[simulator.Lang(l)] = ws
			}
			sc.Policy.Forbidden = append(sc.Policy.Forbidden, simulator.Commitment{ID: f.ID, Keywords: kw})
		}
		out[d.ID] = sc
	}
	return out, nil
}

// Metric counts agreement with the gold labels for one label.
type Metric struct {
	TP, FP, FN int
}

func (m Metric) Precision() float64 { return ratio(m.TP, m.TP+m.FP) }
func (m Metric) Recall() float64    { return ratio(m.TP, m.TP+m.FN) }
func (m Metric) F1() float64 {
	p, r := m.Precision(), m.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1 // nothing to find and nothing claimed: no error
	}
	return float64(a) / float64(b)
}

// LangEval is the scorer's agreement with the dev set in one language.
type LangEval struct {
	Lang    simulator.Lang
	Items   int
	Steps   map[simulator.Step]Metric
	Signals map[string]Metric
	// Misses lists the items where the predicted signals differ from gold.
	Misses []Miss
}

// Miss is one disagreement, for tuning by category rather than by item.
type Miss struct {
	ID      string
	Text    string
	Missing []string
	Extra   []string
}

// StepMacroF1 averages F1 over the five steps.
func (l *LangEval) StepMacroF1() float64 {
	sum := 0.0
	for _, st := range simulator.Steps {
		sum += l.Steps[st].F1()
	}
	return sum / float64(len(simulator.Steps))
}

// SignalMacroF1 averages F1 over the codes that occur in gold or output.
func (l *LangEval) SignalMacroF1() float64 {
	sum, n := 0.0, 0
	for _, m := range l.Signals {
		if m.TP+m.FP+m.FN > 0 {
			sum += m.F1()
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// NegativeRecall is the micro-averaged recall of the negative codes.
func (l *LangEval) NegativeRecall() float64 {
	var m Metric
	for _, c := range negativeCodes {
		m.TP += l.Signals[c].TP
		m.FN += l.Signals[c].FN
	}
	return m.Recall()
}

// NegativePrecision is the micro-averaged precision of the negative codes.
func (l *LangEval) NegativePrecision() float64 {
	var m Metric
	for _, c := range negativeCodes {
		m.TP += l.Signals[c].TP
		m.FP += l.Signals[c].FP
	}
	return m.Precision()
}

// Evaluate scores every dev item and compares with its gold labels.
func Evaluate(ctx context.Context, a *Assessor, items []DevItem, scenarios map[string]*simulator.Scenario) ([]*LangEval, error) {
	by := map[simulator.Lang]*LangEval{}
	for _, l := range simulator.Langs {
		by[l] = &LangEval{Lang: l, Steps: map[simulator.Step]Metric{}, Signals: map[string]Metric{}}
	}
	for _, it := range items {
		req := simulator.AssessRequest{Reply: it.Text, Customer: it.Customer, Turn: 1}
		if it.Scenario != "" {
			sc, ok := scenarios[it.Scenario]
			if !ok {
				return nil, fmt.Errorf("dev item %s: unknown scenario %q", it.ID, it.Scenario)
			}
			req.Scenario = sc
		}
		if len(it.Prior) > 0 {
			req.Previous = []simulator.Assessment{{Steps: it.Prior}}
			req.Turn = 2
		}
		as, err := a.Assess(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("dev item %s: %w", it.ID, err)
		}
		le := by[it.Lang]
		le.Items++
		for _, st := range simulator.Steps {
			le.Steps[st] = count(le.Steps[st], slices.Contains(it.Steps, st), slices.Contains(as.Steps, st))
		}
		got := make([]string, 0, len(as.Signals))
		for _, s := range as.Signals {
			got = append(got, s.Code)
		}
		var miss Miss
		for _, c := range Codes() {
			g, p := slices.Contains(it.Signals, c), slices.Contains(got, c)
			le.Signals[c] = count(le.Signals[c], g, p)
			if g && !p {
				miss.Missing = append(miss.Missing, c)
			}
			if p && !g {
				miss.Extra = append(miss.Extra, c)
			}
		}
		if len(miss.Missing)+len(miss.Extra) > 0 {
			miss.ID, miss.Text = it.ID, it.Text
			le.Misses = append(le.Misses, miss)
		}
	}
	return []*LangEval{by[simulator.LangZH], by[simulator.LangEN]}, nil
}

func count(m Metric, gold, pred bool) Metric {
	switch {
	case gold && pred:
		m.TP++
	case pred:
		m.FP++
	case gold:
		m.FN++
	}
	return m
}

// WriteEval prints per-step and per-signal precision, recall and F1 and the
// macro figures for each language; verbose adds every disagreement.
func WriteEval(w io.Writer, evals []*LangEval, verbose bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, le := range evals {
		fmt.Fprintf(tw, "== %s: %d replies\t\t\t\t\t\n", le.Lang, le.Items)
		fmt.Fprintf(tw, "step\tP\tR\tF1\tsupport\t\n")
		for _, st := range simulator.Steps {
			m := le.Steps[st]
			fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t%d\t\n", st, m.Precision(), m.Recall(), m.F1(), m.TP+m.FN)
		}
		fmt.Fprintf(tw, "signal\tP\tR\tF1\tsupport\t\n")
		for _, c := range Codes() {
			m := le.Signals[c]
			if m.TP+m.FP+m.FN == 0 {
				continue
			}
			fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t%d\t\n", c, m.Precision(), m.Recall(), m.F1(), m.TP+m.FN)
		}
		fmt.Fprintf(tw, "step macro-F1\t%.3f\t\t\t\t\n", le.StepMacroF1())
		fmt.Fprintf(tw, "signal macro-F1\t%.3f\t\t\t\t\n", le.SignalMacroF1())
		fmt.Fprintf(tw, "negative-signal recall\t%.3f\t\t\t\t\n", le.NegativeRecall())
		fmt.Fprintf(tw, "negative-signal precision\t%.3f\t\t\t\t\n", le.NegativePrecision())
		fmt.Fprintf(tw, "\t\t\t\t\t\n")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if verbose {
		for _, le := range evals {
			for _, m := range le.Misses {
				fmt.Fprintf(w, "%s\tmissing=%s\textra=%s\t%s\n", m.ID, strings.Join(m.Missing, ","), strings.Join(m.Extra, ","), m.Text)
			}
		}
	}
	return nil
}
