package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/internal/testenv"
)

// ScreenshotDirVar names a directory that also receives the browser test's
// screenshots (for the README: LEADCALLS_SCREENSHOT_DIR=$PWD/docs).
const ScreenshotDirVar = "LEADCALLS_SCREENSHOT_DIR"

// newBrowser starts headless Chromium with a fresh profile and no
// background network traffic of its own: the only options are ours, not
// chromedp.DefaultExecAllocatorOptions.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(testenv.Chromium(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "pl-PL"),
		chromedp.Flag("accept-lang", "pl-PL,pl"), // the CRM's users; English is tested in callhistoryhttp
		chromedp.WindowSize(1280, 860),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc() // waits for the browser process to exit
	})
	return ctx
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, steps...))
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(sel))
	require.NoError(t, err, sel)
	return s
}

func signIn(t *testing.T, ctx context.Context, base, userID string) {
	t.Helper()
	radio := `input[name="user_id"][value="` + userID + `"]`
	do(t, ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(radio),
		chromedp.Click(radio),
		chromedp.Click(`form[action="/login"] button[type="submit"]`),
		chromedp.WaitVisible("ul.leads"),
	)
}

// TestBrowserRefresh drives the demo in headless Chromium: the assigned
// advisor refreshes a lead's history through the page's script; the page
// fits phones and laptops, shows the summary and plays a recording;
// another advisor gets the spec's permission message. No request of the
// pages' own is answered 404.
func TestBrowserRefresh(t *testing.T) {
	// The simulator answers slowly enough for the progress message to show.
	base := startDemo(t, "-seed", "seed.example.json", "-sim-latency", "150ms")
	ctx := newBrowser(t)
	leadURL := base + "/crm/leads/1001"
	notFound := watchNotFound(t, ctx)

	signIn(t, ctx, base, "piotr.doradca")
	require.Contains(t, text(t, ctx, ".topbar .user"), "Piotr Nowicki")

	do(t, ctx,
		chromedp.Navigate(leadURL),
		chromedp.WaitVisible("#call-history .refresh-form button"),
	)
	require.Equal(t, "Jan Kowalski", text(t, ctx, "#lead-name"))
	require.Equal(t, "Historia nie została jeszcze pobrana", text(t, ctx, ".empty-title"))

	// The progress message is recorded by the page itself the moment it
	// shows, so the test need not catch it on screen before the refresh
	// ends (which would race with a fast refresh).
	_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](watchProgress))
	require.NoError(t, err)
	do(t, ctx,
		chromedp.Click("#call-history .refresh-form button"),
		chromedp.WaitVisible("#call-history-messages .alert-success"),
	)
	require.Equal(t, msgUpdated, text(t, ctx, "#call-history-messages .alert-success"))
	seen, err := chromedp.Run(ctx, chromedp.Evaluate[[]progressSeen](`window.progressSeen`))
	require.NoError(t, err)
	require.Equal(t, []progressSeen{{Text: "Odświeżanie… to może potrwać kilka sekund", Shown: true, ButtonDisabled: true}}, seen,
		"the progress message showed once, with the button disabled")

	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#call-history-body table.calls tbody tr").length`))
	require.NoError(t, err)
	require.Positive(t, rows, "the refreshed calls are in the table")
	require.Contains(t, text(t, ctx, "#call-history-sync"), "Ostatnia synchronizacja:")
	hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("#call-history .progress").hidden`))
	require.NoError(t, err)
	require.True(t, hidden, "the progress message goes away")
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.Equal(t, leadURL, loc, "the script refreshed in place, without the form's redirect")

	checkLayouts(t, ctx, rows)
	checkRecordingPlays(t, ctx)

	// Another advisor may not see this lead's history.
	do(t, ctx,
		chromedp.Click(`.topbar form[action="/logout"] button`),
		chromedp.WaitVisible(`form[action="/login"]`),
	)
	signIn(t, ctx, base, "anna.doradca")
	do(t, ctx,
		chromedp.Navigate(leadURL),
		chromedp.WaitVisible(`[role="alert"]`),
	)
	require.Equal(t, msgForbidden, text(t, ctx, `[role="alert"]`))
	buttons, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".refresh-form").length`))
	require.NoError(t, err)
	require.Zero(t, buttons, "no refresh button without permission")
	require.Equal(t, "Lead 1001", text(t, ctx, ".lead-id"), "the page names the lead asked for")
	do(t, ctx,
		chromedp.Click(`nav.back a`),
		chromedp.WaitVisible("ul.leads"),
	)
	require.Empty(t, notFound(), "requests answered 404")
}

// watchNotFound records the URLs the browser got a 404 for (a missing
// icon, stylesheet or script); the returned function lists them.
func watchNotFound(t *testing.T, ctx context.Context) func() []string {
	t.Helper()
	var mu sync.Mutex
	var urls []string
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventResponseReceived); ok && e.Response.Status == http.StatusNotFound {
			mu.Lock()
			urls = append(urls, e.Response.URL)
			mu.Unlock()
		}
	}))
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), urls...)
	}
}

// layout is what the page measures of itself at one width.
type layout struct {
	ScrollWidth int    `json:"scrollWidth"`
	Viewport    int    `json:"viewport"`
	RowDisplay  string `json:"rowDisplay"` // a call's row: "grid" as a card, "table-row" in the table
	TableScroll bool   `json:"tableScroll"`
	Tiles       int    `json:"tiles"`
	CallsTile   string `json:"callsTile"`
	Widest      string `json:"widest"` // the element whose right edge is furthest right, for a failure's message
}

const measureLayout = `(() => {
  const row = document.querySelector("#call-history-body table.calls tbody tr");
  const wrap = document.querySelector("#call-history-body .table-wrap");
  const calls = document.querySelector('#call-history .tile[data-tile="calls"] .value');
  return {
    scrollWidth: document.documentElement.scrollWidth,
    viewport: window.innerWidth,
    rowDisplay: row ? getComputedStyle(row).display : "",
    tableScroll: wrap ? wrap.scrollWidth > wrap.clientWidth : false,
    tiles: document.querySelectorAll("#call-history .summary .tile").length,
    callsTile: calls ? calls.textContent.trim() : "",
    widest: [...document.querySelectorAll("body *")].filter((el) => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        if (getComputedStyle(p).overflowX !== "visible") return false; // clipped or scrolled there
      }
      return true;
    }).reduce((w, el) => {
      const right = el.getBoundingClientRect().right;
      const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && el.className.baseVal === undefined ? "." + el.className.trim().replace(/\s+/g, ".") : "");
      return right > w.right ? { right, name } : w;
    }, { right: 0, name: "" }).name,
  };
})()`

// checkLayouts resizes the page to a phone, a tablet and two laptops: at
// none may the page scroll sideways; on the narrow ones each call is a
// card; the summary's six tiles count the calls listed. The phone's and
// the wide laptop's screenshots go to the README.
func checkLayouts(t *testing.T, ctx context.Context, rows int) {
	t.Helper()
	for _, size := range []struct {
		width, height int64
		cards         bool
		fits          bool // the table needs no scrolling
		screenshot    string
		shotHeight    int64 // of the screenshot: the phone's shows a few cards
	}{
		{390, 844, true, true, "call-history-390.png", 1600},
		{768, 1024, true, true, "", 0},
		{1024, 768, false, true, "", 0},
		{1280, 860, false, true, "call-history-1280.png", 860},
	} {
		do(t, ctx, chromedp.EmulateViewport(size.width, size.height), chromedp.Sleep(100*time.Millisecond))
		got, err := chromedp.Run(ctx, chromedp.Evaluate[layout](measureLayout))
		require.NoError(t, err)
		t.Logf("%d px: %+v", size.width, got)
		require.Equal(t, int(size.width), got.Viewport)
		require.LessOrEqual(t, got.ScrollWidth, got.Viewport, "%d px: the page scrolls sideways", size.width)
		if size.cards {
			require.Equal(t, "grid", got.RowDisplay, "%d px: each call is a card", size.width)
		} else {
			require.Equal(t, "table-row", got.RowDisplay, "%d px: the calls are a table", size.width)
		}
		if size.fits {
			require.False(t, got.TableScroll, "%d px: the calls need no scrolling", size.width)
		}
		require.Equal(t, 6, got.Tiles, "%d px: the summary", size.width)
		require.Equal(t, strconv.Itoa(rows), got.CallsTile, "every listed call is in the window")
		if size.screenshot != "" {
			do(t, ctx, chromedp.EmulateViewport(size.width, size.shotHeight), chromedp.Sleep(100*time.Millisecond))
			saveScreenshot(t, ctx, size.screenshot)
		}
	}
	label, err := chromedp.Run(ctx, chromedp.TextContent(`#call-history .tile[data-tile="calls"] dt`))
	require.NoError(t, err)
	require.Equal(t, "Połączenia (6 mies.)", label)
}

// checkRecordingPlays loads the first recording's player: the demo serves
// the simulator's recordings, so the audio element learns its duration.
func checkRecordingPlays(t *testing.T, ctx context.Context) {
	t.Helper()
	type loaded struct {
		Found    bool    `json:"found"`
		Duration float64 `json:"duration"`
		Src      string  `json:"src"`
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[loaded](`(async () => {
  const audio = document.querySelector("#call-history audio");
  if (!audio) return { found: false };
  const metadata = new Promise((resolve, reject) => {
    audio.addEventListener("loadedmetadata", () => resolve(audio.duration), { once: true });
    audio.addEventListener("error", () => reject(new Error("audio error " + (audio.error && audio.error.code))), { once: true });
  });
  audio.preload = "metadata";
  audio.load();
  return { found: true, duration: await metadata, src: audio.currentSrc };
})()`, chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	require.True(t, got.Found, "a call of the lead has a recording")
	require.InDelta(t, 2.0, got.Duration, 0.1, "the recording's duration, from its metadata")
	require.Contains(t, got.Src, "/recordings/1001/", "played from the demo")
}

// watchProgress records, in window.progressSeen, what the progress element
// of the call-history section shows each time it is unhidden.
const watchProgress = `(() => {
  const progress = document.querySelector("#call-history .progress");
  const button = document.querySelector("#call-history .refresh-form button");
  window.progressSeen = [];
  new MutationObserver(() => {
    if (progress.hidden) return;
    window.progressSeen.push({
      text: progress.textContent.trim(),
      shown: progress.getClientRects().length > 0,
      buttonDisabled: button.disabled,
    });
  }).observe(progress, { attributes: true, attributeFilter: ["hidden"] });
  return true;
})()`

type progressSeen struct {
	Text           string `json:"text"`
	Shown          bool   `json:"shown"`
	ButtonDisabled bool   `json:"buttonDisabled"`
}

func saveScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()) // the viewport, as a user sees it
	require.NoError(t, err)
	dirs := []string{t.TempDir()}
	if dir := os.Getenv(ScreenshotDirVar); dir != "" {
		dirs = append(dirs, dir)
	}
	for _, dir := range dirs {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, png, 0o644))
		t.Logf("screenshot: %s", path)
	}
}

// TestBrowserFeedHealth opens, in headless Chromium, the lead page of an
// advisor whose phone stopped uploading (the note above the list) and the
// admin page of phones and months, on a phone and a laptop: no sideways
// scrolling, every state shown. Their screenshots go to the README.
func TestBrowserFeedHealth(t *testing.T) {
	base := startDemo(t, "-sync-interval", "1h")
	waiter := browserless(t)
	login(t, waiter, base, "admin")
	require.Eventually(t, func() bool {
		_, b, err := tryGet(t.Context(), waiter, base+"/admin/phones")
		return err == nil && strings.Contains(b, `data-month-complete="false"`)
	}, 30*time.Second, 50*time.Millisecond, "the first sync pass and its health check")

	ctx := newBrowser(t)
	notFound := watchNotFound(t, ctx)
	signIn(t, ctx, base, "admin")
	require.Contains(t, text(t, ctx, "#feed-problems"), "Problemy z danymi z Callyzer: 4.")
	lead, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
  const badge = [...document.querySelectorAll("ul.leads [data-feed-badge]")].find(b => b.textContent.includes("nie przesyła"));
  return badge ? badge.closest("a").getAttribute("href") : "";
})()`))
	require.NoError(t, err)
	require.NotEmpty(t, lead, "a lead of the offline advisor is marked")

	do(t, ctx, chromedp.Navigate(base+lead), chromedp.WaitVisible(".feed-note"))
	require.Equal(t, "Telefon doradcy nie przesyła połączeń od 3 dni — historia może być niepełna",
		strings.TrimSpace(text(t, ctx, ".feed-note")))
	checkFits(t, ctx, "lead page", map[int64]string{390: "feed-note-390.png", 1280: ""}, 1100)

	do(t, ctx, chromedp.Navigate(base+"/admin/phones"), chromedp.WaitVisible("table.phones"))
	phones, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("table.phones tbody tr")].map(r => r.dataset.phoneStatus).sort()`))
	require.NoError(t, err)
	require.Equal(t, []string{"offline", "ok", "recording_off", "stale", "uninstalled"}, phones)
	flagged, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`document.querySelector('table.months tr[data-month-complete="false"] .status-badge').textContent`))
	require.NoError(t, err)
	require.Contains(t, flagged, "po ponownym odczycie")
	checkFits(t, ctx, "phones page", map[int64]string{390: "admin-phones-390.png", 1280: "admin-phones-1280.png"}, 1500)
	require.Empty(t, notFound(), "requests answered 404")
}

// checkFits resizes the page to each width: it may not scroll sideways;
// a width with a name is then captured shotHeight tall.
func checkFits(t *testing.T, ctx context.Context, what string, widths map[int64]string, shotHeight int64) {
	t.Helper()
	for _, w := range []int64{390, 768, 1024, 1280} {
		do(t, ctx, chromedp.EmulateViewport(w, 860), chromedp.Sleep(100*time.Millisecond))
		got, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, window.innerWidth]`))
		require.NoError(t, err)
		require.LessOrEqual(t, got[0], got[1], "%s at %d px scrolls sideways", what, w)
		if name := widths[w]; name != "" {
			do(t, ctx, chromedp.EmulateViewport(w, shotHeight), chromedp.Sleep(100*time.Millisecond))
			saveScreenshot(t, ctx, name)
		}
	}
}
