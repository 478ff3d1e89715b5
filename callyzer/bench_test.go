package callyzer

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/leadcalls/leadcalls/statusmap"
)

// hundredRows is a full history page: 100 rows of varied types, some with
// string durations and zone suffixes, as Callyzer sends them.
func hundredRows(b *testing.B) []byte {
	types := []string{"Incoming", "Outgoing", "Missed", "Rejected", "VoiceMail"}
	rows := make([]map[string]any, 100)
	for i := range rows {
		var duration any = i * 7 % 300
		if i%3 == 0 {
			duration = fmt.Sprint(duration)
		}
		rows[i] = map[string]any{
			"id": fmt.Sprintf("c-%05d", i), "client_name": "Jan Kowalski", "client_country_code": "48",
			"client_number": fmt.Sprintf("601%06d", i), "emp_name": "Anna Nowak", "emp_code": "A7",
			"emp_country_code": "48", "emp_number": "511222333", "emp_tags": []string{"BIK"},
			"call_type": types[i%len(types)], "duration": duration,
			"call_date": "2026-11-20", "call_time": fmt.Sprintf("%02d:%02d:00", i%24, i%60),
			"note": nil, "call_recording_url": "", "crm_status": "", "lead_id": "",
			"synced_at": "2026-11-20 14:32:10 CET", "modified_at": "2026-11-20 14:32:10",
		}
	}
	body, err := json.Marshal(map[string]any{"message": "Success", "total_records": 100, "result": rows})
	if err != nil {
		b.Fatal(err)
	}
	return body
}

func BenchmarkDecodeAndMapPage(b *testing.B) {
	body := hundredRows(b)
	loc, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		b.Fatal(err)
	}
	// VoiceMail rows are unknown on purpose; their one warning is not
	// what this measures.
	mapper, err := statusmap.New(statusmap.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		page, err := decodeHistory(body, loc)
		if err != nil {
			b.Fatal(err)
		}
		if len(page.calls) != 100 {
			b.Fatalf("%d calls", len(page.calls))
		}
		for i := range page.calls {
			if r := mapper.Map(string(page.calls[i].Type), page.calls[i].Duration); r.Code == "" {
				b.Fatal("no status")
			}
		}
	}
}

func BenchmarkDecodePage(b *testing.B) {
	body := hundredRows(b)
	loc, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := decodeHistory(body, loc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodePageBaseline is the floor BenchmarkDecodePage is compared
// with in the same run: encoding/json into plain structs of the same fields,
// with no validation, no number normalisation and no time parsing.
func BenchmarkDecodePageBaseline(b *testing.B) {
	body := hundredRows(b)
	type row struct {
		ID                string   `json:"id"`
		ClientName        string   `json:"client_name"`
		ClientCountryCode string   `json:"client_country_code"`
		ClientNumber      string   `json:"client_number"`
		EmpName           string   `json:"emp_name"`
		EmpCode           string   `json:"emp_code"`
		EmpCountryCode    string   `json:"emp_country_code"`
		EmpNumber         string   `json:"emp_number"`
		EmpTags           []string `json:"emp_tags"`
		CallType          string   `json:"call_type"`
		Duration          any      `json:"duration"`
		CallDate          string   `json:"call_date"`
		CallTime          string   `json:"call_time"`
		Note              *string  `json:"note"`
		RecordingURL      string   `json:"call_recording_url"`
		CRMStatus         string   `json:"crm_status"`
		LeadID            string   `json:"lead_id"`
		SyncedAt          string   `json:"synced_at"`
		ModifiedAt        string   `json:"modified_at"`
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		var env struct {
			Message      string `json:"message"`
			TotalRecords int    `json:"total_records"`
			Result       []row  `json:"result"`
		}
		if err := json.Unmarshal(body, &env); err != nil || len(env.Result) != 100 {
			b.Fatal(err, len(env.Result))
		}
	}
}
