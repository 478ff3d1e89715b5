package callhistory_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/statusmap"
)

func TestFromCallyzer(t *testing.T) {
	t.Parallel()
	warsaw, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		t.Fatal(err)
	}
	in := callyzer.Call{
		ID: "c-10001", ClientName: "Jan Kowalski", ClientNumber: "+48601234567",
		EmployeeName: "Anna Nowak", EmployeeCode: "A7", EmployeeNumber: "+48511222333",
		EmployeeTags: []string{"BIK"}, Type: callyzer.Outgoing, Duration: 87,
		StartedAt: time.Date(2026, 11, 20, 14, 30, 0, 0, warsaw), Note: "oddzwonić",
		RecordingURL: "https://rec.example/1.mp3", CRMStatus: "hot", ReminderDate: "2026-11-22",
		SyncedAt: time.Date(2026, 11, 20, 14, 32, 10, 0, warsaw), LeadID: "cz-9",
	}
	want := callhistory.Call{
		CallyzerID: "c-10001", Phone: "+48601234567",
		Direction: statusmap.Outgoing, Status: statusmap.Connected,
		StartedAt: time.Date(2026, 11, 20, 13, 30, 0, 0, time.UTC), DurationSeconds: 87,
		EmployeeName: "Anna Nowak", EmployeeCode: "A7", EmployeePhone: "+48511222333",
		ClientName: "Jan Kowalski", RecordingURL: "https://rec.example/1.mp3", Note: "oddzwonić",
		RawCallType: "Outgoing", CRMStatus: "hot", CallyzerLeadID: "cz-9",
		SyncedAt: time.Date(2026, 11, 20, 13, 32, 10, 0, time.UTC),
	}
	m, err := statusmap.New(statusmap.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	got := callhistory.FromCallyzer(m, in)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FromCallyzer (-want +got):\n%s", diff)
	}
	if got.StartedAt.Location() != time.UTC || !got.ModifiedAt.IsZero() {
		t.Errorf("times must be UTC and zero stays zero: %v, %v", got.StartedAt.Location(), got.ModifiedAt)
	}

	in.Type = " blocked "
	got = callhistory.FromCallyzer(m, in)
	if got.Status != statusmap.Unknown || got.Direction != statusmap.UnknownDirection || got.RawCallType != " blocked " {
		t.Errorf("an unknown call type is kept verbatim with status unknown, got %q %q %q", got.Status, got.Direction, got.RawCallType)
	}
}
