package statusmap_test

import (
	"fmt"
	"log"
	"log/slog"
	"os"
	"strings"

	"github.com/leadcalls/leadcalls/statusmap"
)

func ExampleMapper_Map() {
	m := statusmap.Default()
	for _, call := range []struct {
		callType string
		duration int
	}{
		{"Incoming", 42},
		{"incoming ", 0},
		{"Outgoing", 0},
		{"WhatsApp", 15},
	} {
		r := m.Map(call.callType, call.duration)
		fmt.Printf("%q %ds -> %s, %s, %s / %s\n", r.RawCallType, call.duration, r.Code, r.Direction,
			m.Label(r.Code, "pl"), m.Label(r.Code, "en"))
	}
	// Output:
	// "Incoming" 42s -> answered, incoming, Odebrane / Answered
	// "incoming " 0s -> missed, incoming, Nieodebrane / Missed
	// "Outgoing" 0s -> not_picked_up, outgoing, Nieodebrane przez klienta / Not picked up by client
	// "WhatsApp" 15s -> unknown, unknown, Nieznany / Unknown
}

func ExampleMapper_UnknownTypes() {
	// Log without time so the output is stable.
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{}
			}
			return a
		},
	}))
	m, err := statusmap.New(statusmap.WithLogger(logger))
	if err != nil {
		log.Fatal(err)
	}
	m.Map("Blocked", 0)
	m.Map("Blocked", 0) // logged once only
	m.Map("Incoming", 5)
	fmt.Println(m.UnknownTypes())
	// Output:
	// level=WARN msg="statusmap: unknown Callyzer call_type, mapped with the fallback row" call_type=Blocked
	// map[Blocked:2]
}

func ExampleLoad() {
	table := `{
	  "connected_threshold_seconds": 10,
	  "statuses": [
	    {"code": "talked", "labels": {"pl": "Rozmowa", "en": "Talked"}},
	    {"code": "no_talk", "labels": {"pl": "Bez rozmowy"}}
	  ],
	  "rows": [
	    {"call_type": "Incoming", "duration": "connected", "direction": "incoming", "status": "talked"},
	    {"call_type": "Incoming", "duration": "not_connected", "direction": "incoming", "status": "no_talk"},
	    {"call_type": "*", "duration": "any", "direction": "unknown", "status": "no_talk"}
	  ]
	}`
	m, err := statusmap.Load(strings.NewReader(table))
	if err != nil {
		log.Fatal(err)
	}
	r := m.Map("INCOMING", 9)
	fmt.Println(r.Code, m.Label(r.Code, "en"))
	r = m.Map("Incoming", 10)
	fmt.Println(r.Code, m.Label(r.Code, "en"))
	fmt.Println(m.Codes())
	// Output:
	// no_talk Bez rozmowy
	// talked Talked
	// [talked no_talk]
}

func ExampleParse_invalid() {
	_, err := statusmap.Parse([]byte(`{
	  "statuses": [{"code": "unknown", "labels": {"pl": "Nieznany"}}],
	  "rows": [{"call_type": "Missed", "duration": "any", "direction": "incoming", "status": "missed"}]
	}`))
	fmt.Println(err)
	// Output:
	// statusmap: invalid table: rows[0] (call_type "Missed"): status "missed" is not declared in statuses; no fallback row (call_type "*")
}

func ExampleDefaultJSON() {
	// A host starts its own table from the default one.
	lines := strings.Split(string(statusmap.DefaultJSON()), "\n")
	fmt.Println(strings.Join(lines[:9], "\n"))
	// Output:
	// {
	//   "connected_threshold_seconds": 1,
	//   "statuses": [
	//     {
	//       "code": "answered",
	//       "labels": {
	//         "en": "Answered",
	//         "pl": "Odebrane"
	//       }
}
