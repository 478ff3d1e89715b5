package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/leadcalls/leadcalls/callyzer/pacing"
)

// The baselines of parts 1, 2 and 4: a naive Callyzer client, written here
// on purpose without package callyzer's paging. It pages each window chunk
// sequentially, honours a 429 by sleeping, and shares nothing between
// callers. Plain ("naive") it has no pacer; "naive + pacer" gives every
// caller one shared pacing.New pacer, each request a Background sequence of
// its own: one request in flight, starts an interval apart, first come
// first served, with no priority, no sequences of pages and no sharing of
// fetches. It decodes the rows and keeps nothing, so its times are a lower
// bound for a real client of this kind.
//
// The wait after a 429 is what real Callyzer would make the client wait:
// the fake runs in compressed time, so its Retry-After (whole seconds of
// harness time, at least 1) does not say the real wait. Real Callyzer
// answers a request that comes too early with Retry-After = ⌈the rest of the
// interval⌉, and one that comes while a request is in flight (most of them:
// a page takes longer than the interval) with the whole interval; the naive
// client therefore sleeps max(Retry-After, interval) in real time,
// compressed: exactly the interval when a request is in flight, at most one
// real second more than needed otherwise.

// naiveAttempts bounds the attempts of one page, so that a naive client
// stuck in 429s ends; the scenario's context bounds its time.
const naiveAttempts = 5000

// naiveResult is what one naive read did.
type naiveResult struct {
	pages    int // pages read
	requests int // requests sent, 429s included
	rows     int // rows decoded
}

// naiveClient is the baseline's whole configuration.
type naiveClient struct {
	hc       *http.Client
	baseURL  string
	apiKey   string
	compress float64       // real time ÷ harness time
	interval time.Duration // Callyzer's pacing interval, real time: the least wait after a 429
	// pacer, when set, hands out the request slot ("naive + pacer"); every
	// request acquires it as Background, so it is first come, first served.
	pacer pacing.Pacer
	// onPage, when set, sees every page's raw body (part 4 discards it).
	onPage func(body []byte)
}

// tagHeader carries the harness's id of the refresh a naive request belongs
// to; the fake records it, so wasted requests are counted where they landed.
const tagHeader = "X-Loadtest-Refresh"

// retryWait is how long the client sleeps after a 429 whose Retry-After is
// secs (see above), in harness time.
func (c *naiveClient) retryWait(secs int) time.Duration {
	real := max(time.Duration(max(secs, 1))*time.Second, c.interval)
	return time.Duration(float64(real) / c.compress)
}

// naiveRefresh reads the call history of one number (E.164) over the
// window [from, to], as a naive refresh would: chunk by chunk, page by
// page, one request at a time, no pacer.
// Its requests carry tag in tagHeader.
func naiveRefresh(ctx context.Context, c *naiveClient, tag, phone string, from, to time.Time) (naiveResult, error) {
	cc, err := apiNumber(phone)
	if err != nil {
		return naiveResult{}, fmt.Errorf("naive: %w", err)
	}
	return c.read(ctx, tag, map[string]any{"client_numbers": []string{cc}}, from, to)
}

// apiNumber is phone (E.164) as Callyzer wants it, "48-601234567"; every
// number of the data set is Polish.
func apiNumber(phone string) (string, error) {
	national, ok := strings.CutPrefix(phone, "+48")
	if !ok {
		return "", fmt.Errorf("not a Polish number: %q", phone)
	}
	return "48-" + national, nil
}

// naiveBackfill reads every call of the window, account-wide.
func naiveBackfill(ctx context.Context, c *naiveClient, from, to time.Time) (naiveResult, error) {
	return c.read(ctx, "", map[string]any{"client_numbers": []string{}}, from, to)
}

func (c *naiveClient) read(ctx context.Context, tag string, filter map[string]any, from, to time.Time) (naiveResult, error) {
	var res naiveResult
	for _, ch := range chunksOldestFirst(from, to) {
		seen := 0
		for page := 1; ; page++ {
			body := map[string]any{
				"call_from": ch.from, "call_to": ch.to,
				"call_types": []string{}, "emp_numbers": []string{}, "emp_tags": []string{},
				"is_exclude_numbers": true, "page_no": page, "page_size": pageSize,
			}
			for k, v := range filter {
				body[k] = v
			}
			rows, total, err := c.page(ctx, tag, body, &res)
			if err != nil {
				return res, err
			}
			res.pages++
			res.rows += rows
			seen += rows
			if rows == 0 || seen >= total {
				break
			}
		}
	}
	return res, nil
}

// naivePage is the part of a history page the naive client reads.
type naivePage struct {
	Result []struct {
		ID           string `json:"id"`
		ClientNumber string `json:"client_number"`
		CallDate     string `json:"call_date"`
		CallTime     string `json:"call_time"`
	} `json:"result"`
	TotalRecords int `json:"total_records"`
}

// page sends one page request until it gets a page, sleeping out 429s.
func (c *naiveClient) page(ctx context.Context, tag string, body map[string]any, res *naiveResult) (rows, total int, err error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return 0, 0, err
	}
	for range naiveAttempts {
		status, data, retryAfter, err := c.send(ctx, tag, raw, res)
		if err != nil {
			return 0, 0, err
		}
		switch status {
		case http.StatusOK:
			var p naivePage
			if err := json.Unmarshal(data, &p); err != nil {
				return 0, 0, fmt.Errorf("naive: decoding a page: %w", err)
			}
			if c.onPage != nil {
				c.onPage(data)
			}
			return len(p.Result), p.TotalRecords, nil
		case http.StatusTooManyRequests:
			t := time.NewTimer(c.retryWait(retryAfter))
			select {
			case <-ctx.Done():
				t.Stop()
				return 0, 0, ctx.Err()
			case <-t.C:
			}
		default:
			return 0, 0, fmt.Errorf("naive: status %d: %.200s", status, data)
		}
	}
	return 0, 0, errBudget
}

// send sends one request, through the pacer when there is one, and returns
// the status, the body and the Retry-After header's seconds (0 if none).
func (c *naiveClient) send(ctx context.Context, tag string, raw []byte, res *naiveResult) (status int, data []byte, retryAfter int, err error) {
	if c.pacer != nil {
		seq := c.pacer.Begin(pacing.Background)
		defer seq.End()
		release, err := seq.Acquire(ctx)
		if err != nil {
			return 0, nil, 0, err
		}
		defer release(time.Time{}) // the grant alone counts: this client does not trace its writes
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+"/call-log/history", bytes.NewReader(raw))
	if err != nil {
		return 0, nil, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	req.Header.Set("Content-Type", "application/json")
	if tag != "" {
		req.Header.Set(tagHeader, tag)
	}
	res.requests++
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, 0, err
	}
	defer resp.Body.Close()
	if data, err = io.ReadAll(io.LimitReader(resp.Body, 8<<20)); err != nil {
		return 0, nil, 0, err
	}
	retryAfter, _ = strconv.Atoi(resp.Header.Get("Retry-After"))
	return resp.StatusCode, data, retryAfter, nil
}
