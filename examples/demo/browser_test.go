package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/internal/testenv"
)

// ScreenshotDirVar names a directory that also receives the browser test's
// screenshot (for the README).
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
// advisor refreshes a lead's history through the page's script; another
// advisor gets the spec's permission message.
func TestBrowserRefresh(t *testing.T) {
	// The simulator answers slowly enough for the progress message to show.
	base := startDemo(t, "-seed", "seed.example.json", "-sim-latency", "150ms")
	ctx := newBrowser(t)
	leadURL := base + "/crm/leads/1001"

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

	saveScreenshot(t, ctx)

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

func saveScreenshot(t *testing.T, ctx context.Context) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()) // the viewport, as a user sees it
	require.NoError(t, err)
	dirs := []string{t.TempDir()}
	if dir := os.Getenv(ScreenshotDirVar); dir != "" {
		dirs = append(dirs, dir)
	}
	for _, dir := range dirs {
		path := filepath.Join(dir, "call-history.png")
		require.NoError(t, os.WriteFile(path, png, 0o644))
		t.Logf("screenshot: %s", path)
	}
}
