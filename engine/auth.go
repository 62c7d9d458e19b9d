package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/tongban/tongban"
)

// argon2id parameters: OWASP's minimum (19 MiB, 2 passes), so a login costs
// tens of milliseconds on the district's small servers.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// SessionTTL is how long a login lasts.
const SessionTTL = 12 * time.Hour

// HashPassword returns an argon2id hash in the PHC string format.
func HashPassword(pw string) (string, error) {
	if n := runes(pw); n < 8 || n > 128 {
		return "", tongban.FieldError("password", "密码长度须为8到128位", "password must be 8 to 128 characters")
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// CheckPassword verifies a password against a PHC argon2id hash in
// constant time.
func CheckPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || m > 1<<20 || t > 10 || p == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash keeps the time of a login with an unknown user equal to one
// with a wrong password.
var dummyHash, _ = HashPassword("not-a-real-password")

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TokenHash is how tokens and API keys are stored.
func TokenHash(token string) string { return sha256hex([]byte(token)) }

var errBadLogin = tongban.Errorf(tongban.EUnauthorized, "用户名或密码错误", "wrong login or password")

// Login checks credentials and opens a session; it returns the token.
func (e *Engine) Login(ctx context.Context, login, password string) (string, *tongban.Session, *tongban.User, error) {
	u, err := e.Store.UserByLogin(ctx, strings.TrimSpace(login))
	if err != nil {
		if tongban.ErrorCode(err) != tongban.ENotFound {
			return "", nil, nil, err
		}
		CheckPassword(dummyHash, password)
		return "", nil, nil, errBadLogin
	}
	if !CheckPassword(u.PasswordHash, password) || u.Disabled {
		return "", nil, nil, errBadLogin
	}
	token := randomToken(32)
	now := e.Now()
	s := &tongban.Session{TokenHash: TokenHash(token), UserID: u.ID, CSRF: randomToken(24), CreatedAt: now, ExpiresAt: now.Add(SessionTTL)}
	if err := e.Store.CreateSession(ctx, s); err != nil {
		return "", nil, nil, err
	}
	return token, s, u, nil
}

// Authenticate resolves a session token to its user.
func (e *Engine) Authenticate(ctx context.Context, token string) (*tongban.Session, *tongban.User, error) {
	if token == "" || len(token) > 200 {
		return nil, nil, tongban.ErrUnauthorized
	}
	hash := TokenHash(token)
	if en, ok := e.sessions.get(hash); ok && e.Now().Before(en.s.ExpiresAt) {
		return en.s, en.u, nil
	}
	s, err := e.Store.Session(ctx, hash)
	if err != nil {
		if tongban.ErrorCode(err) == tongban.ENotFound {
			return nil, nil, tongban.ErrUnauthorized
		}
		return nil, nil, err
	}
	if e.Now().After(s.ExpiresAt) {
		return nil, nil, tongban.ErrUnauthorized
	}
	u, err := e.Store.User(ctx, s.UserID)
	if err != nil && tongban.ErrorCode(err) != tongban.ENotFound {
		return nil, nil, err // the store failed: 503, not a bad token
	}
	if err != nil || u.Disabled {
		return nil, nil, tongban.ErrUnauthorized
	}
	e.sessions.put(hash, sessionEntry{s: s, u: u})
	return s, u, nil
}

// Logout ends a session.
func (e *Engine) Logout(ctx context.Context, tokenHash string) error {
	e.sessions.forget(func(hash string, _ sessionEntry) bool { return hash == tokenHash })
	return e.Store.DeleteSession(ctx, tokenHash)
}

// NewAPIKey creates a key and returns it in clear once; only its hash is kept.
func (e *Engine) NewAPIKey(ctx context.Context, name string) (string, *tongban.APIKey, error) {
	name = strings.TrimSpace(name)
	if name == "" || runes(name) > 100 {
		return "", nil, tongban.FieldError("name", "名称必填，不超过100字", "name is required, at most 100 characters")
	}
	key := "tbk_" + randomToken(24)
	k := &tongban.APIKey{Name: name, Hash: TokenHash(key), Prefix: key[:8], CreatedAt: e.Now()}
	if err := e.Store.CreateAPIKey(ctx, k); err != nil {
		return "", nil, err
	}
	return key, k, nil
}

// CheckAPIKey resolves a key.
func (e *Engine) CheckAPIKey(ctx context.Context, key string) (*tongban.APIKey, error) {
	if key == "" || len(key) > 200 {
		return nil, tongban.ErrUnauthorized
	}
	hash := TokenHash(key)
	if k, ok := e.apiKeys.get(hash); ok {
		return k, nil
	}
	k, err := e.Store.APIKeyByHash(ctx, hash)
	if err != nil && tongban.ErrorCode(err) != tongban.ENotFound {
		return nil, err // the store failed: 503, not a bad key
	}
	if err != nil || k.Revoked {
		return nil, tongban.Errorf(tongban.EUnauthorized, "API密钥无效", "invalid API key")
	}
	e.apiKeys.put(hash, k)
	return k, nil
}

// RevokeAPIKey revokes a key; it stops working on this instance at once
// and on the others within cacheTTL.
func (e *Engine) RevokeAPIKey(ctx context.Context, id int64) error {
	if err := e.Store.RevokeAPIKey(ctx, id); err != nil {
		return err
	}
	e.apiKeys.forget(func(_ string, k *tongban.APIKey) bool { return k.ID == id })
	return nil
}
