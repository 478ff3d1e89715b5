package callyzer_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
	"github.com/leadcalls/leadcalls/callyzer/pacing"
)

func ExampleClient_HistoryPages() {
	page, _ := os.ReadFile("testdata/history_example.json")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(page)
	}))
	defer srv.Close()

	c, err := callyzer.NewClient("my-api-key",
		callyzer.WithBaseURL(srv.URL),
		callyzer.WithInterval(0), // a test server has no rate limit
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	warsaw, _ := time.LoadLocation("Europe/Warsaw")
	q := callyzer.HistoryQuery{
		CallFrom:      time.Date(2026, 11, 1, 0, 0, 0, 0, warsaw),
		CallTo:        time.Date(2026, 11, 30, 23, 59, 59, 0, warsaw),
		ClientNumbers: []string{"+48601234567"},
		Priority:      pacing.Interactive,
	}
	seen := map[string]bool{} // a call may arrive on two pages
	for page, err := range c.HistoryPages(context.Background(), q) {
		if err != nil {
			fmt.Println("failed:", errors.Is(err, callyzer.ErrUnauthorized), err)
			return
		}
		for _, call := range page.Calls {
			if seen[call.ID] {
				continue
			}
			seen[call.ID] = true
			fmt.Println(call.ID, call.Type, call.Duration, call.ClientNumber, call.StartedAt.Format("2006-01-02 15:04:05 MST"))
		}
	}
	fmt.Println("key printed:", strings.Contains(fmt.Sprintf("%+v %#v", c, c), "my-api-key"))
	// Output:
	// c-10001 Outgoing 87 +48601234567 2026-11-20 14:30:00 CET
	// c-10002 Missed 0 +48601234567 2026-11-21 09:05:12 CET
	// key printed: false
}

func ExampleClient_Calibrate() {
	// A fake account whose client_numbers filter matches national digits
	// and whose pages hold at most 50 rows.
	ds := callyzertest.Generate(1, callyzertest.GenerateConfig{Calls: 1000})
	srv := callyzertest.New(callyzertest.Options{Calls: ds.Calls, Employees: ds.Employees,
		ClientNumberForms: callyzertest.FormNational, PageSizeCap: 50})
	defer srv.Close()

	c, err := callyzer.NewClient(srv.APIKey(), callyzer.WithBaseURL(srv.URL), callyzer.WithInterval(0))
	if err != nil {
		fmt.Println(err)
		return
	}
	cal, err := c.Calibrate(context.Background())
	if err != nil {
		fmt.Println("failed:", err)
		return
	}
	fmt.Println(cal.ClientNumberForm, cal.PageSize, int(cal.MaxWindow.Hours()/24), "days")
	for _, o := range cal.GoOptions {
		fmt.Println(o)
	}
	// Output:
	// national 50 180 days
	// callyzer.WithClientNumberForm("national")
	// callyzer.WithPageSize(50)
}
