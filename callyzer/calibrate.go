package callyzer

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/leadcalls/leadcalls/callyzer/pacing"
	"github.com/leadcalls/leadcalls/internal/phone"
)

// calibrationBudget is the most HTTP requests Calibrate makes.
const calibrationBudget = 25

// The names of Calibration's findings, as its Findings lines and Unknown
// keys spell them.
const (
	findingKey           = "key"
	findingForm          = "client_numbers form"
	findingSeveral       = "several client_numbers"
	findingWindow        = "widest window"
	findingPageSize      = "page size"
	findingPaging        = "employee paging"
	findingZone          = "time zone"
	findingNoCountryCode = "calls without country code"
	findingRequests      = "requests"
)

// Calibration is what Calibrate learned of the account. A finding that
// could not be determined keeps its zero value, and Unknown says why.
type Calibration struct {
	// KeyAccepted: Callyzer answered the key's first request.
	KeyAccepted bool
	// ClientNumberForm is the form of client_numbers that returned a call
	// whose number was asked for, as WithClientNumberForm names it:
	// "dashed", "national", "e164" or "digits" (the first that did, in
	// that order).
	ClientNumberForm string
	// SeveralClientNumbers is what the filter does with two numbers of
	// known calls: "all" (calls of both come back), "first-only",
	// "last-only" or "ignored" (calls of other numbers come back too).
	SeveralClientNumbers string
	// MaxWindow is the widest call window answered: 181 days when that
	// passed (Callyzer's documented limit is 180), else 180 days or the
	// first that passed of the width its 400 named and the halvings of 180
	// days, down to one day.
	MaxWindow time.Duration
	// PageSize is the largest page size honoured: fewer rows than asked
	// while total_records says more shows the size served; 100 honoured and
	// 200 refused (or cut to 100) is 100.
	PageSize int
	// EmployeePaging is where /employee/get honours its paging: "body",
	// "query" or "either".
	EmployeePaging string
	// TimeZone is the zone the rows' upload times are written in: the
	// client's location (WithLocation) when a call read in it is found in
	// a one-second upload window at its synced_at, else a fixed zone at the
	// UTC offset found by narrowing that window. Rows carry no zone, so
	// only the offset at that instant can be learned, not a zone's name or
	// its daylight-saving rules; call_date and call_time are taken to be in
	// the same zone (checked only as LateStarts).
	TimeZone *time.Location
	// LateStarts counts rows read whose call starts after its upload, both
	// read in the client's location: a sign that call times and upload
	// times are written in different zones.
	LateStarts int
	// NoCountryCode counts rows read whose client number came without a
	// country code (a refresh by number cannot see those calls), of
	// RowsRead, the rows of the account-wide page by upload time.
	NoCountryCode, RowsRead int
	// Requests counts the HTTP requests made, at most 25.
	Requests int
	// Unknown says why each finding left at its zero value could not be
	// determined, by the finding's name ("client_numbers form", ...).
	Unknown map[string]string
	// Findings are the findings, one "name: value" a line, for example
	// "client_numbers form: national" or "page size: unknown (why)".
	Findings []string
	// GoOptions are the options of NewClient the findings call for, one
	// Go expression each, such as "callyzer.WithPageSize(50)", some
	// followed by a "// comment"; none when the defaults fit.
	GoOptions []string
}

// Calibrate learns how Callyzer treats this client's key, in read-only
// requests: whether the key is accepted (a one-day upload window, one
// row); the widest call window answered (180 days, then 181; on a 400 the
// width it names, or halvings of 180 days); the newest calls uploaded in
// that window (one account-wide page of 100 rows, by upload time: rows
// without a country code, calls that start after their upload, and a 100
// that comes back smaller while total_records says more); whether a page
// of 200 is honoured; the client_numbers form (a recent call's number asked
// for in each form until one returns that call); what the filter does
// with two numbers of known calls; where /employee/get honours its paging
// (page_size 1 in the body, then in the query string); and the time zone
// of the rows (see Calibration.TimeZone).
//
// It makes at most 25 requests, one at a time, in one Background sequence
// of the client's pacer, without retries (a failed request leaves its
// finding unknown), under API v2.2 in the first call variant only. What
// it learns does not change the client: set GoOptions on a new one. It
// returns the Calibration, with what it found so far, also with an error:
// an *Error of kind ErrUnauthorized when the key is refused, the
// context's error when ctx ends.
func (c *Client) Calibrate(ctx context.Context) (*Calibration, error) {
	cal := &Calibration{Unknown: map[string]string{}}
	probe := *c
	probe.cfg.maxRetries = 0
	probe.learned = &learned{}
	probe.learned.zoneWarned.Store(true) // finding the zone is its job
	k := &calibrator{c: &probe, cal: cal, now: time.Now().Truncate(time.Second), seq: c.pacer.Begin(pacing.Background)}
	err := k.run(ctx)
	k.seq.End()
	k.report()
	return cal, err
}

// errBudget stops a calibration that spent its requests.
var errBudget = fmt.Errorf("the budget of %d requests is spent", calibrationBudget)

// calibrator is one run of Calibrate.
type calibrator struct {
	c   *Client // never retries; the caller's pacer
	cal *Calibration
	now time.Time
	seq pacing.Sequence

	recent       []Call        // the account-wide page by upload time, newest first
	recentWindow time.Duration // its upload window, ending at now
	lookupSize   int           // the page size of the lookups: 100, or less when served less
	form         numberForm    // the client_numbers form found
	sample       *Call         // the recent call with a country code the lookups ask for
	refused      bool          // the key was refused (401, 403)
	recentErr    error         // the account-wide page failed
}

func (k *calibrator) unknown(name, format string, args ...any) {
	k.cal.Unknown[name] = fmt.Sprintf(format, args...)
}

// run takes the steps in turn; only a refused key or an ended ctx stops it.
func (k *calibrator) run(ctx context.Context) error {
	if err := k.key(ctx); err != nil {
		k.unknown(findingKey, "%s", reason(err))
		for _, name := range []string{findingForm, findingSeveral, findingWindow, findingPageSize, findingPaging, findingZone, findingNoCountryCode} {
			k.unknown(name, "the key's first request failed")
		}
		return err
	}
	steps := []struct {
		names []string // the findings a step decides
		run   func(context.Context) error
	}{
		{[]string{findingWindow}, k.window},
		{[]string{findingPageSize, findingNoCountryCode}, k.recentPage},
		{[]string{findingForm}, k.numberForm},
		{[]string{findingSeveral}, k.severalNumbers},
		{[]string{findingPaging}, k.employeePaging},
		{[]string{findingZone}, k.timeZone},
	}
	for _, s := range steps {
		err := s.run(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			for _, name := range s.names {
				if _, ok := k.cal.Unknown[name]; !ok {
					k.unknown(name, "%s", reason(err))
				}
			}
		}
	}
	return nil
}

// reason is a short text of a failed request, without the package's
// prefix and endpoint.
func reason(err error) string {
	if e, ok := errors.AsType[*Error](err); ok {
		s := strings.TrimPrefix(e.Error(), "callyzer: "+e.Endpoint)
		s = strings.TrimPrefix(s, fmt.Sprintf(" page %d", e.PageNo))
		return strings.TrimPrefix(s, ": ")
	}
	return strings.TrimPrefix(err.Error(), "callyzer: ")
}

// page fetches page 1 of q, at size rows, its client numbers in form f, in
// one request.
func (k *calibrator) page(ctx context.Context, q HistoryQuery, size int, f numberForm) (*HistoryPage, error) {
	if k.cal.Requests >= calibrationBudget {
		return nil, errBudget
	}
	c := *k.c
	c.cfg.clientForm = f
	p, err := c.planHistory(q)
	if err != nil {
		return nil, err
	}
	p.seq = k.seq
	pg, err := k.c.fetchHistoryPage(ctx, p, p.primary, p.variants[0], 1, size)
	switch e, ok := errors.AsType[*Error](err); {
	case err == nil:
		k.cal.Requests += pg.Attempts
	case ok:
		k.cal.Requests += e.Attempts
	}
	return pg, err
}

// callWindow is the call window of the last d before now.
func (k *calibrator) callWindow(d time.Duration) HistoryQuery {
	return HistoryQuery{CallFrom: k.now.Add(-d), CallTo: k.now, Priority: pacing.Background}
}

// uploadWindow is the upload window [from, to].
func (k *calibrator) uploadWindow(from, to time.Time) HistoryQuery {
	return HistoryQuery{SyncedFrom: from, SyncedTo: to, Priority: pacing.Background}
}

const day = 24 * time.Hour

// key asks for one row uploaded in the last day: any answer accepts the
// key.
func (k *calibrator) key(ctx context.Context) error {
	_, err := k.page(ctx, k.uploadWindow(k.now.Add(-day), k.now), 1, formDashed)
	if err != nil {
		k.refused = errors.Is(err, ErrUnauthorized)
		return err
	}
	k.cal.KeyAccepted = true
	return nil
}

// namedDays finds the width a 400 names: "... greater than 90 days."
var namedDays = regexp.MustCompile(`(\d{1,3}) ?days?\b`)

// window tries 180 days, then 181; on a 400 the width the 400 names, then
// halvings of 180 days down to one.
func (k *calibrator) window(ctx context.Context) error {
	_, err := k.page(ctx, k.callWindow(defaultMaxWindow), 1, formDashed)
	if err == nil {
		k.cal.MaxWindow = defaultMaxWindow
		if _, err := k.page(ctx, k.callWindow(defaultMaxWindow+day), 1, formDashed); err == nil {
			k.cal.MaxWindow += day
		} else if !errors.Is(err, ErrBadRequest) {
			return err
		}
		return nil
	}
	if !errors.Is(err, ErrBadRequest) {
		return err
	}
	var tried []time.Duration
	if e, ok := errors.AsType[*Error](err); ok {
		if m := namedDays.FindStringSubmatch(e.Message); m != nil {
			if n, _ := strconv.Atoi(m[1]); n >= 1 && n < 180 {
				tried = append(tried, time.Duration(n)*day)
			}
		}
	}
	for w := defaultMaxWindow / 2; ; w = max(w/2, day) {
		tried = append(tried, w)
		if w == day {
			break
		}
	}
	for _, w := range tried {
		_, err := k.page(ctx, k.callWindow(w), 1, formDashed)
		if err == nil {
			k.cal.MaxWindow = w
			return nil
		}
		if !errors.Is(err, ErrBadRequest) {
			return err
		}
	}
	k.unknown(findingWindow, "every window refused, down to one day")
	return nil
}

// recentPage reads one account-wide page of 100 rows by upload time, over
// the widest window answered (one day when that is unknown), and then,
// when 100 were honoured, one of 200.
func (k *calibrator) recentPage(ctx context.Context) error {
	k.recentWindow = min(max(k.cal.MaxWindow, day), defaultMaxWindow)
	q := k.uploadWindow(k.now.Add(-k.recentWindow), k.now)
	pg, err := k.page(ctx, q, maxPageSize, formDashed)
	if err != nil {
		k.recentErr = err
		return err
	}
	k.recent = pg.Calls
	k.lookupSize = maxPageSize
	n := len(pg.Calls)
	k.cal.RowsRead = n
	for _, c := range pg.Calls {
		if !strings.HasPrefix(c.ClientNumber, "+") {
			k.cal.NoCountryCode++
		}
		if !c.SyncedAt.IsZero() && c.StartedAt.After(c.SyncedAt) {
			k.cal.LateStarts++
		}
	}
	if n == 0 {
		k.unknown(findingNoCountryCode, "no call uploaded in the last %s", days(int64(k.recentWindow/time.Second)))
	}
	switch {
	case n < maxPageSize && pg.TotalRecords > n:
		k.cal.PageSize, k.lookupSize = n, n
		return nil
	case n < maxPageSize:
		k.unknown(findingPageSize, "only %d calls uploaded in the last %s, fewer than a page of %d", pg.TotalRecords,
			days(int64(k.recentWindow/time.Second)), maxPageSize)
		return nil
	case pg.TotalRecords <= maxPageSize:
		k.cal.PageSize = maxPageSize
		k.unknown(findingPageSize, "100 honoured; only %d calls uploaded in the last %s, too few to try 200", pg.TotalRecords,
			days(int64(k.recentWindow/time.Second)))
		return nil
	}
	pg, err = k.page(ctx, q, 2*maxPageSize, formDashed)
	switch {
	case errors.Is(err, ErrBadRequest):
		k.cal.PageSize = maxPageSize
	case err != nil:
		k.cal.PageSize = maxPageSize // honoured above; 200 unknown
	default:
		k.cal.PageSize = max(len(pg.Calls), maxPageSize)
	}
	return nil
}

// numberFormsInOrder are the forms numberForm tries, the default first.
var numberFormsInOrder = []numberForm{formDashed, formNational, formE164, formDigits}

// numberForm asks for the number of the newest recent call that has a
// country code in each form, until one returns that call.
func (k *calibrator) numberForm(ctx context.Context) error {
	if k.recentErr != nil {
		return k.recentFailed(findingForm)
	}
	for i := range k.recent {
		if strings.HasPrefix(k.recent[i].ClientNumber, "+") {
			k.sample = &k.recent[i]
			break
		}
	}
	if k.sample == nil {
		k.unknown(findingForm, "no call with a country code among the %d rows uploaded in the last %s", len(k.recent),
			days(int64(k.recentWindow/time.Second)))
		return nil
	}
	want := k.sample.ClientNumber
	for _, f := range numberFormsInOrder {
		rows, err := k.lookup(ctx, []string{want}, f)
		if errors.Is(err, ErrBadRequest) {
			continue // a form the account refuses
		}
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(rows, func(c Call) bool { return c.ID == k.sample.ID }) {
			continue
		}
		if slices.ContainsFunc(rows, func(c Call) bool { return !sameNumber(c.ClientNumber, want) }) {
			k.cal.SeveralClientNumbers = "ignored"
			k.unknown(findingForm, "the filter is ignored: asked for one number, calls of others came back")
			return nil
		}
		k.form = f
		k.cal.ClientNumberForm = f.String()
		return nil
	}
	k.unknown(findingForm, "no form returned the call asked for (tried dashed, national, e164, digits)")
	return nil
}

// recentFailed leaves the finding name unknown for want of the
// account-wide page.
func (k *calibrator) recentFailed(name string) error {
	k.unknown(name, "the account-wide page by upload time failed: %s", reason(k.recentErr))
	return nil
}

// lookup asks for the calls of numbers (E.164), in form f, uploaded in
// the recent window.
func (k *calibrator) lookup(ctx context.Context, numbers []string, f numberForm) ([]Call, error) {
	q := k.uploadWindow(k.now.Add(-k.recentWindow), k.now)
	q.ClientNumbers = numbers
	pg, err := k.page(ctx, q, k.lookupSize, f)
	if err != nil {
		return nil, err
	}
	return pg.Calls, nil
}

// sameNumber reports whether a row's number is want (E.164), also when the
// row has it without a country code.
func sameNumber(got, want string) bool {
	if got == want {
		return true
	}
	_, national, _ := phone.Split(want)
	return got == national
}

// severalNumbers asks for two numbers of recent calls, in the form found.
func (k *calibrator) severalNumbers(ctx context.Context) error {
	if k.cal.SeveralClientNumbers != "" {
		return nil
	}
	if k.cal.ClientNumberForm == "" {
		k.unknown(findingSeveral, "the client_numbers form is unknown")
		return nil
	}
	a := k.sample.ClientNumber
	b := ""
	for _, c := range k.recent {
		if strings.HasPrefix(c.ClientNumber, "+") && c.ClientNumber != a {
			b = c.ClientNumber
			break
		}
	}
	if b == "" {
		k.unknown(findingSeveral, "one number with a country code among the rows read; two are needed")
		return nil
	}
	rows, err := k.lookup(ctx, []string{a, b}, k.form)
	if err != nil {
		return err
	}
	var hasA, hasB, other bool
	for _, c := range rows {
		switch {
		case sameNumber(c.ClientNumber, a):
			hasA = true
		case sameNumber(c.ClientNumber, b):
			hasB = true
		default:
			other = true
		}
	}
	switch {
	case other:
		k.cal.SeveralClientNumbers = "ignored"
	case hasA && hasB:
		k.cal.SeveralClientNumbers = "all"
	case hasA:
		k.cal.SeveralClientNumbers = "first-only"
	case hasB:
		k.cal.SeveralClientNumbers = "last-only"
	default:
		k.unknown(findingSeveral, "no call of either number came back")
	}
	return nil
}

// employeePaging asks for a roster page of one row with the paging in the
// body, then in the query string: a place that is ignored serves the
// server's default page instead.
func (k *calibrator) employeePaging(ctx context.Context) error {
	honoured := map[bool]bool{} // by inQuery
	for _, inQuery := range []bool{false, true} {
		if k.cal.Requests >= calibrationBudget {
			return errBudget
		}
		pg, err := k.c.employeesPage(ctx, employeesRequest{priority: pacing.Background, seq: k.seq, pageNo: 1, size: 1, inQuery: inQuery})
		if e, ok := errors.AsType[*Error](err); ok {
			k.cal.Requests += e.Attempts
		}
		switch {
		case errors.Is(err, ErrBadRequest):
			continue
		case err != nil:
			return err
		}
		k.cal.Requests += pg.attempts
		if pg.total < 2 {
			k.unknown(findingPaging, "the roster has %d employee(s); two are needed", pg.total)
			return nil
		}
		honoured[inQuery] = len(pg.rows) == 1
	}
	switch {
	case honoured[false] && honoured[true]:
		k.cal.EmployeePaging = "either"
	case honoured[false]:
		k.cal.EmployeePaging = "body"
	case honoured[true]:
		k.cal.EmployeePaging = "query"
	default:
		k.unknown(findingPaging, "a page of 1 was honoured neither in the body nor in the query string")
	}
	return nil
}

// timeZone looks for a recent call in the one-second upload window of its
// synced_at read in the client's location; when it is not there, it
// narrows the window the call is in down to one whole quarter-hour offset
// of its synced_at's wall clock.
func (k *calibrator) timeZone(ctx context.Context) error {
	if k.recentErr != nil {
		return k.recentFailed(findingZone)
	}
	var call *Call
	for i := range k.recent {
		if !k.recent[i].SyncedAt.IsZero() {
			call = &k.recent[i]
			break
		}
	}
	if call == nil {
		k.unknown(findingZone, "no row with synced_at among the %d rows read", len(k.recent))
		return nil
	}
	loc := k.c.cfg.loc
	at := call.SyncedAt
	found, err := k.uploadedIn(ctx, call, at, at)
	if err != nil {
		return err
	}
	if found {
		k.cal.TimeZone = loc
		return nil
	}
	// The wall clock as written, and the instants it may stand for
	// (offsets from UTC-12 to UTC+14) within the window it was found in.
	wall := time.Date(at.In(loc).Year(), at.In(loc).Month(), at.In(loc).Day(), at.In(loc).Hour(), at.In(loc).Minute(), at.In(loc).Second(), 0, time.UTC)
	lo := maxTime(wall.Add(-14*time.Hour), k.now.Add(-k.recentWindow))
	hi := minTime(wall.Add(12*time.Hour), k.now)
	for {
		offsets := quarterHours(wall, lo, hi)
		if len(offsets) == 0 {
			k.unknown(findingZone, "its upload times match no whole quarter-hour offset from UTC")
			return nil
		}
		if len(offsets) == 1 {
			k.cal.TimeZone = time.FixedZone(utcOffset(offsets[0]), int(offsets[0]/time.Second))
			return nil
		}
		mid := lo.Add(hi.Sub(lo) / 2).Truncate(time.Second)
		found, err := k.uploadedIn(ctx, call, lo, mid)
		if err != nil {
			return err
		}
		if found {
			hi = mid
		} else {
			lo = mid.Add(time.Second)
		}
	}
}

// uploadedIn reports whether call comes back in the upload window
// [from, to], asked for by its number when the form is known.
func (k *calibrator) uploadedIn(ctx context.Context, call *Call, from, to time.Time) (bool, error) {
	q := k.uploadWindow(from, to)
	if k.cal.ClientNumberForm != "" && strings.HasPrefix(call.ClientNumber, "+") {
		q.ClientNumbers = []string{call.ClientNumber}
	}
	pg, err := k.page(ctx, q, k.lookupSize, k.form)
	if err != nil {
		return false, err
	}
	if slices.ContainsFunc(pg.Calls, func(c Call) bool { return c.ID == call.ID }) {
		return true, nil
	}
	if pg.TotalRecords > len(pg.Calls) {
		return false, fmt.Errorf("more uploads in %s..%s than a page holds: cannot tell", from.UTC().Format(time.DateTime), to.UTC().Format(time.DateTime))
	}
	return false, nil
}

// quarterHours are the offsets from UTC, whole quarter hours from -12h to
// +14h, at which the wall clock stands for an instant in [lo, hi].
func quarterHours(wall, lo, hi time.Time) []time.Duration {
	var out []time.Duration
	for o := -12 * time.Hour; o <= 14*time.Hour; o += 15 * time.Minute {
		if at := wall.Add(-o); !at.Before(lo) && !at.After(hi) {
			out = append(out, o)
		}
	}
	return out
}

// utcOffset writes an offset as "UTC+01:00".
func utcOffset(o time.Duration) string {
	sign := "+"
	if o < 0 {
		sign, o = "-", -o
	}
	return fmt.Sprintf("UTC%s%02d:%02d", sign, int(o/time.Hour), int(o%time.Hour/time.Minute))
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// report writes the Findings and GoOptions.
func (k *calibrator) report() {
	cal := k.cal
	var lines, opts []string
	add := func(name, value string, known bool) {
		if !known {
			value = "unknown (" + cal.Unknown[name] + ")"
		}
		lines = append(lines, name+": "+value)
	}
	key := "accepted"
	switch why := cal.Unknown[findingKey]; {
	case cal.KeyAccepted:
	case k.refused:
		key = "refused (" + why + ")"
	default:
		key = "unknown (" + why + ")"
	}
	lines = append(lines, findingKey+": "+key)

	add(findingForm, cal.ClientNumberForm, cal.ClientNumberForm != "")
	if f := cal.ClientNumberForm; f != "" && f != formDashed.String() {
		opts = append(opts, fmt.Sprintf("callyzer.WithClientNumberForm(%q)", f))
	}
	add(findingSeveral, cal.SeveralClientNumbers, cal.SeveralClientNumbers != "")

	window := days(int64(cal.MaxWindow / time.Second))
	if cal.MaxWindow > defaultMaxWindow {
		window += " or more"
	}
	add(findingWindow, window, cal.MaxWindow > 0)
	if cal.MaxWindow > 0 && cal.MaxWindow < defaultMaxWindow {
		opts = append(opts, "callyzer.WithMaxWindow("+goDuration(cal.MaxWindow)+")")
	}

	size := strconv.Itoa(cal.PageSize)
	if cal.PageSize > maxPageSize {
		size += " (the client asks at most 100)"
	}
	if why, ok := cal.Unknown[findingPageSize]; ok && cal.PageSize > 0 {
		size += " (" + why + ")"
	}
	add(findingPageSize, size, cal.PageSize > 0)
	if cal.PageSize > 0 && cal.PageSize < maxPageSize {
		opts = append(opts, fmt.Sprintf("callyzer.WithPageSize(%d)", cal.PageSize))
	}

	add(findingPaging, cal.EmployeePaging, cal.EmployeePaging != "")
	if cal.EmployeePaging == "query" {
		opts = append(opts, "callyzer.WithEmployeePagingInQuery()")
	}

	loc := k.c.cfg.loc
	zone := ""
	if tz := cal.TimeZone; tz != nil {
		_, seen := k.now.In(tz).Zone()
		_, configured := k.now.In(loc).Zone()
		if tz == loc {
			zone = fmt.Sprintf("%s (its rows agree: %s now)", loc, utcOffset(time.Duration(configured)*time.Second))
			if loc.String() != defaultLocation {
				opts = append(opts, fmt.Sprintf("callyzer.WithLocation(loc) // loc, err := time.LoadLocation(%q)", loc.String()))
			}
		} else {
			zone = fmt.Sprintf("%s in its rows, not %s (%s now)", tz, loc, utcOffset(time.Duration(configured)*time.Second))
			opts = append(opts, fmt.Sprintf("callyzer.WithLocation(time.FixedZone(%q, %d)) // the offset its rows show; better the account's named zone (time.LoadLocation)",
				tz.String(), seen))
		}
		if cal.LateStarts > 0 {
			zone += fmt.Sprintf("; %d of %d rows start after their upload (call times in another zone?)", cal.LateStarts, cal.RowsRead)
		}
	}
	add(findingZone, zone, cal.TimeZone != nil)

	add(findingNoCountryCode, fmt.Sprintf("%d (of %d rows read)", cal.NoCountryCode, cal.RowsRead), cal.RowsRead > 0)
	lines = append(lines, fmt.Sprintf("%s: %d", findingRequests, cal.Requests))
	cal.Findings, cal.GoOptions = lines, opts
}

// goDuration writes d as a Go expression: "90*24*time.Hour".
func goDuration(d time.Duration) string {
	switch {
	case d%day == 0:
		return fmt.Sprintf("%d*24*time.Hour", d/day)
	case d%time.Hour == 0:
		return fmt.Sprintf("%d*time.Hour", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%d*time.Minute", d/time.Minute)
	}
	return fmt.Sprintf("%d*time.Second", d/time.Second)
}
