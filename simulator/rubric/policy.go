package rubric

import (
	"strings"
	"unicode/utf8"

	"github.com/sparring-gym/sparring/simulator"
)

// readScenario adds what only the scenario can tell: briefing facts used
// without asking (use_context) and commitments beyond the policy limits
// (over_promise, however kind the wording).
func (a *Assessor) readScenario(r *reading, sc *simulator.Scenario, raw, negs []hit) {
	text := r.n.text
	d := r.d
	ctxID := a.ids2.kUseContext
	pats := a.cache.scenario(&a.z, sc)
	for _, f := range pats.facts {
		if utf8.RuneCountInString(f) < 2 {
			continue
		}
		for _, at := range a.occurrences(text, f) {
			if r.inQuote(int32(at)) {
				continue
			}
			r.mark(ctxID, a.evidenceSpan(d, at, at+len(f)))
			break
		}
	}

	hedged := func(at int) bool {
		cs, ce := d.sentenceBounds(at)
		for _, h := range raw {
			if int(h.start) >= cs && int(h.start) < ce {
				switch a.names[h.owner] {
				case "_hedge":
					if !coveredBy(raw, h, a.ids2.kHedgeExempt) {
						return true
					}
				case "_supervisor":
					return true
				}
			}
		}
		return false
	}
	refusal, wish, restate := a.ids2.kRefusal, a.ids2.kTheirWish, a.ids2.kRestateFact
	// A keyword is a commitment unless it is quoted, negated ("我没法给您退款",
	// "差价我没办法补"), hedged ("if the test finds a fault"), or the
	// customer's own request restated ("您希望全额退款").
	commits := func(at, end int) bool {
		if r.inQuote(int32(at)) || a.preceded(d, hit{start: int32(at), end: int32(end)}, negs) || hedged(at) {
			return false
		}
		cs, ce := d.clauseBounds(at)
		ss, _ := d.sentenceBounds(at)
		for _, h := range raw {
			o := int(h.owner)
			if o == refusal && int(h.start) >= cs && int(h.start) < ce {
				return false
			}
			if (o == wish || o == restate) && int(h.start) >= ss && int(h.start) < at {
				return false
			}
		}
		return true
	}
	over := a.ids2.kOverPromise
	flag := func(at, end int) {
		sp := a.evidenceSpan(d, at, end)
		r.policy = append(r.policy, sp)
		r.mark(over, sp)
	}

	for _, kws := range pats.forbidden {
		for _, k := range kws {
			if len(k) < 2 {
				continue
			}
			for _, at := range a.occurrences(text, k) {
				if commits(at, at+len(k)) {
					flag(at, at+len(k))
					break
				}
			}
		}
	}
	for _, k := range pats.supervisor {
		if len(k) < 2 {
			continue
		}
		for _, at := range a.occurrences(text, k) {
			ss, se := d.sentenceBounds(at)
			if commits(at, at+len(k)) && !a.sentenceHas(raw, ss, se, "_supervisor") {
				flag(at, at+len(k))
				break
			}
		}
	}
	refund, comp := a.ids2.kRefund, a.ids2.kCompensation
	for _, h := range raw {
		at, end := int(h.start), int(h.end)
		switch {
		case int(h.owner) == refund && sc.Policy.RefundWindowDays > 0:
			if !commits(at, end) {
				continue
			}
			ss, se := d.sentenceBounds(at)
			for _, n := range numbersIn(text[ss:se]) {
				if n.unit == unitDays && n.value > float64(sc.Policy.RefundWindowDays) {
					flag(at, end)
				}
			}
			if anyOf(text[ss:se], "随时", "不限时", "无限期", "anytime", "any time", "no time limit", "whenever you like") {
				flag(at, end)
			}
		case int(h.owner) == comp && sc.Policy.VoucherCap > 0:
			if !commits(at, end) {
				continue
			}
			ss, se := d.sentenceBounds(at)
			// The amount nearest the voucher word, money-marked amounts first.
			best, dist, money := -1.0, 1<<30, false
			for _, n := range numbersIn(text[ss:se]) {
				if n.unit != unitMoney && n.unit != unitNone {
					continue
				}
				d := abs(ss + n.at - at)
				isMoney := n.unit == unitMoney
				if isMoney && !money || isMoney == money && d < dist {
					best, dist, money = n.value, d, isMoney
				}
			}
			if best > float64(sc.Policy.VoucherCap) {
				flag(at, end)
			}
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func anyOf(s string, subs ...string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

func coveredBy(raw []hit, h hit, owner int) bool {
	for _, x := range raw {
		if int(x.owner) == owner && x.start <= h.start && h.end <= x.end {
			return true
		}
	}
	return false
}

func (a *Assessor) sentenceHas(raw []hit, ss, se int, marker string) bool {
	id := a.id(marker)
	for _, h := range raw {
		if int(h.owner) == id && int(h.start) >= ss && int(h.start) < se {
			return true
		}
	}
	return false
}

// occurrences finds k in text; English keywords must match whole words.
func (a *Assessor) occurrences(text, k string) []int {
	var out []int
	word := isAlnumByte(k[0])
	for from := 0; from < len(text); {
		i := strings.Index(text[from:], k)
		if i < 0 {
			break
		}
		i += from
		if !word || (i == 0 || !isAlnumByte(text[i-1])) && (!isAlnumByte(k[len(k)-1]) || wordEndsAt(text, i+len(k))) {
			out = append(out, i)
		}
		from = i + 1
	}
	return out
}

type unit int

const (
	unitNone unit = iota
	unitMoney
	unitDays
	unitOther
)

type number struct {
	value float64
	unit  unit
	at    int // byte offset in the searched text
}

// numbersIn finds the numbers of a sentence (digits, or Chinese numerals)
// and what they count: money, days or something else.
func numbersIn(s string) []number {
	var out []number
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		var v float64
		j := i
		switch {
		case r >= '0' && r <= '9':
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == ',' && j+1 < len(s) && s[j+1] >= '0' && s[j+1] <= '9' || s[j] == '.' && j+1 < len(s) && s[j+1] >= '0' && s[j+1] <= '9') {
				j++
			}
			v = parseDigits(s[i:j])
		case strings.ContainsRune(zhDigits, r):
			for j < len(s) {
				q, qs := utf8.DecodeRuneInString(s[j:])
				if !strings.ContainsRune(zhDigits, q) {
					break
				}
				j += qs
			}
			v = parseZH(s[i:j])
		default:
			i += size
			continue
		}
		u := unitNone
		if idLike(s, i, j) {
			// "SF-66120-C", "A20931", "#4412": a case or order number, not an amount.
			out = append(out, number{value: v, unit: unitOther, at: i})
			i = j
			continue
		}
		before := strings.TrimRight(s[:i], " ")
		after := strings.TrimLeft(s[j:], " ")
		if len(after) > 0 && after[0] == 'k' && (len(after) == 1 || !isAlnumByte(after[1])) {
			v *= 1000
			after = after[1:]
		}
		if strings.HasPrefix(after, "万") {
			v *= 10000
			after = after[len("万"):]
		}
		switch {
		case strings.HasSuffix(before, "¥") || strings.HasSuffix(before, "$") || strings.HasSuffix(before, "£") || strings.HasSuffix(before, "€") || strings.HasSuffix(before, "rmb") || strings.HasSuffix(before, "cny"):
			u = unitMoney
		case hasAnyPrefix(after, "元", "块", "rmb", "yuan", "dollar", "pound", "euro", "cny"):
			u = unitMoney
		case hasAnyPrefix(after, "天", "日", "个工作日", "个自然日", "working day", "business day", "day", "calendar day"):
			u = unitDays
		case hasAnyPrefix(after, "%", "小时", "分钟", "点", "号", "月", "年", "个", "次", "台", "件", "公斤", "kg", "gb", "hour", "minute", "min", "pm", "am", "week", "month", "year", "percent", "周", "星期", "x", "m²", "平"):
			u = unitOther
		}
		out = append(out, number{value: v, unit: u, at: i})
		i = j
	}
	return out
}

// idLike reports whether the digits s[i:j] belong to an identifier: glued
// to letters, or joined by '-' or '#' to letters or more digits of an id,
// or a long bare run no one writes as an amount.
func idLike(s string, i, j int) bool {
	letter := func(b byte) bool { return b >= 'a' && b <= 'z' }
	if i > 0 {
		switch p := s[i-1]; {
		case letter(p), p == '#', p == '_':
			return true
		case p == '-' || p == '/':
			if i > 1 && letter(s[i-2]) {
				return true
			}
		}
	}
	if j < len(s) && (s[j] == '-' || s[j] == '_') && j+1 < len(s) && letter(s[j+1]) {
		return true
	}
	if j+1 < len(s) && letter(s[j]) && letter(s[j+1]) && !hasAnyPrefix(s[j:], "kg", "gb", "am", "pm", "yuan", "rmb", "cny", "day", "hour", "min", "week", "month", "year", "percent", "dollar", "pound", "euro", "working", "business", "calendar") {
		return true
	}
	digits := 0
	for k := i; k < j; k++ {
		if s[k] >= '0' && s[k] <= '9' {
			digits++
		} else {
			return false // "50,000" and "3.5" are amounts
		}
	}
	return digits >= 6
}

func hasAnyPrefix(s string, ps ...string) bool {
	for _, p := range ps {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func parseDigits(s string) float64 {
	v, frac, div := 0.0, false, 1.0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			frac = true
		case c >= '0' && c <= '9':
			if frac {
				div *= 10
				v += float64(c-'0') / div
			} else {
				v = v*10 + float64(c-'0')
			}
		}
	}
	return v
}

const zhDigits = "零一二两三四五六七八九十百千万"

// parseZH reads Chinese numerals up to the ten-thousands: 五十, 一百二十, 两千, 三万.
func parseZH(s string) float64 {
	total, section, digit := 0.0, 0.0, 0.0
	for _, r := range s {
		switch r {
		case '零':
			digit = 0
		case '一':
			digit = 1
		case '二', '两':
			digit = 2
		case '三':
			digit = 3
		case '四':
			digit = 4
		case '五':
			digit = 5
		case '六':
			digit = 6
		case '七':
			digit = 7
		case '八':
			digit = 8
		case '九':
			digit = 9
		case '十', '百', '千':
			mult := map[rune]float64{'十': 10, '百': 100, '千': 1000}[r]
			if digit == 0 {
				digit = 1
			}
			section += digit * mult
			digit = 0
		case '万':
			total += (section + digit) * 10000
			section, digit = 0, 0
		}
	}
	return total + section + digit
}
