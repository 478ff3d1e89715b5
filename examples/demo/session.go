package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"time"
)

const sessionCookie = "leadcalls_demo_session"

// sessions signs the demo's session cookie, which holds only the user id,
// with HMAC-SHA256 under a key drawn at start: restarting the demo signs
// everybody out.
type sessions struct {
	key []byte
}

func newSessions() *sessions {
	key := make([]byte, 32)
	rand.Read(key) // never fails (crypto/rand panics instead)
	return &sessions{key: key}
}

func (s *sessions) sign(value string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// set signs userID into the session cookie.
func (s *sessions) set(w http.ResponseWriter, userID string) {
	v := base64.RawURLEncoding.EncodeToString([]byte(userID))
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    v + "." + s.sign(v),
		Path:     "/",
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
		MaxAge:   int((12 * time.Hour).Seconds()),
	})
}

func (s *sessions) clear(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// userID returns the signed-in user's id, or "" when the cookie is absent
// or its signature does not match.
func (s *sessions) userID(r *http.Request) string {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return ""
	}
	v, sig, ok := strings.Cut(c.Value, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(s.sign(v))) {
		return ""
	}
	id, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return ""
	}
	return string(id)
}
