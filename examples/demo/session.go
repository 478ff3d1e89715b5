package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The session cookie's names: when the browser talks HTTPS (to the demo,
// or to a TLS-terminating proxy in front of it) the __Host- prefix makes
// the browser refuse it unless it is Secure, for the whole site (Path=/)
// and set by this host only (no Domain).
const (
	sessionCookie       = "leadcalls_demo_session"
	secureSessionCookie = "__Host-" + sessionCookie
)

// sessionMaxAge is how long a sign-in lasts.
const sessionMaxAge = 12 * time.Hour

// sessions signs the demo's session cookie with HMAC-SHA256 under a key
// drawn at start: restarting the demo signs everybody out. The cookie holds
// the user id and the time of sign-in, both under the MAC, so a session
// ends after sessionMaxAge whatever the browser does with the cookie's
// Max-Age.
//
// Signing out clears the cookie in the browser; there is no server-side
// revocation, so a copy of a cookie stays valid until its 12 hours are up.
// That is enough for a demo; a real CRM keeps its sessions server-side.
type sessions struct {
	key    []byte
	now    func() time.Time
	secure bool // Secure and __Host- on every request, not only over TLS
}

// newSessions returns the demo's sessions. With secure the cookie is
// Secure and __Host- prefixed also on a request that did not come over
// TLS: behind a TLS-terminating proxy the browser talks HTTPS all the same.
func newSessions(secure bool) *sessions {
	key := make([]byte, 32)
	rand.Read(key) // never fails (crypto/rand panics instead)
	return &sessions{key: key, now: time.Now, secure: secure}
}

// mac signs the payload "<user id, base64>.<issued-at, Unix seconds>".
func (s *sessions) mac(payload string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("leadcalls-demo-session-v1\x00" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// secureCookie reports whether r's cookies are Secure: over TLS, and on
// every request when the demo is configured so (-secure-cookies).
func (s *sessions) secureCookie(r *http.Request) bool {
	return s.secure || r.TLS != nil
}

// cookieName is the session cookie's name for r: __Host- prefixed when the
// cookie is Secure.
func (s *sessions) cookieName(r *http.Request) string {
	if s.secureCookie(r) {
		return secureSessionCookie
	}
	return sessionCookie
}

// set signs userID, signed in now, into the session cookie.
func (s *sessions) set(w http.ResponseWriter, r *http.Request, userID string) {
	payload := base64.RawURLEncoding.EncodeToString([]byte(userID)) + "." + strconv.FormatInt(s.now().Unix(), 10)
	http.SetCookie(w, &http.Cookie{
		Name:     s.cookieName(r),
		Value:    payload + "." + s.mac(payload),
		Path:     "/",
		HttpOnly: true,
		Secure:   s.secureCookie(r),
		SameSite: http.SameSiteLaxMode,
		MaxAge:   int(sessionMaxAge.Seconds()),
	})
}

// clear removes the session cookie from the browser (signing out).
func (s *sessions) clear(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name:     s.cookieName(r),
		Value:    "",
		Path:     "/",
		HttpOnly: true,
		Secure:   s.secureCookie(r),
		SameSite: http.SameSiteLaxMode,
		MaxAge:   -1,
	})
}

// userID returns the signed-in user's id, or "" when the cookie is absent,
// its signature does not match, or it was issued more than sessionMaxAge
// ago (or more than a minute in the future: the clock was set back).
func (s *sessions) userID(r *http.Request) string {
	c, err := r.Cookie(s.cookieName(r))
	if err != nil {
		return ""
	}
	i := strings.LastIndexByte(c.Value, '.')
	if i < 0 {
		return ""
	}
	payload, sig := c.Value[:i], c.Value[i+1:]
	if !hmac.Equal([]byte(sig), []byte(s.mac(payload))) {
		return ""
	}
	id64, issued64, ok := strings.Cut(payload, ".")
	if !ok {
		return ""
	}
	issuedUnix, err := strconv.ParseInt(issued64, 10, 64)
	if err != nil {
		return ""
	}
	age := s.now().Sub(time.Unix(issuedUnix, 0))
	if age > sessionMaxAge || age < -time.Minute {
		return ""
	}
	id, err := base64.RawURLEncoding.DecodeString(id64)
	if err != nil {
		return ""
	}
	return string(id)
}
