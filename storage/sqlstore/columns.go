package sqlstore

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/statusmap"
)

// A field maps one column of the calls table to a field of
// callhistory.Call: the one place a field is named in this package.
type field struct {
	column string
	arg    func(d *dialect, c *callhistory.Call) any // the bind argument of the field
	dest   func(d *dialect, c *callhistory.Call) any // a Scan destination that sets the field
}

// fields are the written columns of the calls table, in statement order;
// callyzer_id first. The row id ("id") is read and written apart.
var fields = []field{
	textField("callyzer_id", func(c *callhistory.Call) *string { return &c.CallyzerID }),
	textField("phone", func(c *callhistory.Call) *string { return &c.Phone }),
	textField("direction", func(c *callhistory.Call) *statusmap.Direction { return &c.Direction }),
	textField("status", func(c *callhistory.Call) *statusmap.Code { return &c.Status }),
	timeField("started_at", false, func(c *callhistory.Call) *time.Time { return &c.StartedAt }),
	intField("duration_seconds", func(c *callhistory.Call) *int { return &c.DurationSeconds }),
	textField("employee_name", func(c *callhistory.Call) *string { return &c.EmployeeName }),
	textField("employee_code", func(c *callhistory.Call) *string { return &c.EmployeeCode }),
	textField("employee_phone", func(c *callhistory.Call) *string { return &c.EmployeePhone }),
	textField("client_name", func(c *callhistory.Call) *string { return &c.ClientName }),
	textField("recording_url", func(c *callhistory.Call) *string { return &c.RecordingURL }),
	textField("note", func(c *callhistory.Call) *string { return &c.Note }),
	textField("raw_call_type", func(c *callhistory.Call) *string { return &c.RawCallType }),
	textField("crm_status", func(c *callhistory.Call) *string { return &c.CRMStatus }),
	textField("callyzer_lead_id", func(c *callhistory.Call) *string { return &c.CallyzerLeadID }),
	timeField("synced_at", true, func(c *callhistory.Call) *time.Time { return &c.SyncedAt }),
	timeField("modified_at", true, func(c *callhistory.Call) *time.Time { return &c.ModifiedAt }),
	boolField("no_country_code", func(c *callhistory.Call) *bool { return &c.NoCountryCode }),
	timeField("missing_since", true, func(c *callhistory.Call) *time.Time { return &c.MissingSince }),
}

// columnNames are the names of fields, in order.
var columnNames = func() []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = f.column
	}
	return out
}()

// selectColumns is the column list every read of calls selects.
var selectColumns = "id, " + strings.Join(columnNames, ", ")

// args returns the bind arguments of c's fields, in order.
func (s *Store) args(c *callhistory.Call) []any {
	out := make([]any, len(fields))
	for i, f := range fields {
		out[i] = f.arg(s.d, c)
	}
	return out
}

// dests returns the Scan destinations of a row selected with selectColumns.
func (s *Store) dests(c *callhistory.Call) []any {
	out := make([]any, 0, len(fields)+1)
	out = append(out, int64Dest{&c.RowID})
	for _, f := range fields {
		out = append(out, f.dest(s.d, c))
	}
	return out
}

func textField[T ~string](column string, f func(*callhistory.Call) *T) field {
	return field{
		column: column,
		arg:    func(_ *dialect, c *callhistory.Call) any { return string(*f(c)) },
		dest:   func(_ *dialect, c *callhistory.Call) any { return textDest[T]{f(c)} },
	}
}

func intField(column string, f func(*callhistory.Call) *int) field {
	return field{
		column: column,
		arg:    func(_ *dialect, c *callhistory.Call) any { return int64(*f(c)) },
		dest:   func(_ *dialect, c *callhistory.Call) any { return intDest{f(c)} },
	}
}

// boolField maps a column of 0 and 1; NULL (a row written before the
// column) reads as false.
func boolField(column string, f func(*callhistory.Call) *bool) field {
	return field{
		column: column,
		arg: func(_ *dialect, c *callhistory.Call) any {
			if *f(c) {
				return int64(1)
			}
			return int64(0)
		},
		dest: func(_ *dialect, c *callhistory.Call) any { return boolDest{f(c)} },
	}
}

type boolDest struct{ p *bool }

func (d boolDest) Scan(v any) error {
	if v == nil {
		*d.p = false
		return nil
	}
	var n int64
	if err := (int64Dest{&n}).Scan(v); err != nil {
		return err
	}
	*d.p = n != 0
	return nil
}

// timeField maps a time column; an optional one keeps the zero time as NULL.
func timeField(column string, optional bool, f func(*callhistory.Call) *time.Time) field {
	return field{
		column: column,
		arg: func(d *dialect, c *callhistory.Call) any {
			if t := *f(c); !t.IsZero() || !optional {
				return d.timeArg(utcMicro(t))
			}
			return nil
		},
		dest: func(d *dialect, c *callhistory.Call) any { return timeDest{f(c), d, optional} },
	}
}

type textDest[T ~string] struct{ p *T }

func (d textDest[T]) Scan(v any) error {
	switch v := v.(type) {
	case nil: // a column added after the row was written
		*d.p = ""
	case string:
		*d.p = T(v)
	case []byte:
		*d.p = T(v)
	default:
		return fmt.Errorf("sqlstore: text column holds a %T", v)
	}
	return nil
}

type int64Dest struct{ p *int64 }

func (d int64Dest) Scan(v any) error {
	switch v := v.(type) {
	case int64:
		*d.p = v
	case []byte:
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return fmt.Errorf("sqlstore: integer column: %w", err)
		}
		*d.p = n
	default:
		return fmt.Errorf("sqlstore: integer column holds a %T", v)
	}
	return nil
}

type intDest struct{ p *int }

func (d intDest) Scan(v any) error {
	var n int64
	if err := (int64Dest{&n}).Scan(v); err != nil {
		return err
	}
	*d.p = int(n)
	return nil
}

type timeDest struct {
	p        *time.Time
	d        *dialect
	optional bool
}

func (d timeDest) Scan(v any) error {
	if v == nil && d.optional {
		*d.p = time.Time{}
		return nil
	}
	t, err := d.d.scanTime(v)
	if err != nil {
		return err
	}
	*d.p = t
	return nil
}
