package callhistory

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNormalizePhoneWrapsErrInvalidPhone: the phone rules are tested in
// internal/phone; here, that every kind of refusal wraps ErrInvalidPhone,
// maps to its message and does not quote the number.
func TestNormalizePhoneWrapsErrInvalidPhone(t *testing.T) {
	t.Parallel()
	got, err := normalizePhone("601 234 567", "PL")
	require.NoError(t, err)
	require.Equal(t, "+48601234567", got)
	for _, raw := range []string{
		"", "   ", "12", "abc", "601 234 56", "601 234 567 ext. 12", "+48 601 234 567 wew. 3",
		"+48 000 000 000", "+999 123456789", "123456789012345678901",
		"+48 601 ABC DEF", "601 234 56O", "+492100000AA0A000", "+4921000002202000", "tel:+48-601-234-567",
	} {
		t.Run(raw, func(t *testing.T) {
			t.Parallel()
			got, err := normalizePhone(raw, "PL")
			require.ErrorIs(t, err, ErrInvalidPhone)
			require.Empty(t, got)
			require.Equal(t, msgInvalidPhone, Message(err, "pl"))
			if raw != "" {
				require.NotContains(t, err.Error(), raw, "errors never quote the input")
			}
		})
	}
	_, err = normalizePhone("601 234 56O", "PL")
	require.EqualError(t, err, "callhistory: invalid phone number: letters are not allowed")
}
