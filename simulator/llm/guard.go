package llm

import (
	"errors"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// brokenRole returns why a customer line is out of role, or "". The
// customer must never talk like the agent, mention its instructions or the
// simulator, or read out the state machine's numbers. A false positive only
// costs the model's wording: the scripted line is used instead.
func brokenRole(text string) string {
	low := strings.ToLower(text)
	for _, p := range agentPhrases {
		if strings.Contains(low, p) {
			return "talks like the agent: " + p
		}
	}
	for _, p := range leakPhrases {
		if strings.Contains(low, p) {
			return "reveals its instructions: " + p
		}
	}
	if m := moodNumbers.FindString(low); m != "" {
		return "reads out its state: " + m
	}
	return ""
}

// agentPhrases are what an agent says, not a customer (lower case).
var agentPhrases = []string{
	"how can i help you", "how may i help you", "how can i assist", "how may i assist",
	"what can i do for you", "anything else i can help", "anything else i can do for you",
	"thank you for contacting", "thanks for contacting", "thank you for calling",
	"as a customer service", "as your customer service", "i'm the customer service", "i am the customer service",
	"i'm your agent", "i am your agent",
	"有什么可以帮您", "有什么可以帮你", "有什么能帮您", "有什么能帮你", "有什么需要帮助", "请问有什么可以",
	"作为客服", "我是客服", "我是您的客服", "我是你的客服", "很高兴为您服务", "还有什么可以帮",
	"还有其他可以帮", "感谢您的来电", "感谢您的耐心等待",
}

// leakPhrases give away the role play, the prompt or the data delimiters.
var leakPhrases = []string{
	"as an ai", "i'm an ai", "i am an ai", "ai assistant", "language model", "system prompt",
	"my instructions", "my prompt", "scripted line", "role-play", "roleplay", "role play",
	"<agent_message", "</agent_message", "<conversation", "intent:",
	"作为ai", "作为一个ai", "作为人工智能", "我是ai", "我是人工智能", "语言模型", "系统提示", "提示词",
	"我的指令", "角色扮演", "脚本台词", "剧本", "愤怒值", "信任值",
}

var moodNumbers = regexp.MustCompile(`\b(anger|trust)\b\s*(level)?\s*[:=]?\s*\d+\s*(/\s*100|%)`)

// stage-direction delimiters. A parenthesis holding a digit is kept (an
// order number, a price); other parentheticals are read as actions.
var closers = map[rune]rune{'*': '*', '[': ']', '【': '】', '(': ')', '（': '）'}

// cleanLine strips stage directions, a speaker label and wrapping quotes,
// and collapses white space. With final false it stops before a stage
// direction that has not closed yet, so a streamed prefix never shows half
// an action; the result for a prefix is then a prefix of the final result.
func cleanLine(raw string, final bool) string {
	var b strings.Builder
	rs := []rune(raw)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		end, opens := closers[r]
		if !opens {
			b.WriteRune(r)
			continue
		}
		j := i + 1
		for j < len(rs) && rs[j] != end {
			j++
		}
		if j == len(rs) { // not closed (yet)
			if final && r != '*' && r != '[' && r != '【' {
				// a stray "(" at the end: keep the words, drop the bracket
				b.WriteString(string(rs[i+1:]))
			}
			break
		}
		inner := string(rs[i+1 : j])
		if (r == '(' || r == '（') && strings.ContainsFunc(inner, unicode.IsDigit) {
			b.WriteString(string(rs[i : j+1]))
		} else {
			b.WriteRune(' ')
		}
		i = j
	}
	s := strings.Join(strings.Fields(b.String()), " ")
	s = speakerLabel.ReplaceAllString(s, "")
	s = strings.TrimRight(strings.TrimLeft(s, "\"“「『'‘"), "\"”」』'’ ")
	return fixCJKSpacing(s)
}

var speakerLabel = regexp.MustCompile(`^(?i)(customer|client|the customer|顾客|客户|用户)\s*[:：]\s*`)

// fixCJKSpacing removes the space left between two CJK characters (or a
// CJK character and CJK punctuation) where a stage direction was cut out.
func fixCJKSpacing(s string) string {
	if !strings.Contains(s, " ") {
		return s
	}
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		if r == ' ' && i > 0 && i < len(rs)-1 && (isCJK(rs[i-1]) || isCJK(rs[i+1])) && (isCJK(rs[i-1]) || unicode.IsPunct(rs[i-1])) && (isCJK(rs[i+1]) || unicode.IsPunct(rs[i+1])) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isCJK(r rune) bool {
	return unicode.Is(unicode.Han, r) || (r >= 0x3000 && r <= 0x303f) || (r >= 0xff00 && r <= 0xffef)
}

// capRunes cuts s to at most n runes, at the last sentence end when there is
// one in the second half, else with an ellipsis. A truncated line (the
// model was stopped by the cap or MaxTokens) is cut back to a sentence end
// even when it fits.
func capRunes(s string, n int, truncated bool) string {
	if utf8.RuneCountInString(s) <= n && !truncated {
		return s
	}
	rs := []rune(s)
	if len(rs) > n {
		rs = rs[:n]
	}
	n = len(rs)
	for i := len(rs) - 1; i >= n/2; i-- {
		if strings.ContainsRune(".!?。！？…", rs[i]) {
			return string(rs[:i+1])
		}
	}
	return strings.TrimSpace(string(rs[:n-1])) + "…"
}

// lagRunes is how far forwarding trails the text received: every phrase
// brokenRole looks for is shorter, so it is caught before the trainee sees
// its first word. It also keeps retries possible while the opening is held.
const lagRunes = 32

// lineSink receives a streamed line: it checks the role on everything so
// far, forwards the cleaned new text to the trainee, and stops at the cap.
type lineSink struct {
	delta    func(string)
	maxRunes int

	raw       strings.Builder
	sent      string // cleaned text already forwarded
	stalled   bool   // the cleaned text stopped growing by appending; stop forwarding
	truncated bool   // the stream was cut by the cap or MaxTokens
}

var errRoleBreak = errors.New("out of role")

func (s *lineSink) piece(p string) (stop bool, err error) {
	s.raw.WriteString(p)
	raw := s.raw.String()
	if why := brokenRole(raw); why != "" {
		return false, &callError{kind: kindRoleBreak, err: errors.Join(errRoleBreak, errors.New(why))}
	}
	clean := cleanLine(raw, false)
	n := utf8.RuneCountInString(clean)
	if n >= s.maxRunes {
		return true, nil
	}
	if n > lagRunes {
		s.forward(string([]rune(clean)[:n-lagRunes]))
	}
	return false, nil
}

func (s *lineSink) forward(clean string) {
	if s.delta == nil || s.stalled {
		return
	}
	if !strings.HasPrefix(clean, s.sent) {
		s.stalled = true // the final `customer` event will correct it
		return
	}
	if d := clean[len(s.sent):]; d != "" {
		s.sent = clean
		s.delta(d)
	}
}

// committed reports whether the trainee has seen part of the line.
func (s *lineSink) committed() bool { return s.sent != "" }

// reset starts over for a retry (only ever before anything was forwarded).
func (s *lineSink) reset() { s.raw.Reset() }

// line returns the final, authoritative line.
func (s *lineSink) line() (string, error) {
	raw := s.raw.String()
	if why := brokenRole(raw); why != "" {
		return "", &callError{kind: kindRoleBreak, err: errors.Join(errRoleBreak, errors.New(why))}
	}
	text := capRunes(cleanLine(raw, true), s.maxRunes, s.truncated)
	if strings.TrimFunc(text, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) }) == "" {
		return "", &callError{kind: kindEmpty, err: errors.New("the model returned no usable line")}
	}
	// Flush what was held back (a short line, or the tail under the hold).
	if !s.stalled && s.delta != nil && strings.HasPrefix(text, s.sent) && len(text) > len(s.sent) {
		d := text[len(s.sent):]
		s.sent = text
		s.delta(d)
	}
	return text, nil
}
