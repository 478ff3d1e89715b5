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
)

// The baseline of parts 1, 2 and 4: a naive Callyzer client, written here on
// purpose without package callyzer. It pages each window chunk sequentially,
// honours a 429's Retry-After by sleeping (scaled by the time compression),
// and has no pacer, no priority and no sharing between callers. It decodes
// the rows and keeps nothing, so its times are a lower bound for a real
// client of this kind.

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
	compress float64
	// onPage, when set, sees every page's raw body (part 4 discards it).
	onPage func(body []byte)
}

// naiveRefresh reads the call history of one number (E.164) over the
// window [from, to], as a naive refresh would: chunk by chunk, page by
// page, one request at a time, no pacer.
func naiveRefresh(ctx context.Context, c *naiveClient, phone string, from, to time.Time) (naiveResult, error) {
	// Callyzer wants "48-601234567"; every number of the data set is Polish.
	national, ok := strings.CutPrefix(phone, "+48")
	if !ok {
		return naiveResult{}, fmt.Errorf("naive: not a Polish number: %q", phone)
	}
	cc := "48-" + national
	return c.read(ctx, map[string]any{"client_numbers": []string{cc}}, from, to)
}

// naiveBackfill reads every call of the window, account-wide.
func naiveBackfill(ctx context.Context, c *naiveClient, from, to time.Time) (naiveResult, error) {
	return c.read(ctx, map[string]any{"client_numbers": []string{}}, from, to)
}

func (c *naiveClient) read(ctx context.Context, filter map[string]any, from, to time.Time) (naiveResult, error) {
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
			rows, total, err := c.page(ctx, body, &res)
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
func (c *naiveClient) page(ctx context.Context, body map[string]any, res *naiveResult) (rows, total int, err error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return 0, 0, err
	}
	for range naiveAttempts {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+"/call-log/history", bytes.NewReader(raw))
		if err != nil {
			return 0, 0, err
		}
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
		req.Header.Set("Content-Type", "application/json")
		res.requests++
		resp, err := c.hc.Do(req)
		if err != nil {
			return 0, 0, err
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
		resp.Body.Close()
		if err != nil {
			return 0, 0, err
		}
		switch resp.StatusCode {
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
			secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			wait := time.Duration(float64(max(secs, 1)) * float64(time.Second) / c.compress)
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return 0, 0, ctx.Err()
			case <-t.C:
			}
		default:
			return 0, 0, fmt.Errorf("naive: status %d: %.200s", resp.StatusCode, data)
		}
	}
	return 0, 0, errBudget
}
