// Package calreport prints a callyzer.Calibration the way callyzercheck
// and the demo show it: one finding a line, then the options to set.
package calreport

import (
	"fmt"
	"io"
	"strings"

	"github.com/leadcalls/leadcalls/callyzer"
)

// Write prints cal's findings, one "name: value" a line, then a blank line
// and the Go options to set as a snippet (or that the defaults fit).
func Write(w io.Writer, cal *callyzer.Calibration) error {
	for _, l := range cal.Findings {
		if _, err := fmt.Fprintln(w, l); err != nil {
			return err
		}
	}
	if len(cal.GoOptions) == 0 {
		_, err := fmt.Fprintln(w, "\n// The defaults fit: no option to set.")
		return err
	}
	if _, err := fmt.Fprintln(w, "\n// Set on the client:\nclient, err := callyzer.NewClient(apiKey,"); err != nil {
		return err
	}
	for _, o := range cal.GoOptions {
		if _, err := fmt.Fprintf(w, "\t%s\n", withComma(o)); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, ")")
	return err
}

// withComma puts the comma that ends an argument after o's expression,
// before its trailing line comment if it has one.
func withComma(o string) string {
	if expr, comment, ok := strings.Cut(o, " //"); ok {
		return expr + ", //" + comment
	}
	return o + ","
}
