// Package simulator holds Sparring's domain: sessions, turns, events, the
// service-cycle vocabulary, and the turn loop that drives a persona
// (Customer), a scorer (Assessor) and a session log (Store). It does no I/O
// of its own; adapters for Redis, OpenAI and HTTP live in other packages and
// depend on this one, never the reverse.
package simulator

import (
	"strings"
	"time"
)

// Lang is an interface and content language. Chinese and English are both
// first-class.
type Lang string

const (
	LangZH Lang = "zh"
	LangEN Lang = "en"
)

// Langs lists the supported languages in display order.
var Langs = []Lang{LangZH, LangEN}

// Valid reports whether l is a supported language.
func (l Lang) Valid() bool { return l == LangZH || l == LangEN }

// Text is a string given in one or more languages.
type Text map[Lang]string

// In returns the text in lang, falling back to the other language so a
// half-translated scenario still shows something.
func (t Text) In(lang Lang) string {
	if s := t[lang]; s != "" {
		return s
	}
	for _, l := range Langs {
		if s := t[l]; s != "" {
			return s
		}
	}
	return ""
}

// Step is one of the five steps of the service cycle (RUBRIC.md).
type Step string

const (
	StepReceive    Step = "receive"
	StepUnderstand Step = "understand"
	StepHelp       Step = "help"
	StepAgree      Step = "agree"
	StepRetain     Step = "retain"
)

// Steps lists the five steps in cycle order.
var Steps = []Step{StepReceive, StepUnderstand, StepHelp, StepAgree, StepRetain}

// Polarity says whether a signal earns (+) or costs (-) points.
type Polarity string

const (
	Positive Polarity = "+"
	Negative Polarity = "-"
)

// Signal is one thing a reply does, with the reply's own words as evidence.
// Codes are the RUBRIC.md codes (e.g. "apologize", "blame").
type Signal struct {
	Code     string   `json:"code"`
	Polarity Polarity `json:"polarity"`
	Evidence string   `json:"evidence"`
}

// Verdict is the one-word judgement of a single reply (RUBRIC.md).
type Verdict string

const (
	VerdictGood Verdict = "good"
	VerdictOK   Verdict = "ok"
	VerdictPoor Verdict = "poor"
)

// Mood is the customer's visible state; both values are 0–100.
type Mood struct {
	Anger int `json:"anger"`
	Trust int `json:"trust"`
}

// Clamp keeps both values inside 0–100.
func (m Mood) Clamp() Mood {
	return Mood{Anger: clamp(m.Anger, 0, 100), Trust: clamp(m.Trust, 0, 100)}
}

func clamp(v, lo, hi int) int { return max(lo, min(hi, v)) }

// MoodMove records one change of mood and what caused it, so the UI can show
// which reply and which signal moved the meter.
type MoodMove struct {
	Turn   int    `json:"turn"`
	Signal string `json:"signal"`
	Anger  int    `json:"anger"` // delta
	Trust  int    `json:"trust"` // delta
	Note   string `json:"note,omitempty"`
}

// Outcome says how a conversation ended (RUBRIC.md).
type Outcome string

const (
	OutcomeResolved  Outcome = "resolved"
	OutcomeRetained  Outcome = "retained"
	OutcomeEscalated Outcome = "escalated"
	OutcomeLost      Outcome = "lost"
	OutcomeTimeout   Outcome = "timeout"
	OutcomeAbandoned Outcome = "abandoned"
)

// Mode decides when feedback is shown: per turn (coach) or at the end (exam).
type Mode string

const (
	ModeCoach Mode = "coach"
	ModeExam  Mode = "exam"
)

// Engine names a Customer implementation.
type Engine string

const (
	EngineScripted Engine = "scripted"
	EngineLLM      Engine = "llm"
)

// Assessment is the scorer's reading of one trainee reply.
type Assessment struct {
	Steps   []Step   `json:"steps"`
	Signals []Signal `json:"signals"`
	Score   int      `json:"score"` // 0–100 for this reply alone
	Verdict Verdict  `json:"verdict"`
	Hint    string   `json:"hint"`
	// Judge holds an optional second opinion's disagreements, kept for the report.
	Judge []string `json:"judge,omitempty"`

	// What the report needs besides the signals, kept with the stored reply
	// so the report does not read every reply again.
	Repeats      int  `json:"repeats,omitempty"`       // earlier replies this one repeats (pasted boilerplate)
	PolicyBreach bool `json:"policy_breach,omitempty"` // commits to something the scenario's policy forbids
	Correction   bool `json:"correction,omitempty"`    // takes back an earlier commitment
}

// Has reports whether the assessment contains a signal with the given code.
func (a Assessment) Has(code string) bool {
	for _, s := range a.Signals {
		if s.Code == code {
			return true
		}
	}
	return false
}

// Line is one utterance of the transcript.
type Line struct {
	Turn    int       `json:"turn"`
	Speaker Speaker   `json:"speaker"`
	Text    string    `json:"text"`
	At      time.Time `json:"at"`
}

// Speaker says who said a Line.
type Speaker string

const (
	SpeakerCustomer Speaker = "customer"
	SpeakerTrainee  Speaker = "trainee"
)

// normalizeSpace collapses runs of white space, used when comparing texts.
func normalizeSpace(s string) string { return strings.Join(strings.Fields(s), " ") }
