package callhistory

import (
	"fmt"

	"github.com/leadcalls/leadcalls/internal/phone"
)

// normalizePhone reads raw as internal/phone's Normalize does (E.164 out;
// letters, extensions and invalid numbers refused); its errors wrap
// ErrInvalidPhone and never quote raw.
func normalizePhone(raw, region string) (string, error) {
	e164, err := phone.Normalize(raw, region)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidPhone, err)
	}
	return e164, nil
}

// maskPhone masks a number for a log line (internal/phone's Mask:
// "+48 601 *** 567", "***567"); refresher.go and sync.go call it since
// their variables named phone hide the package.
func maskPhone(s string) string { return phone.Mask(s) }

// maskText masks every phone-like run of digits in an error's text or a
// panic's value (internal/phone's MaskText); a store's or a plug-in's error
// may quote a number.
func maskText(s string) string { return phone.MaskText(s) }
