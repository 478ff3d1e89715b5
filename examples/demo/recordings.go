package main

import (
	"bytes"
	"encoding/binary"
	"math"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/leadcalls/leadcalls/callhistory"
)

// The simulator's recording URLs are on a domain that does not exist
// (recordings.callyzer.example), and a real Callyzer's expire. So, with the
// simulator, the lead page plays each recording from the demo itself: the
// handler's Options.RecordingURL points the player at
// /recordings/{leadID}/{callID}, which answers, to a user who may view the
// lead, a short generated sound. A host would stream the real recording
// there, fetched with the current link.

// recordingURL is the handler's Options.RecordingURL with the simulator:
// the demo's own route for a call that has a recording.
func recordingURL(_ *http.Request, leadID string, c callhistory.Call) string {
	if c.RecordingURL == "" {
		return ""
	}
	return "/recordings/" + url.PathEscape(leadID) + "/" + url.PathEscape(c.CallyzerID)
}

// recording serves a call's recording to a user who may view its lead (the
// same check as the lead's history), and 404 for a call of no lead the
// user may view or one without a recording.
func (a *app) recording(w http.ResponseWriter, r *http.Request) {
	actor := a.actor(r)
	if actor == nil {
		http.Error(w, "Zaloguj się, aby odsłuchać nagranie.", http.StatusUnauthorized)
		return
	}
	res, err := a.history.History(r.Context(), actor, r.PathValue("leadID"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	id := r.PathValue("callID")
	for _, c := range res.Calls {
		if c.CallyzerID == id && c.RecordingURL != "" {
			w.Header().Set("Content-Type", "audio/wav")
			w.Header().Set("Cache-Control", "private, max-age=3600")
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(sampleRecording()))
			return
		}
	}
	http.NotFound(w, r)
}

// sampleRecording is the sound every simulated recording plays: two
// seconds of a soft two-note chime, as 8 kHz 16-bit mono PCM in a WAV
// file (32 KB), which every browser plays.
var sampleRecording = sync.OnceValue(func() []byte {
	const (
		rate    = 8000
		seconds = 2
		n       = rate * seconds
	)
	samples := make([]int16, n)
	for i := range samples {
		t := float64(i) / rate
		freq := 523.25 // C5, then E5 for the second second
		if t >= 1 {
			freq = 659.25
		}
		local := math.Mod(t, 1)
		envelope := math.Min(1, local*20) * math.Exp(-3*local) // quick attack, gentle decay
		samples[i] = int16(0.4 * math.MaxInt16 * envelope * math.Sin(2*math.Pi*freq*t))
	}
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString("RIFF")
	binary.Write(&b, le, uint32(36+2*n))
	b.WriteString("WAVEfmt ")
	// fmt chunk: size, PCM, mono, sample rate, byte rate, block align, bits
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(rate), uint32(2 * rate), uint16(2), uint16(16)} {
		binary.Write(&b, le, v)
	}
	b.WriteString("data")
	binary.Write(&b, le, uint32(2*n))
	binary.Write(&b, le, samples)
	return b.Bytes()
})
