// Package protocol is the WebSocket wire contract of PROTOCOL.md §1: the
// frames clients send, how they are decoded and checked, and how stored
// session events become the frames the server sends. Clients in Go (the
// terminal player, the load generator, tests) use the same types.
package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sparring-gym/sparring/simulator"
)

// Client frame types.
const (
	TypeStart     = "start"
	TypeResume    = "resume"
	TypeReply     = "reply"
	TypeEnd       = "end"
	TypeSubscribe = "subscribe"
	// TypeNote is an extension: the browser reports a pasted reply or a lost
	// tab focus, recorded for the trainer.
	TypeNote = "note"
)

// Server-only frame types (the session-scoped ones share simulator.EventType names).
const (
	TypeSession     = "session"
	TypeDelta       = "delta"
	TypeError       = "error"
	TypeLeaderboard = "leaderboard"
)

// Request is any client frame; only the fields of its Type are meaningful.
type Request struct {
	Type string `json:"type"`

	// start
	Scenario string `json:"scenario,omitempty"`
	Trainee  string `json:"trainee,omitempty"`
	Mode     string `json:"mode,omitempty"`
	Engine   string `json:"engine,omitempty"`
	Lang     string `json:"lang,omitempty"`
	Contest  string `json:"contest,omitempty"`
	Team     string `json:"team,omitempty"`

	// resume
	Session string `json:"session,omitempty"`
	Token   string `json:"token,omitempty"`
	After   *int   `json:"after,omitempty"`

	// reply
	ID   string `json:"id,omitempty"`
	Text string `json:"text,omitempty"`

	// note
	Kind string `json:"kind,omitempty"`
}

// DecodeError is a frame that cannot be used, with the protocol error code.
type DecodeError struct {
	Code    simulator.Code
	Message simulator.Text
}

func (e *DecodeError) Error() string { return string(e.Code) + ": " + e.Message.In(simulator.LangEN) }

func decodeErr(code simulator.Code, en, zh string) *DecodeError {
	return &DecodeError{Code: code, Message: simulator.Text{simulator.LangEN: en, simulator.LangZH: zh}}
}

// Decode parses and checks one client frame. Every failure is a
// *DecodeError carrying bad_json, unknown_type or invalid.
func Decode(data []byte) (Request, error) {
	var req Request
	if !utf8.Valid(data) {
		return req, decodeErr(simulator.CodeBadJSON, "frame is not valid UTF-8", "消息不是有效的 UTF-8")
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return req, decodeErr(simulator.CodeBadJSON, "frame must be one JSON object", "消息必须是一个 JSON 对象")
	}
	// Fast path (issue 9, CPU per turn): json.Unmarshal needs no Decoder
	// and no reader per frame. It succeeds exactly when the frame is one
	// JSON value that decodes cleanly, in which case the Decoder below
	// would have decoded the same value and found nothing after it; any
	// failure goes the Decoder's way so the error answered stays the same.
	if json.Unmarshal(trimmed, &req) != nil {
		req = Request{}
		if err := decodeSlow(trimmed, &req); err != nil {
			return Request{}, err
		}
	}
	if req.Type == "" {
		return Request{}, decodeErr(simulator.CodeInvalid, "type: missing; every frame needs a string type", "type:缺失;每条消息都需要字符串字段 type")
	}
	missing := func(field string) error {
		return decodeErr(simulator.CodeInvalid, field+": missing", field+":缺失")
	}
	blank := func(field string) error {
		return decodeErr(simulator.CodeInvalid, field+": must not be blank", field+":不能只有空白")
	}
	switch req.Type {
	case TypeStart:
		if req.Scenario == "" && req.Contest == "" { // a contest picks the scenario (issue 8)
			return Request{}, missing("scenario")
		}
		if req.Trainee == "" {
			return Request{}, missing("trainee")
		}
		if strings.TrimSpace(req.Trainee) == "" {
			return Request{}, blank("trainee")
		}
	case TypeResume:
		if req.Session == "" {
			return Request{}, missing("session")
		}
		if req.Token == "" {
			return Request{}, missing("token")
		}
		if req.After == nil {
			return Request{}, missing("after")
		}
		if *req.After < 0 {
			return Request{}, decodeErr(simulator.CodeInvalid, "after: must be 0 or more", "after:必须大于等于 0")
		}
	case TypeReply:
		if req.ID == "" {
			return Request{}, missing("id")
		}
		if req.Text == "" {
			return Request{}, missing("text")
		}
		// A blank reply says nothing; as a turn it would only burn one of
		// the scenario's max_turns (sparring score refuses it too).
		if strings.TrimSpace(req.Text) == "" {
			return Request{}, blank("text")
		}
	case TypeSubscribe:
		if req.Contest == "" {
			return Request{}, missing("contest")
		}
	case TypeNote:
		if req.Kind == "" {
			return Request{}, missing("kind")
		}
	case TypeEnd:
	default:
		return Request{}, decodeErr(simulator.CodeUnknownType,
			fmt.Sprintf("type: %q is not a known frame type (start, resume, reply, end, subscribe)", truncate(req.Type, 40)),
			fmt.Sprintf("type:%q 不是已知的消息类型(start、resume、reply、end、subscribe)", truncate(req.Type, 40)))
	}
	return req, nil
}

// decodeSlow decodes with a json.Decoder, which tells a frame with
// trailing data apart from one that is not JSON at all.
func decodeSlow(trimmed []byte, req *Request) error {
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if err := dec.Decode(req); err != nil {
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field != "" {
			return decodeErr(simulator.CodeInvalid,
				fmt.Sprintf("%s: must be a %s", te.Field, te.Type.Kind()),
				fmt.Sprintf("%s:类型应为 %s", te.Field, te.Type.Kind()))
		}
		return decodeErr(simulator.CodeBadJSON, "frame is not valid JSON: "+err.Error(), "消息不是有效的 JSON")
	}
	if dec.More() {
		return decodeErr(simulator.CodeBadJSON, "frame must hold exactly one JSON object", "每条消息只能包含一个 JSON 对象")
	}
	return nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// SessionInfo is the `session` frame.
type SessionInfo struct {
	Type     string       `json:"type"`
	Session  string       `json:"session"`
	Token    string       `json:"token"`
	State    string       `json:"state"`
	Mode     string       `json:"mode"`
	Engine   string       `json:"engine"`
	Lang     string       `json:"lang"`
	Scenario ScenarioInfo `json:"scenario"`
	Persona  PersonaInfo  `json:"persona"`
	Deadline string       `json:"deadline,omitempty"`
	// Extensions.
	Trainee string `json:"trainee,omitempty"`
	Contest string `json:"contest,omitempty"`
	Team    string `json:"team,omitempty"`
	LastSeq int    `json:"last_seq"`
}

// ScenarioInfo describes the scenario inside a `session` frame.
type ScenarioInfo struct {
	ID         string `json:"id"`
	Title      string `json:"title"`
	Brief      string `json:"brief"`
	TimeLimitS int    `json:"time_limit_s"`
	MaxTurns   int    `json:"max_turns"`
}

// PersonaInfo names the persona inside a `session` frame.
type PersonaInfo struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// NewSessionInfo builds the `session` frame. token is empty on resume only
// if the caller chooses not to echo it; the protocol always carries it.
func NewSessionInfo(s *simulator.Session, token string, sc *simulator.Scenario) SessionInfo {
	info := SessionInfo{
		Type: TypeSession, Session: s.ID, Token: token, State: string(s.State),
		Mode: string(s.Mode), Engine: string(s.Engine), Lang: string(s.Lang),
		Trainee: s.Trainee, Contest: s.Contest, Team: s.Team, LastSeq: s.LastSeq(),
		Scenario: ScenarioInfo{ID: s.ScenarioID},
		Persona:  PersonaInfo{ID: s.PersonaID},
	}
	if !s.Deadline.IsZero() {
		info.Deadline = s.Deadline.UTC().Format(time.RFC3339)
	}
	if sc != nil {
		info.Scenario.Title = sc.Title.In(s.Lang)
		info.Scenario.Brief = BriefText(sc, s.Lang)
		info.Scenario.TimeLimitS = sc.TimeLimitS
		info.Scenario.MaxTurns = sc.MaxTurns
		if sc.Persona != nil {
			info.Persona.Name = sc.Persona.Name.In(s.Lang)
		}
	}
	return info
}

// BriefText renders a scenario's brief as plain text in lang.
func BriefText(sc *simulator.Scenario, lang simulator.Lang) string {
	var b bytes.Buffer
	labels := map[simulator.Lang][5]string{
		simulator.LangEN: {"Customer", "Order", "History", "Situation", "Policy"},
		simulator.LangZH: {"客户", "订单", "历史", "情况", "政策"},
	}[lang]
	if labels[0] == "" {
		labels = [5]string{"Customer", "Order", "History", "Situation", "Policy"}
	}
	for i, t := range []simulator.Text{sc.Brief.CustomerName, sc.Brief.Order, sc.Brief.History, sc.Brief.Situation, sc.Brief.PolicySheet} {
		if s := t.In(lang); s != "" {
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			sep := ": "
			if lang == simulator.LangZH {
				sep = ":"
			}
			b.WriteString(labels[i] + sep + s)
		}
	}
	return b.String()
}

// Customer is the `customer` frame.
type Customer struct {
	Type     string               `json:"type"`
	Seq      int                  `json:"seq"`
	Turn     int                  `json:"turn"`
	Text     string               `json:"text"`
	Mood     simulator.Mood       `json:"mood"`
	Moves    []simulator.MoodMove `json:"moves,omitempty"`
	Fallback bool                 `json:"fallback,omitempty"`
}

// Ack is the `ack` frame; Text (the reply itself) is an extension so a
// resumed client can rebuild its transcript.
type Ack struct {
	Type string `json:"type"`
	Seq  int    `json:"seq"`
	ID   string `json:"id"`
	Turn int    `json:"turn"`
	Text string `json:"text"`
}

// Feedback is the `feedback` frame; Score and Verdict are extensions.
type Feedback struct {
	Type    string             `json:"type"`
	Seq     int                `json:"seq"`
	Turn    int                `json:"turn"`
	Steps   []simulator.Step   `json:"steps"`
	Signals []simulator.Signal `json:"signals"`
	Hint    string             `json:"hint"`
	Score   int                `json:"score"`
	Verdict simulator.Verdict  `json:"verdict,omitempty"`
}

// End is the `end` frame.
type End struct {
	Type    string `json:"type"`
	Seq     int    `json:"seq"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
}

// Report is the `report` frame.
type Report struct {
	Type   string           `json:"type"`
	Seq    int              `json:"seq"`
	Report simulator.Report `json:"report"`
}

// Note is the `note` frame (extension).
type Note struct {
	Type string `json:"type"`
	Seq  int    `json:"seq"`
	Turn int    `json:"turn"`
	Kind string `json:"kind"`
	Text string `json:"text"`
}

// Delta is a piece of a streaming customer line (no seq, not replayed).
type Delta struct {
	Type string `json:"type"`
	Turn int    `json:"turn"`
	Text string `json:"text"`
}

// Error is the `error` frame.
type Error struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Ref     string `json:"ref,omitempty"`
}

// LeaderboardEntry is one line of the standings.
type LeaderboardEntry struct {
	Rank     int     `json:"rank"`
	Name     string  `json:"name"`
	Team     string  `json:"team"`
	Score    float64 `json:"score"`
	Sessions int     `json:"sessions"`
}

// Leaderboard is the `leaderboard` frame.
type Leaderboard struct {
	Type    string             `json:"type"`
	Contest string             `json:"contest"`
	EndsAt  string             `json:"ends_at"`
	Entries []LeaderboardEntry `json:"entries"`
	// Teams is an extension: the team standings.
	Teams []LeaderboardEntry `json:"teams,omitempty"`
}

// EventFrame converts a stored event to its wire frame.
func EventFrame(e simulator.Event) any {
	switch e.Type {
	case simulator.EventCustomer:
		var m simulator.Mood
		if e.Mood != nil {
			m = *e.Mood
		}
		return Customer{Type: string(e.Type), Seq: e.Seq, Turn: e.Turn, Text: e.Text, Mood: m, Moves: e.Moves, Fallback: e.Fallback}
	case simulator.EventAck:
		return Ack{Type: string(e.Type), Seq: e.Seq, ID: e.ReplyID, Turn: e.Turn, Text: e.Text}
	case simulator.EventFeedback:
		return NewFeedback(e.Seq, e.Turn, e.Feedback)
	case simulator.EventEnd:
		return End{Type: string(e.Type), Seq: e.Seq, Outcome: string(e.Outcome), Reason: e.Reason}
	case simulator.EventReport:
		var r simulator.Report
		if e.Report != nil {
			r = *e.Report
		}
		return Report{Type: string(e.Type), Seq: e.Seq, Report: NormalizeReport(r)}
	default:
		return Note{Type: string(e.Type), Seq: e.Seq, Turn: e.Turn, Kind: e.Kind, Text: e.Text}
	}
}

// NewFeedback builds a feedback frame with empty lists rather than nulls.
func NewFeedback(seq, turn int, a *simulator.Assessment) Feedback {
	f := Feedback{Type: string(simulator.EventFeedback), Seq: seq, Turn: turn, Steps: []simulator.Step{}, Signals: []simulator.Signal{}}
	if a != nil {
		f.Hint, f.Score, f.Verdict = a.Hint, a.Score, a.Verdict
		if a.Steps != nil {
			f.Steps = a.Steps
		}
		if a.Signals != nil {
			f.Signals = a.Signals
		}
	}
	return f
}

// NormalizeReport replaces nil lists and maps so the JSON always shows them.
func NormalizeReport(r simulator.Report) simulator.Report {
	if r.Steps == nil {
		r.Steps = map[simulator.Step]simulator.StepScore{}
	}
	for k, s := range r.Steps {
		if s.Evidence == nil {
			s.Evidence = []string{}
			r.Steps[k] = s
		}
	}
	if r.Dimensions == nil {
		r.Dimensions = map[simulator.Dimension]int{}
	}
	if r.Feedback == nil {
		r.Feedback = []simulator.TurnFeedback{}
	}
	for i, f := range r.Feedback {
		if f.Steps == nil {
			r.Feedback[i].Steps = []simulator.Step{}
		}
		if f.Signals == nil {
			r.Feedback[i].Signals = []simulator.Signal{}
		}
	}
	if r.HardFails == nil {
		r.HardFails = []string{}
	}
	return r
}
