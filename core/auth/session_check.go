package auth

import "context"

// Check reports whether the session of token is still valid — not
// signed out, not idle past the timeout, within its lifetime, its user
// not disabled — like Authenticate, but without counting as activity.
// A long-lived connection (the chat WebSocket) re-checks its session
// with it every few seconds; with Authenticate it would keep an
// unattended session alive forever. Answers are cached for CacheTTL, so
// a sign-out on another instance is seen within it.
func (s *Service) Check(ctx context.Context, token string) (Session, error) {
	if token == "" || len(token) > 256 {
		return Session{}, ErrNoSession
	}
	h := tokenHash(token)
	now := s.now()

	s.mu.Lock()
	var c cached
	p, ok := s.sessions[h]
	if ok {
		c = *p
	}
	s.mu.Unlock()

	if !ok || now.Sub(c.loaded) >= s.opt.CacheTTL {
		loaded, err := s.loadSession(ctx, h, now)
		if err != nil {
			s.forget(h)
			return Session{}, err
		}
		if ok && c.lastSeen.After(loaded.lastSeen) {
			loaded.lastSeen, loaded.touched = c.lastSeen, c.touched
		}
		c = *loaded
		s.mu.Lock()
		if cur, still := s.sessions[h]; !still || !cur.loaded.After(c.loaded) {
			if still && cur.lastSeen.After(c.lastSeen) {
				c.lastSeen, c.touched = cur.lastSeen, cur.touched
			}
			s.sessions[h] = &c
		}
		s.mu.Unlock()
	}
	if err := s.checkExpiry(ctx, c, now); err != nil {
		s.forget(h)
		return Session{}, err
	}
	return c.sess, nil
}
