package personas

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sparring-gym/sparring/simulator"
)

// FieldError is one problem in a data file: where it is and how to fix it.
type FieldError struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Path    string `json:"path"`
	Message string `json:"message"`
}

func (e FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Path != "" {
		b.WriteString(": ")
		b.WriteString(e.Path)
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	return b.String()
}

// ValidationErrors lists every problem found in one or more files.
type ValidationErrors []FieldError

func (v ValidationErrors) Error() string {
	parts := make([]string, len(v))
	for i, e := range v {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Text is a YAML text field: either a plain string, which is in the file's
// own language, or a map with the keys zh and en.
type Text map[simulator.Lang]string

// plainKey marks a plain string until the file's language is known.
const plainKey simulator.Lang = ""

// UnmarshalYAML accepts a scalar or a zh/en mapping.
func (t *Text) UnmarshalYAML(n *yaml.Node) error {
	out := Text{}
	switch n.Kind {
	case yaml.ScalarNode:
		out[plainKey] = strings.TrimSpace(n.Value)
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			lang := simulator.Lang(k.Value)
			if !lang.Valid() {
				return &lineError{Line: k.Line, Msg: fmt.Sprintf("unknown language %q; use zh or en", k.Value)}
			}
			if v.Kind != yaml.ScalarNode {
				return &lineError{Line: v.Line, Msg: fmt.Sprintf("the %s text must be a plain string", k.Value)}
			}
			out[lang] = strings.TrimSpace(v.Value)
		}
	default:
		return &lineError{Line: n.Line, Msg: "expected a string or a map with zh and en"}
	}
	*t = out
	return nil
}

// Resolve returns the text with a plain string assigned to lang.
func (t Text) Resolve(lang simulator.Lang) simulator.Text {
	if len(t) == 0 {
		return nil
	}
	out := simulator.Text{}
	for k, v := range t {
		if k == plainKey {
			k = lang
		}
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// lineError is an error found by a custom unmarshaler, with its line.
type lineError struct {
	Line int
	Msg  string
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Doc is a decoded YAML file: its node tree (for line numbers) and its name.
type Doc struct {
	File string
	Root *yaml.Node
}

var (
	reSyntaxLine = regexp.MustCompile(`line (\d+)`)
	reUnknown    = regexp.MustCompile(`^line (\d+): field (\S+) not found in type (\S+)$`)
	reCannot     = regexp.MustCompile(`^line (\d+): cannot unmarshal (!!\w+)(?: ` + "`" + `(.*)` + "`" + `)? into (\S+)$`)
)

// DecodeStrict decodes data into v, rejecting unknown fields. A file with a
// YAML syntax error yields exactly one FieldError.
func DecodeStrict(file string, data []byte, v any) (*Doc, ValidationErrors) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		line := 0
		if m := reSyntaxLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		msg = reSyntaxLine.ReplaceAllString(msg, "")
		msg = strings.Trim(msg, ": ")
		// yaml.v3 reports parser errors ("did not find expected …") with a
		// zero-based line, scanner errors with a one-based one.
		if strings.HasPrefix(msg, "did not find expected") {
			line++
		}
		return nil, ValidationErrors{{File: file, Line: line, Path: keyOnLine(data, line), Message: "YAML syntax error: " + msg +
			"; check the indentation and quoting on this line (quote text containing ': ' or '#', close every [ and {)"}}
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return nil, ValidationErrors{{File: file, Message: "the file is empty; write the fields described in the README"}}
	}
	if root.Content[0].Kind != yaml.MappingNode {
		return nil, ValidationErrors{{File: file, Line: root.Content[0].Line, Message: "the file must be a YAML mapping of field: value"}}
	}
	doc := &Doc{File: file, Root: root.Content[0]}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(v)
	if err == nil || errors.Is(err, io.EOF) {
		return doc, nil
	}
	var le *lineError
	if errors.As(err, &le) {
		return doc, ValidationErrors{{File: file, Line: le.Line, Path: doc.PathAt(le.Line), Message: le.Msg}}
	}
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return doc, ValidationErrors{{File: file, Message: err.Error()}}
	}
	structs := structTypes(reflect.TypeOf(v))
	var out ValidationErrors
	for _, s := range te.Errors {
		if m := reUnknown.FindStringSubmatch(s); m != nil {
			line, _ := strconv.Atoi(m[1])
			path := doc.keyPathAt(line, m[2])
			msg := fmt.Sprintf("unknown field %q; remove it or fix its spelling", m[2])
			if known := yamlFields(structs[m[3]]); len(known) > 0 {
				msg += " (known fields here: " + strings.Join(known, ", ") + ")"
			}
			out = append(out, FieldError{File: file, Line: line, Path: path, Message: msg})
			continue
		}
		if m := reCannot.FindStringSubmatch(s); m != nil {
			line, _ := strconv.Atoi(m[1])
			out = append(out, FieldError{File: file, Line: line, Path: doc.PathAt(line),
				Message: fmt.Sprintf("%s value %q cannot be used as %s; %s", strings.TrimPrefix(m[2], "!!"), m[3], kindName(m[4]), fixFor(m[4]))})
			continue
		}
		out = append(out, FieldError{File: file, Message: s})
	}
	return doc, out
}

var reKey = regexp.MustCompile(`^\s*(?:-\s+)?([A-Za-z_][\w-]*)\s*:`)

// keyOnLine returns the key written on a line of the source, if any, to
// name the field of a syntax error.
func keyOnLine(data []byte, line int) string {
	lines := strings.Split(string(data), "\n")
	if line < 1 || line > len(lines) {
		return ""
	}
	if m := reKey.FindStringSubmatch(lines[line-1]); m != nil {
		return m[1]
	}
	return ""
}

func kindName(goType string) string {
	switch {
	case strings.HasPrefix(goType, "int"):
		return "a whole number"
	case goType == "bool":
		return "true/false"
	case goType == "string":
		return "a string"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["):
		return "a mapping"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	}
	return "this field"
}

func fixFor(goType string) string {
	switch {
	case strings.HasPrefix(goType, "int"):
		return "write a whole number such as 50"
	case goType == "bool":
		return "write true or false"
	case strings.HasPrefix(goType, "[]"):
		return "write a list, one '- item' per line"
	case strings.HasPrefix(goType, "map["), strings.Contains(goType, "."):
		return "write a mapping of 'key: value' lines"
	}
	return "see the README for this field's format"
}

// structTypes collects every struct type reachable from t, keyed as the YAML
// decoder names them in errors.
func structTypes(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			if t.Kind() == reflect.Map {
				walk(t.Key())
			}
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		if _, seen := out[t.String()]; seen {
			return
		}
		out[t.String()] = t
		for f := range t.Fields() {
			walk(f.Type)
		}
	}
	walk(t)
	return out
}

func yamlFields(t reflect.Type) []string {
	if t == nil {
		return nil
	}
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// Line returns the line of the field at path ("customer.demands[0].id"), or
// of its nearest existing parent.
func (d *Doc) Line(path string) int {
	if d == nil || d.Root == nil {
		return 0
	}
	line := d.Root.Line
	n := d.Root
	for _, part := range splitPath(path) {
		next, keyLine := child(n, part)
		if next == nil {
			return line
		}
		line = keyLine
		n = next
	}
	return line
}

func splitPath(path string) []string {
	var parts []string
	for _, p := range strings.Split(path, ".") {
		for p != "" {
			i := strings.IndexByte(p, '[')
			if i < 0 {
				parts = append(parts, p)
				break
			}
			if i > 0 {
				parts = append(parts, p[:i])
			}
			j := strings.IndexByte(p, ']')
			if j < i {
				parts = append(parts, p)
				break
			}
			parts = append(parts, p[i:j+1])
			p = p[j+1:]
		}
	}
	return parts
}

func child(n *yaml.Node, part string) (*yaml.Node, int) {
	if strings.HasPrefix(part, "[") {
		i, err := strconv.Atoi(strings.Trim(part, "[]"))
		if err != nil || n.Kind != yaml.SequenceNode || i < 0 || i >= len(n.Content) {
			return nil, 0
		}
		return n.Content[i], n.Content[i].Line
	}
	if n.Kind != yaml.MappingNode {
		return nil, 0
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == part {
			return n.Content[i+1], n.Content[i].Line
		}
	}
	return nil, 0
}

// PathAt returns the path of the deepest field on line.
func (d *Doc) PathAt(line int) string {
	best := ""
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := joinPath(path, n.Content[i].Value)
				if n.Content[i].Line == line || n.Content[i+1].Line == line {
					best = p
				}
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				if c.Line == line && best == "" {
					best = p
				}
				walk(c, p)
			}
		}
	}
	walk(d.Root, "")
	return best
}

// keyPathAt returns the path of the mapping key named key on line.
func (d *Doc) keyPathAt(line int, key string) string {
	found := ""
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := joinPath(path, n.Content[i].Value)
				if n.Content[i].Line == line && n.Content[i].Value == key {
					found = p
				}
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	walk(d.Root, "")
	if found == "" {
		return key
	}
	return found
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Errs collects FieldErrors for one file with lines looked up by path.
type Errs struct {
	Doc  *Doc
	List ValidationErrors
}

// Addf records a problem at path.
func (e *Errs) Addf(path, format string, args ...any) {
	e.List = append(e.List, FieldError{File: e.Doc.File, Line: e.Doc.Line(path), Path: path, Message: fmt.Sprintf(format, args...)})
}

// Err returns the collected errors, or nil.
func (e *Errs) Err() error {
	if len(e.List) == 0 {
		return nil
	}
	return e.List
}

// Mood is a YAML anger/trust pair.
type Mood struct {
	Anger *int `yaml:"anger"`
	Trust *int `yaml:"trust"`
}

// CheckMood validates a mood's range; both values are required.
func CheckMood(e *Errs, path string, m *Mood) (simulator.Mood, bool) {
	ok := true
	for _, f := range []struct {
		name string
		v    *int
	}{{"anger", m.Anger}, {"trust", m.Trust}} {
		p := path + "." + f.name
		switch {
		case f.v == nil:
			e.Addf(p, "missing; give the starting %s as a whole number from 0 to 100", f.name)
			ok = false
		case *f.v < 0 || *f.v > 100:
			e.Addf(p, "%d is out of range; %s must be a whole number from 0 to 100", *f.v, f.name)
			ok = false
		}
	}
	if !ok {
		return simulator.Mood{}, false
	}
	return simulator.Mood{Anger: *m.Anger, Trust: *m.Trust}, true
}

// Demand is a YAML demand (personas and scenarios share the format).
type Demand struct {
	ID           string        `yaml:"id"`
	Text         Text          `yaml:"text"`
	AcceptedBy   []string      `yaml:"accepted_by"`
	Alternatives []Alternative `yaml:"alternatives"`
	Insist       int           `yaml:"insist"`
}

// Alternative is a YAML alternative.
type Alternative struct {
	ID       string              `yaml:"id"`
	Text     Text                `yaml:"text"`
	Keywords map[string][]string `yaml:"keywords"`
}

var reID = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// CheckID validates an identifier.
func CheckID(e *Errs, path, id string) {
	switch {
	case id == "":
		e.Addf(path, "missing; give a short id of lowercase letters, digits, '-' or '_'")
	case !reID.MatchString(id):
		e.Addf(path, "%q is not a valid id; use lowercase letters, digits, '-' or '_' only", id)
	}
}

// CheckText resolves t and requires it in every language of langs.
func CheckText(e *Errs, path string, t Text, own simulator.Lang, langs []simulator.Lang, required bool) simulator.Text {
	out := t.Resolve(own)
	if len(out) == 0 {
		if required {
			e.Addf(path, "missing; write it (a plain string is read as %s, or give zh: and en:)", own)
		}
		return nil
	}
	for _, l := range langs {
		if out[l] == "" {
			e.Addf(path, "no %s text; add '%s: ...' under this field (the file must be playable in %s)", l, l, langList(langs))
		}
	}
	return out
}

func langList(langs []simulator.Lang) string {
	s := make([]string, len(langs))
	for i, l := range langs {
		s[i] = string(l)
	}
	return strings.Join(s, " and ")
}

// CheckDemands converts and validates demands.
func CheckDemands(e *Errs, path string, in []Demand, own simulator.Lang, langs []simulator.Lang) []simulator.Demand {
	out := []simulator.Demand{} // not nil: an empty list replaces the persona's demands
	seen := map[string]bool{}
	for i, d := range in {
		p := fmt.Sprintf("%s[%d]", path, i)
		CheckID(e, p+".id", d.ID)
		if seen[d.ID] {
			e.Addf(p+".id", "duplicate demand id %q; give each demand its own id", d.ID)
		}
		seen[d.ID] = true
		sd := simulator.Demand{ID: d.ID, Insist: d.Insist,
			Text: CheckText(e, p+".text", d.Text, own, langs, true)}
		if len(d.AcceptedBy) == 0 {
			e.Addf(p+".accepted_by", "missing; list the signals that can settle it, e.g. [refuse_with_alternative, options, propose_plan]")
		}
		for j, c := range d.AcceptedBy {
			if !simulator.KnownSignal(c) {
				e.Addf(fmt.Sprintf("%s.accepted_by[%d]", p, j), "%q is not a RUBRIC signal code; use one of: %s", c, strings.Join(simulator.PositiveSignals, ", "))
			}
		}
		sd.AcceptedBy = slices.Clone(d.AcceptedBy)
		if d.Insist < 0 || d.Insist > 5 {
			e.Addf(p+".insist", "%d is out of range; use 0 to 5 (offers turned down before one is accepted)", d.Insist)
		}
		for j, a := range d.Alternatives {
			ap := fmt.Sprintf("%s.alternatives[%d]", p, j)
			CheckID(e, ap+".id", a.ID)
			sa := simulator.Alternative{ID: a.ID, Text: CheckText(e, ap+".text", a.Text, own, langs, true),
				Keywords: CheckKeywords(e, ap+".keywords", a.Keywords, langs)}
			sd.Alternatives = append(sd.Alternatives, sa)
		}
		out = append(out, sd)
	}
	return out
}

// CheckKeywords validates a per-language keyword map.
func CheckKeywords(e *Errs, path string, in map[string][]string, langs []simulator.Lang) map[simulator.Lang][]string {
	out := map[simulator.Lang][]string{}
	for _, k := range slices.Sorted(maps.Keys(in)) {
		l := simulator.Lang(k)
		if !l.Valid() {
			e.Addf(path+"."+k, "unknown language %q; use zh or en", k)
			continue
		}
		for _, w := range in[k] {
			if w = strings.TrimSpace(w); w != "" {
				out[l] = append(out[l], w)
			}
		}
	}
	for _, l := range langs {
		if len(out[l]) == 0 {
			e.Addf(path, "no %s keywords; add '%s: [word, …]' so replies in %s are recognised", l, l, l)
		}
	}
	return out
}
