package callhistory

import (
	"fmt"
	"strings"

	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/statusmap"
)

// pageMapper turns Callyzer's pages into stored calls, the one way the
// Refresher and the Syncer both do it.
type pageMapper struct {
	mapper *statusmap.Mapper
	region string // for client numbers Callyzer sends without a country code
	known  string // a number in E.164 taken as it is without parsing (the lead's)
}

// keepFunc decides, from a call of a page and its client number in E.164
// (or the error reading it), whether the call is stored (true), left out
// (false), or fails the whole read (an error).
type keepFunc func(c callyzer.Call, phone string, err error) (bool, error)

// add maps the calls of page into set: every call must have an id; its
// client number is normalised to E.164, the key a lead's history is read
// by; keep says what becomes of it. It returns how many recording URLs it
// dropped for not being https.
func (pm pageMapper) add(set *callSet, page *callyzer.HistoryPage, keep keepFunc) (dropped int, err error) {
	for _, c := range page.Calls {
		if c.ID == "" {
			return dropped, fmt.Errorf("%w: a call without an id", ErrUpstream)
		}
		phone, err := pm.phone(c.ClientNumber)
		ok, err := keep(c, phone, err)
		if err != nil {
			return dropped, err
		}
		if !ok {
			continue
		}
		raw := c.ClientNumber
		c.ClientNumber = phone
		call := FromCallyzer(pm.mapper, c)
		call.NoCountryCode = !strings.HasPrefix(raw, "+")
		if c.RecordingURL != "" && call.RecordingURL == "" {
			dropped++
		}
		set.add(call)
	}
	return dropped, nil
}

// phone reads a client number as Callyzer sent it in E.164.
func (pm pageMapper) phone(raw string) (string, error) {
	if raw != "" && raw == pm.known {
		return raw, nil
	}
	return normalizePhone(raw, pm.region)
}

// callSet collects calls by CallyzerID: a call repeated on two pages (the
// list shifting while paging) is kept once, the last copy winning.
type callSet struct {
	calls []Call
	index map[string]int
}

func newCallSet(capacity int) callSet {
	return callSet{calls: make([]Call, 0, capacity), index: make(map[string]int, capacity)}
}

func (s *callSet) add(c Call) {
	if i, ok := s.index[c.CallyzerID]; ok {
		s.calls[i] = c
		return
	}
	s.index[c.CallyzerID] = len(s.calls)
	s.calls = append(s.calls, c)
}
