package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestServerBounds: the demo's server bounds the time and size of every
// request and the time of every answer.
func TestServerBounds(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.DiscardHandler)
	srv := newServer(config{readTimeout: 15 * time.Second, refreshTimeout: 30 * time.Second}, http.NotFoundHandler(), logger)
	require.Equal(t, 5*time.Second, srv.ReadHeaderTimeout)
	require.Equal(t, 15*time.Second, srv.ReadTimeout)
	require.Equal(t, 55*time.Second, srv.WriteTimeout, "reading the request, a refresh, and writing the answer")
	require.Equal(t, time.Minute, srv.IdleTimeout)
	require.Equal(t, 64<<10, srv.MaxHeaderBytes)

	srv = newServer(config{readTimeout: time.Second, refreshTimeout: 30 * time.Second}, http.NotFoundHandler(), logger)
	require.Equal(t, time.Second, srv.ReadHeaderTimeout, "never longer than the whole request may take")
}

// TestDemoCutsOffATrickledBody: a sign-in whose body comes a byte at a time
// is cut off when the read timeout ends, however long the client would go
// on sending. A real connection: the timeouts are the server's.
func TestDemoCutsOffATrickledBody(t *testing.T) {
	base := startDemo(t, "-read-timeout", "1s")
	u, err := url.Parse(base)
	require.NoError(t, err)
	conn, err := net.Dial("tcp", u.Host)
	require.NoError(t, err)
	defer conn.Close()

	const bodyLen = 100 // a byte every 200ms: 20 seconds
	_, err = fmt.Fprintf(conn, "POST /login HTTP/1.1\r\nHost: %s\r\n"+
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\nuser_id=", u.Host, bodyLen)
	require.NoError(t, err)
	start := time.Now()
	stop := make(chan struct{})
	trickled := make(chan struct{})
	go func() {
		defer close(trickled)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for range bodyLen - len("user_id=") {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if _, err := conn.Write([]byte("a")); err != nil {
				return
			}
		}
	}()

	require.NoError(t, conn.SetReadDeadline(time.Now().Add(15*time.Second)))
	answer, err := io.ReadAll(conn) // until the server closes the connection
	elapsed := time.Since(start)
	close(stop)
	<-trickled
	var netErr net.Error
	require.False(t, errors.As(err, &netErr) && netErr.Timeout(), "the server still held the connection after 15s")
	require.Less(t, elapsed, 5*time.Second, "cut off at the 1s read timeout")
	require.NotContains(t, string(answer), sessionCookie, "no session from a body that never arrived")
}
