package callyzer

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callyzer/pacing"
)

// TestCalibrationBudget: once 25 requests are spent, a calibration step
// sends nothing and says why.
func TestCalibrationBudget(t *testing.T) {
	t.Parallel()
	c, err := NewClient("k", WithBaseURL("http://127.0.0.1:1"), WithPacer(pacing.New(0)))
	require.NoError(t, err)
	cal := &Calibration{Unknown: map[string]string{}, Requests: calibrationBudget}
	k := &calibrator{c: c, cal: cal, now: time.Now().Truncate(time.Second), seq: c.pacer.Begin(pacing.Background)}
	defer k.seq.End()
	_, err = k.page(t.Context(), k.callWindow(day), 1, formDashed)
	require.ErrorIs(t, err, errBudget)
	require.ErrorIs(t, k.window(t.Context()), errBudget)
	require.ErrorIs(t, k.employeePaging(t.Context()), errBudget)
	require.ErrorIs(t, k.run(t.Context()), errBudget)
	require.Equal(t, calibrationBudget, cal.Requests, "nothing sent")
	k.report()
	require.Equal(t, "key: unknown (the budget of 25 requests is spent)", cal.Findings[0])
}
