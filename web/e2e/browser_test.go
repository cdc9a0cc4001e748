// Package e2e_test drives the trainee's browser UI in Debian's Chromium with
// chromedp against the real HTTP and WebSocket server. Every wait is on a
// data-* hook the page sets when it is ready; nothing sleeps.
package e2e_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

const chromiumPath = "/usr/bin/chromium"

// browser is one headless Chromium with a fresh profile, and one tab.
type browser struct {
	t   *testing.T
	ctx context.Context
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	exe := chromiumPath
	if _, err := os.Stat(exe); err != nil {
		// Other distributions name it differently; Debian's path comes first.
		if p, lerr := exec.LookPath("chromium"); lerr == nil {
			exe = p
		} else if p, lerr := exec.LookPath("chromium-browser"); lerr == nil {
			exe = p
		} else if os.Getenv("SPARRING_REQUIRE_BROWSER") == "1" {
			t.Fatalf("SPARRING_REQUIRE_BROWSER=1 but %s is missing: %v", chromiumPath, err)
		} else {
			t.Skipf("no browser at %s (set SPARRING_REQUIRE_BROWSER=1 to make this a failure)", chromiumPath)
		}
	}
	if testing.Short() {
		t.Skip("browser tests are skipped with -short")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	b := &browser{t: t, ctx: ctx}
	b.do(chromedp.EmulateViewport(1280, 800))
	return b
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatal(err)
	}
}

// wait polls a JavaScript condition until it is true; the page's data-*
// hooks make every condition a plain DOM read.
func (b *browser) wait(cond string) {
	b.t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.Poll[bool](cond, chromedp.WithPollingInterval(25*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		b.t.Fatalf("waiting for %s: %v\npage: %s", cond, err, b.str(`document.body.dataset.view + " | " + (document.querySelector("main")?.innerText || "").slice(0, 1500)`))
	}
}

func (b *browser) str(expr string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func (b *browser) num(expr string) int {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func (b *browser) open(url string) {
	b.t.Helper()
	b.do(chromedp.Navigate(url))
	b.wait(`document.body.dataset.ready === "1"`)
}

// startSession picks a scenario, fills the form and waits for the opening line.
func (b *browser) startSession(scenario, trainee, mode string) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-testid="scenario-card"][data-id=%q]`, scenario))))
	b.wait(fmt.Sprintf(`document.querySelector('[data-testid="brief-card"]').dataset.state === "loaded" && document.querySelector('[data-testid="brief-card"]').dataset.id === %q`, scenario))
	b.do(
		chromedp.Clear(chromedp.CSS(`#trainee`)), // the page remembers the last name
		chromedp.SendKeys(chromedp.CSS(`#trainee`), trainee),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-testid="mode-%s"]`, mode))),
		chromedp.Click(chromedp.CSS(`[data-testid="start"]`)),
	)
	b.wait(`document.body.dataset.view === "chat"`)
	b.wait(`(() => { const c = document.querySelector('[data-testid="chat"]');
		return c.dataset.state === "active" && c.dataset.connected === "1" &&
			!!document.querySelector('[data-role="customer"][data-seq="1"]'); })()`)
}

// reply types a reply and presses Enter, then waits for the customer's answer.
func (b *browser) reply(text string, turn int) {
	b.t.Helper()
	b.do(chromedp.SendKeys(chromedp.CSS(`#reply`), text+kb.Enter))
	b.waitTurn(turn)
}

func (b *browser) waitTurn(turn int) {
	b.t.Helper()
	b.wait(fmt.Sprintf(`!!document.querySelector('[data-role="customer"][data-turn="%d"]') &&
		document.querySelector('[data-testid="chat"]').dataset.pending === "0"`, turn))
}

func (b *browser) endSession() {
	b.t.Helper()
	// The page asks for confirmation; the test says yes.
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(window.confirm = () => true, true)`)); err != nil {
		b.t.Fatal(err)
	}
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="end"]`)))
	b.wait(`document.body.dataset.view === "report" && !!document.querySelector('[data-testid="scorecard"][data-ready="1"]')`)
}

var (
	shotDirOnce sync.Once
	shotDir     string
)

// screenshot saves a PNG to $SPARRING_SCREENSHOTS (default: a new temporary
// directory, logged) so a person can look at the UI: the viewport as the
// trainee sees it, or the whole page when full is set.
func (b *browser) screenshot(name string, full bool) {
	b.t.Helper()
	shotDirOnce.Do(func() {
		shotDir = os.Getenv("SPARRING_SCREENSHOTS")
		if shotDir == "" {
			d, err := os.MkdirTemp("", "sparring-screenshots-")
			if err != nil {
				b.t.Fatal(err)
			}
			shotDir = d
		}
		if err := os.MkdirAll(shotDir, 0o755); err != nil {
			b.t.Fatal(err)
		}
	})
	shot := chromedp.CaptureScreenshot()
	if full {
		shot = chromedp.FullScreenshot(100)
	}
	png, err := chromedp.Run(b.ctx, shot)
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(shotDir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
}

func (b *browser) viewport(w, h int64, mobile bool) {
	b.t.Helper()
	if mobile {
		b.do(chromedp.EmulateViewport(w, h, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(2)))
		return
	}
	b.do(chromedp.EmulateViewport(w, h))
}

// download clicks sel and returns the file the browser saved.
func (b *browser) download(sel string) []byte {
	b.t.Helper()
	dir := b.t.TempDir()
	if _, err := chromedp.CallBrowser(b.ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: new(true),
	}); err != nil {
		b.t.Fatal(err)
	}
	events := chromedp.BrowserEvents(b.ctx, cdpbrowser.DownloadProgress) // subscribed from here on
	b.do(chromedp.Click(chromedp.CSS(sel)))
	for ev, err := range events {
		if err != nil {
			b.t.Fatalf("waiting for the download: %v", err)
		}
		switch ev.State {
		case cdpbrowser.DownloadProgressStateCompleted:
			data, err := os.ReadFile(filepath.Join(dir, ev.GUID))
			if err != nil {
				b.t.Fatal(err)
			}
			return data
		case cdpbrowser.DownloadProgressStateCanceled:
			b.t.Fatal("the download was canceled")
		}
	}
	b.t.Fatal("no download")
	return nil
}

// media emulates a CSS media type ("print"), or ends the emulation ("").
func (b *browser) media(m string) {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: m}); err != nil {
		b.t.Fatal(err)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}
