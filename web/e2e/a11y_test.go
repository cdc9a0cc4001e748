package e2e_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// a11yAudit runs in the page and lists what breaks the accessibility rules
// the UI promises: every control has a name, nothing forces a tab order,
// every image has a text alternative, and visible text meets WCAG AA
// contrast against the background it is drawn on (4.5:1, or 3:1 for large
// text). Semi-transparent backgrounds are blended in; text over gradients
// or images would be skipped, and the UI has none.
const a11yAudit = `(() => {
  const out = [];
  const visible = (el) => { const r = el.getBoundingClientRect(); const cs = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && cs.visibility !== "hidden" && cs.display !== "none" && !el.closest("[hidden]"); };
  const name = (el) => (el.getAttribute("aria-label") || "").trim() ||
    [...(el.getAttribute("aria-labelledby") || "").split(/\s+/)].map(id => id && document.getElementById(id)?.textContent || "").join("").trim() ||
    [...(el.labels || [])].map(l => l.textContent).join("").trim() || (el.textContent || "").trim() || (el.getAttribute("title") || "").trim();
  const where = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.dataset.testid ? "[" + el.dataset.testid + "]" : "") + (el.className && typeof el.className === "string" ? "." + el.className.split(" ")[0] : "");
  for (const el of document.querySelectorAll("button, input, select, textarea, a[href], [role=meter], [role=img]")) {
    if (el.type === "hidden" || !visible(el) && !(el.type === "radio")) continue;
    if (!name(el)) out.push("no accessible name: " + where(el));
  }
  for (const el of document.querySelectorAll("[tabindex]")) if (el.tabIndex > 0) out.push("positive tabindex: " + where(el));
  const rgba = (s) => { const m = s.match(/rgba?\(([^)]+)\)/); if (!m) return null; const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const lum = ([r, g, b]) => { const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); }; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const bgOf = (el) => { const layers = []; for (let e = el; e; e = e.parentElement) { const c = rgba(getComputedStyle(e).backgroundColor); if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; } }
    let acc = [255, 255, 255]; for (const c of layers.reverse()) acc = acc.map((v, i) => v * (1 - c[3]) + c[i] * c[3]); return acc; };
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement; if (!el || seen.has(el) || !n.textContent.trim() || !visible(el)) continue;
    seen.add(el);
    if (el.closest(".sr-only, svg")) continue;
    const cs = getComputedStyle(el); if (parseFloat(cs.opacity) < 1 || el.closest("[aria-hidden=true], :disabled")) continue;
    const fg = rgba(cs.color); if (!fg) continue;
    const bg = bgOf(el); const f = fg.slice(0, 3).map((v, i) => v * fg[3] + bg[i] * (1 - fg[3]));
    const L1 = lum(f), L2 = lum(bg); const ratio = (Math.max(L1, L2) + 0.05) / (Math.min(L1, L2) + 0.05);
    const size = parseFloat(cs.fontSize), bold = parseInt(cs.fontWeight, 10) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) out.push("contrast " + ratio.toFixed(2) + " < " + need + ": " + where(el) + " " + JSON.stringify(n.textContent.trim().slice(0, 30)));
  }
  return JSON.stringify(out);
})()`

func (b *browser) audit(where string) {
	b.t.Helper()
	var problems []string
	if err := json.Unmarshal([]byte(b.str(a11yAudit)), &problems); err != nil {
		b.t.Fatal(err)
	}
	if len(problems) > 0 {
		b.t.Errorf("accessibility, %s:\n  %s", where, strings.Join(problems, "\n  "))
	}
}

// TestAccessibility audits the picker, the chat (with feedback and mood
// moves on screen) and the scorecard, in English and in Chinese.
func TestAccessibility(t *testing.T) {
	ts := startServer(t)
	b := newBrowser(t)
	b.open(ts.URL())
	// The audit must be able to fail: plant a grey-on-white line and an
	// unnamed button, and expect both to be reported.
	planted := b.str(`(() => { const p = document.createElement("p"); p.id = "planted"; p.textContent = "faint text";
		p.style.color = "#b0b0b0"; p.style.background = "#fff"; const btn = document.createElement("button"); btn.id = "planted-btn";
		document.querySelector("main").prepend(p, btn); const r = ` + a11yAudit + `; p.remove(); btn.remove(); return r; })()`)
	if !strings.Contains(planted, "contrast") || !strings.Contains(planted, "planted-btn") {
		t.Fatalf("the audit missed planted problems: %s", planted)
	}
	b.audit("picker")
	b.startSession("p03-day-five-return-en", "Lee", "coach")
	b.reply("Hello Mr Chen, I'm sorry the phone isn't what you hoped for. What made you change your mind?", 1)
	b.audit("chat")
	b.endSession()
	b.audit("scorecard")
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="lang-toggle"]`)))
	b.wait(`document.documentElement.lang === "zh-CN"`)
	b.audit("scorecard in Chinese")
	b.screenshot("scorecard-desktop-zh", true)
}
