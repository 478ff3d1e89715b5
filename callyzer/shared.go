package callyzer

import (
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/leadcalls/leadcalls/callyzer/internal/pacinghook"
	"github.com/leadcalls/leadcalls/callyzer/pacing"
)

// The process-wide pacers: Clients of one API key and host share one
// pacing.New pacer unless WithPacer says otherwise, whatever their intervals:
// the budget is the key's, not the Client's. When their intervals differ,
// the pacer keeps the largest asked for. The key is stored only as a
// salted hash. Entries live as long as the process (one per key and host).
var shared struct {
	once   sync.Once
	salt   [16]byte
	mu     sync.Mutex
	pacers map[pacerKey]pacing.Pacer // of pacing.New
}

type pacerKey struct {
	keyHash [32]byte
	host    string
}

func sharedPacer(key secret, host string, interval time.Duration) pacing.Pacer {
	shared.once.Do(func() {
		_, _ = rand.Read(shared.salt[:])
		shared.pacers = make(map[pacerKey]pacing.Pacer)
	})
	h := sha256.New()
	h.Write(shared.salt[:])
	h.Write([]byte(key.reveal()))
	k := pacerKey{host: host}
	h.Sum(k.keyHash[:0])

	shared.mu.Lock()
	defer shared.mu.Unlock()
	p, ok := shared.pacers[k]
	if !ok {
		p = pacing.New(interval)
		shared.pacers[k] = p
	} else {
		pacinghook.RaiseInterval(p, interval)
	}
	return p
}
