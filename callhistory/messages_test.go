package callhistory_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callhistory"
)

func TestMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err    error
		pl, en string
	}{
		{nil, msgUpdated, "The call history has been updated"},
		{callhistory.ErrForbidden, msgForbidden, "You are not allowed to view the call history"},
		{callhistory.ErrLeadNotFound, msgLeadNotFound, "Lead not found"},
		{callhistory.ErrInvalidPhone, msgInvalidPhone, "The lead's phone number is not valid"},
		{callhistory.ErrCallyzerAuth, msgCallyzerAuth, "Callyzer API authorisation error"},
		{callhistory.ErrTimeout, msgTimeout, "The request timed out. Try again."},
		{callhistory.ErrRateLimited, msgRateLimited, "Callyzer is limiting requests right now. Try again in a moment."},
		{callhistory.ErrUpstream, msgFailed, "An error occurred while updating the call history"},
		{callhistory.ErrStore, msgFailed, "An error occurred while updating the call history"},
		{callhistory.ErrInternal, msgFailed, "An error occurred while updating the call history"},
		{errors.New("anything else"), msgFailed, "An error occurred while updating the call history"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.err), func(t *testing.T) {
			t.Parallel()
			wrapped := tt.err
			if tt.err != nil {
				wrapped = fmt.Errorf("context: %w", tt.err)
			}
			require.Equal(t, tt.pl, callhistory.Message(wrapped, "pl"))
			require.Equal(t, tt.en, callhistory.Message(wrapped, "en"))
			require.Equal(t, tt.pl, callhistory.Message(wrapped, "de"), "unknown languages fall back to Polish")
		})
	}
}
