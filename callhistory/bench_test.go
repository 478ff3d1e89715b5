package callhistory_test

import (
	"context"
	"fmt"
	"iter"
	"log/slog"
	"testing"
	"time"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
	"github.com/leadcalls/leadcalls/callyzer/pacing"
	"github.com/leadcalls/leadcalls/storage/memstore"
)

// thousandCalls are 1,000 calls of the lead spread over the window.
func thousandCalls() []callyzertest.Call {
	w := itWindow()
	step := w.To.Sub(w.From) / 1000
	calls := make([]callyzertest.Call, 1000)
	for i := range calls {
		calls[i] = serverCall(fmt.Sprintf("c-%04d", i), w.From.Add(time.Duration(i)*step+time.Second).Truncate(time.Second))
	}
	return calls
}

// pagesSource serves pages decoded beforehand: a refresh without HTTP.
type pagesSource []*callyzer.HistoryPage

func (s pagesSource) HistoryPages(context.Context, callyzer.HistoryQuery) iter.Seq2[*callyzer.HistoryPage, error] {
	return func(yield func(*callyzer.HistoryPage, error) bool) {
		for _, p := range s {
			if !yield(p, nil) {
				return
			}
		}
	}
}

// BenchmarkRefresh refreshes a lead with 1,000 calls on memstore: over HTTP
// against the fake server (zero latency, zero pacing, 100 calls a page),
// and from the same pages decoded beforehand, which leaves only our code
// and the store. After the first iteration every call is unchanged, the
// steady state of repeated refreshes.
func BenchmarkRefresh(b *testing.B) {
	quiet := slog.New(slog.DiscardHandler)
	srv := callyzertest.NewServer(b, callyzertest.Options{Calls: thousandCalls()})
	client, err := callyzer.NewClient(srv.APIKey(), callyzer.WithBaseURL(srv.URL),
		callyzer.WithInterval(0), callyzer.WithRetryDelays(0, 0), callyzer.WithLogger(quiet))
	if err != nil {
		b.Fatal(err)
	}
	var pages pagesSource
	q := callyzer.HistoryQuery{CallFrom: itWindow().From, CallTo: itWindow().To, ClientNumbers: []string{leadPhone}, Priority: pacing.Interactive}
	for p, err := range client.HistoryPages(b.Context(), q) {
		if err != nil {
			b.Fatal(err)
		}
		pages = append(pages, p)
	}

	for _, bc := range []struct {
		name   string
		source callhistory.CallSource
	}{{"http", client}, {"decoded-pages", pages}} {
		b.Run(bc.name, func(b *testing.B) {
			r, err := callhistory.NewRefresher(callhistory.Config{
				Source: bc.source, Store: memstore.New(), Leads: &countingLeads{},
				Now: func() time.Time { return itNow }, Logger: quiet, ListLimit: 1000,
			})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				res, err := r.Refresh(b.Context(), admin, leadID)
				if err != nil {
					b.Fatal(err)
				}
				if res.Report.Fetched != 1000 || len(res.Calls) != 1000 {
					b.Fatalf("fetched %d, listed %d", res.Report.Fetched, len(res.Calls))
				}
			}
			r.Wait()
		})
	}
}
