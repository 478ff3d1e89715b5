package callyzertest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
)

func Example() {
	at := time.Date(2026, 11, 20, 13, 30, 0, 0, time.UTC)
	call := callyzertest.NewCall("c-10001", "+48601234567", at)
	call.Duration = 87
	srv := callyzertest.New(callyzertest.Options{Calls: []callyzertest.Call{call}})
	defer srv.Close()

	body, _ := json.Marshal(map[string]any{
		"call_from": at.Add(-time.Hour).Unix(), "call_to": at.Add(time.Hour).Unix(),
		"client_numbers": []string{"48-601234567"}, "page_no": 1, "page_size": 100,
	})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+callyzertest.PathHistory, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+srv.APIKey())
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var page struct {
		TotalRecords int `json:"total_records"`
		Result       []struct {
			ID       string `json:"id"`
			CallDate string `json:"call_date"`
			CallTime string `json:"call_time"`
			Duration int    `json:"duration"`
		} `json:"result"`
	}
	json.NewDecoder(resp.Body).Decode(&page)
	fmt.Println(resp.StatusCode, page.TotalRecords)
	r := page.Result[0]
	fmt.Println(r.ID, r.CallDate, r.CallTime, r.Duration) // wall-clock time in Europe/Warsaw
	fmt.Println(len(srv.Requests()), "request")
	// Output:
	// 200 1
	// c-10001 2026-11-20 14:30:00 87
	// 1 request
}

func ExampleServer_Inject() {
	srv := callyzertest.New(callyzertest.Options{})
	defer srv.Close()
	srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: 503, RetryAfter: "3", Request: 1})

	get := func() *http.Response {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+callyzertest.PathEmployees+"?page_no=1&page_size=100", nil)
		req.Header.Set("Authorization", "Bearer "+srv.APIKey())
		resp, err := srv.Client().Do(req)
		if err != nil {
			panic(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	first := get()
	fmt.Println(first.StatusCode, first.Header.Get("Retry-After"))
	fmt.Println(get().StatusCode)
	for _, r := range srv.Requests() {
		fmt.Println(r.N, r.Path, r.Status, r.Fault)
	}
	// Output:
	// 503 3
	// 200
	// 1 /employee/get 503 Status
	// 2 /employee/get 200 none
}

func ExampleGenerate() {
	end := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	ds := callyzertest.Generate(1, callyzertest.GenerateConfig{End: end, Employees: 3, Leads: 2, Calls: 10})
	for _, e := range ds.Employees {
		fmt.Println(e.Code, e.Tags[0], len(e.Number))
	}
	fmt.Println(len(ds.Leads), len(ds.Calls), ds.Calls[0].ID)
	// Output:
	// D01 BIK 9
	// D02 BIK 9
	// D03 BIK 9
	// 2 10 c-010001
}
