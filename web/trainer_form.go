package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sparring-gym/sparring/scenarios"
	"github.com/sparring-gym/sparring/simulator"
	"github.com/sparring-gym/sparring/simulator/scripted/fidelity"
	"github.com/sparring-gym/sparring/simulator/trainer"
)

// The designer edits one scenario two ways: a form for the common fields and
// the YAML of the whole file. The YAML is the source of truth; the form
// reads and writes fields of it through POST /api/trainer/form, which
// applies the form's changes to the YAML node tree (keeping comments and
// every field the form does not show), reads the form fields back, and runs
// the CLI's validator, in one round trip.

type formKind int

const (
	formText  formKind = iota // simulator.Text, edited in the scenario's language
	formTexts                 // a list of Text, one per line
	formList                  // a list of plain strings
	formInt
	formBool
	formString
)

// formFields are the fields the form shows, by YAML path.
var formFields = []struct {
	path string
	kind formKind
}{
	{"id", formString}, {"title", formText}, {"lang", formString}, {"langs", formList}, {"persona", formString},
	{"difficulty", formInt}, {"tags", formList}, {"published", formBool},
	{"brief.customer_name", formText}, {"brief.order", formText}, {"brief.history", formText},
	{"brief.situation", formText}, {"brief.policy_sheet", formText}, {"brief.context", formList},
	{"success", formText}, {"time_limit_s", formInt}, {"max_turns", formInt},
	{"customer.opening", formTexts}, {"customer.issue", formText},
}

func formKindOf(path string) (formKind, bool) {
	for _, f := range formFields {
		if f.path == path {
			return f.kind, true
		}
	}
	return 0, false
}

// FormRequest is the body of POST /api/trainer/form.
type FormRequest struct {
	YAML string                     `json:"yaml"`
	Set  map[string]json.RawMessage `json:"set,omitempty"`
}

// FormResponse answers it: the (updated) YAML, the form fields read from
// it, and the validator's findings.
type FormResponse struct {
	YAML   string           `json:"yaml"`
	Fields map[string]any   `json:"fields"`
	Valid  bool             `json:"valid"`
	Errors []fieldErrorJSON `json:"errors"`
}

func (s *Server) handleForm(w http.ResponseWriter, r *http.Request, _ string) {
	var req FormRequest
	if !decodeJSONBodyLimit(w, r, &req, maxAuthorBody) {
		return
	}
	var doc yaml.Node
	if strings.TrimSpace(req.YAML) == "" {
		req.YAML = "{}"
	}
	resp := FormResponse{YAML: req.YAML, Fields: map[string]any{}, Errors: []fieldErrorJSON{}}
	if err := yaml.Unmarshal([]byte(req.YAML), &doc); err != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		// The form cannot read broken YAML; the validator says where it breaks.
		_, verr := s.authoring.ValidateScenario(r.Context(), "scenario", []byte(req.YAML))
		resp.Errors = toFieldErrors(verr)
		writeJSON(w, http.StatusOK, resp)
		return
	}
	root := doc.Content[0]
	if root.Style&yaml.FlowStyle != 0 { // "{}" from an empty designer
		root.Style = 0
	}
	lang := scalarAt(root, "lang")
	if lang == "" {
		lang = string(simulator.LangEN)
	}
	var errs scenarios.ValidationErrors
	for path, raw := range req.Set {
		kind, ok := formKindOf(path)
		if !ok {
			errs = append(errs, scenarios.FieldError{Path: path, Message: "the form does not edit this field; use the YAML view"})
			continue
		}
		if err := setField(root, path, kind, raw, lang); err != nil {
			errs = append(errs, scenarios.FieldError{Path: path, Message: err.Error()})
		}
	}
	if len(req.Set) > 0 {
		var b bytes.Buffer
		enc := yaml.NewEncoder(&b)
		enc.SetIndent(2)
		if err := enc.Encode(&doc); err == nil && enc.Close() == nil {
			resp.YAML = b.String()
		}
	}
	lang = scalarAt(root, "lang")
	if lang == "" {
		lang = string(simulator.LangEN)
	}
	for _, f := range formFields {
		resp.Fields[f.path] = readField(root, f.path, f.kind, lang)
	}
	sc, verr := s.authoring.ValidateScenario(r.Context(), "scenario", []byte(resp.YAML))
	if verr == nil && s.authoring.IsBuiltin(trainer.KindScenario, sc.ID) {
		verr = invalid("id", "%q is a built-in scenario; give yours its own id", sc.ID)
	}
	resp.Errors = append(toFieldErrors(errs), toFieldErrors(verr)...)
	resp.Valid = len(resp.Errors) == 0
	writeJSON(w, http.StatusOK, resp)
}

func toFieldErrors(err error) []fieldErrorJSON {
	out := []fieldErrorJSON{}
	if err == nil {
		return out
	}
	verrs, ok := err.(scenarios.ValidationErrors)
	if !ok {
		return append(out, fieldErrorJSON{Message: err.Error()})
	}
	for _, e := range verrs {
		out = append(out, fieldErrorJSON{Path: e.Path, Message: e.Message, Line: e.Line})
	}
	return out
}

// child returns the value node of key in mapping m, creating an empty
// mapping there when create is set.
func child(m *yaml.Node, key string, create bool) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	if !create {
		return nil
	}
	v := &yaml.Node{Kind: yaml.MappingNode}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, v)
	return v
}

func lookup(root *yaml.Node, path string) *yaml.Node {
	n := root
	for _, part := range strings.Split(path, ".") {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		n = child(n, part, false)
	}
	return n
}

func scalarAt(root *yaml.Node, path string) string {
	if n := lookup(root, path); n != nil && n.Kind == yaml.ScalarNode {
		return n.Value
	}
	return ""
}

func textOf(n *yaml.Node, lang string) string {
	if n == nil {
		return ""
	}
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	if n.Kind == yaml.MappingNode {
		if v := child(n, lang, false); v != nil {
			return v.Value
		}
	}
	return ""
}

func readField(root *yaml.Node, path string, kind formKind, lang string) any {
	n := lookup(root, path)
	switch kind {
	case formText:
		return textOf(n, lang)
	case formTexts, formList:
		out := []string{}
		if n != nil && n.Kind == yaml.SequenceNode {
			for _, c := range n.Content {
				out = append(out, textOf(c, lang))
			}
		}
		return out
	case formInt:
		if n == nil {
			return nil
		}
		v, err := strconv.Atoi(n.Value)
		if err != nil {
			return n.Value
		}
		return v
	case formBool:
		return n != nil && n.Value == "true"
	default:
		if n == nil {
			return ""
		}
		return n.Value
	}
}

func strNode(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

// setText puts s into a Text node in lang: a plain string stays plain, a
// zh/en map gets its lang entry replaced.
func setText(old *yaml.Node, s, lang string) *yaml.Node {
	if old != nil && old.Kind == yaml.MappingNode {
		if v := child(old, lang, false); v != nil {
			*v = *strNode(s)
		} else {
			old.Content = append(old.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: lang}, strNode(s))
		}
		return old
	}
	n := strNode(s)
	if strings.Contains(s, "\n") {
		n.Style = yaml.LiteralStyle
	}
	return n
}

// setField writes one form value at path; a null or empty value removes the key.
func setField(root *yaml.Node, path string, kind formKind, raw json.RawMessage, lang string) error {
	parts := strings.Split(path, ".")
	parent := root
	for _, p := range parts[:len(parts)-1] {
		parent = child(parent, p, true)
		if parent.Kind != yaml.MappingNode {
			return fmt.Errorf("%s is not a mapping in the YAML; fix it there", p)
		}
	}
	key := parts[len(parts)-1]
	old := child(parent, key, false)
	var node *yaml.Node
	switch kind {
	case formText, formString:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil && string(raw) != "null" {
			return fmt.Errorf("expected text")
		}
		s = strings.TrimSpace(s)
		if s != "" {
			if kind == formText {
				node = setText(old, s, lang)
			} else {
				node = strNode(s)
			}
		}
	case formTexts, formList:
		var list []string
		if err := json.Unmarshal(raw, &list); err != nil && string(raw) != "null" {
			return fmt.Errorf("expected a list of lines")
		}
		seq := &yaml.Node{Kind: yaml.SequenceNode}
		if kind == formList {
			seq.Style = yaml.FlowStyle
		}
		for i, s := range list {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			var prev *yaml.Node
			if kind == formTexts && old != nil && old.Kind == yaml.SequenceNode && i < len(old.Content) {
				prev = old.Content[i]
			}
			if kind == formTexts {
				seq.Content = append(seq.Content, setText(prev, s, lang))
			} else {
				seq.Content = append(seq.Content, strNode(s))
			}
		}
		if len(seq.Content) > 0 {
			node = seq
		}
	case formInt:
		var v *json.Number
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			var s string
			if json.Unmarshal(raw, &s) != nil {
				return fmt.Errorf("expected a whole number")
			}
			if strings.TrimSpace(s) != "" {
				n := json.Number(strings.TrimSpace(s))
				v = &n
			}
		}
		if v != nil {
			if _, err := v.Int64(); err != nil {
				return fmt.Errorf("%q is not a whole number", v.String())
			}
			node = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: v.String()}
		}
	case formBool:
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return fmt.Errorf("expected true or false")
		}
		node = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}
	}
	for i := 0; i+1 < len(parent.Content); i += 2 {
		if parent.Content[i].Value == key {
			if node == nil {
				parent.Content = append(parent.Content[:i], parent.Content[i+2:]...)
			} else {
				parent.Content[i+1] = node
			}
			return nil
		}
	}
	if node != nil {
		parent.Content = append(parent.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, node)
	}
	return nil
}

// BotScript is one built-in bot's replies for a scenario.
type BotScript struct {
	Bot     string   `json:"bot"`
	Replies []string `json:"replies"`
}

// handleBots returns the fidelity bots' replies for a scenario (drafts
// included), so the designer can watch each bot play it through /ws.
func (s *Server) handleBots(w http.ResponseWriter, r *http.Request, _ string) {
	sc, err := s.authoring.Scenario(r.Context(), r.PathValue("id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	lang := langParam(r, sc)
	out := []BotScript{}
	for _, b := range fidelity.Bots() {
		out = append(out, BotScript{Bot: string(b), Replies: fidelity.Script(b, sc, lang)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"scenario": sc.ID, "version": sc.Version, "lang": lang, "bots": out})
}
