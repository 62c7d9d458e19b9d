package postgres

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/tongban/tongban"
)

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func nonNilMap(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	return m
}

// ---- departments ----

// CreateDepartment inserts d and sets its ID.
func (db *DB) CreateDepartment(ctx context.Context, d *tongban.Department) error {
	if d.CreatedAt.IsZero() {
		d.CreatedAt = tongban.Now()
	}
	var id int64
	err := db.pool.QueryRow(ctx, `INSERT INTO departments (code, name, kind, parent, keywords, disabled, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING id`,
		d.Code, d.Name, d.Kind, d.Parent, jsonText(nonNil(d.Keywords)), d.Disabled, micros(d.CreatedAt)).Scan(&id)
	if isUnique(err) {
		return tongban.FieldError("code", "部门编码已存在", "department code already exists")
	}
	if err != nil {
		return err
	}
	d.ID = id
	return nil
}

// UpdateDepartment changes name, kind, parent, keywords and disabled.
func (db *DB) UpdateDepartment(ctx context.Context, d *tongban.Department) error {
	tag, err := db.pool.Exec(ctx, `UPDATE departments SET name=$1, kind=$2, parent=$3, keywords=$4, disabled=$5 WHERE code=$6`,
		d.Name, d.Kind, d.Parent, jsonText(nonNil(d.Keywords)), d.Disabled, d.Code)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return tongban.ErrNotFound
	}
	return nil
}

const deptCols = `id, code, name, kind, parent, keywords, disabled, created_at`

func scanDept(s scanner) (*tongban.Department, error) {
	var d tongban.Department
	var kw string
	var created int64
	if err := s.Scan(&d.ID, &d.Code, &d.Name, &d.Kind, &d.Parent, &kw, &d.Disabled, &created); err != nil {
		return nil, err
	}
	_ = json.Unmarshal([]byte(kw), &d.Keywords)
	d.CreatedAt = fromMicros(created)
	return &d, nil
}

// Department returns the department with the code.
func (db *DB) Department(ctx context.Context, code string) (*tongban.Department, error) {
	d, err := scanDept(db.pool.QueryRow(ctx, `SELECT `+deptCols+` FROM departments WHERE code=$1`, code))
	return d, notFound(err)
}

// ListDepartments returns all departments by ID.
func (db *DB) ListDepartments(ctx context.Context) ([]*tongban.Department, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+deptCols+` FROM departments ORDER BY id`)
	return collect(rows, err, scanDept)
}

// ---- users ----

func rolesText(rs []tongban.Role) string {
	ss := make([]string, len(rs))
	for i, r := range rs {
		ss[i] = string(r)
	}
	return strings.Join(ss, ",")
}

func parseRolesText(s string) []tongban.Role {
	var out []tongban.Role
	for _, p := range strings.Split(s, ",") {
		if p != "" {
			out = append(out, tongban.Role(p))
		}
	}
	return out
}

// CreateUser inserts u and sets its ID.
func (db *DB) CreateUser(ctx context.Context, u *tongban.User) error {
	if u.CreatedAt.IsZero() {
		u.CreatedAt = tongban.Now()
	}
	var id int64
	err := db.pool.QueryRow(ctx, `INSERT INTO users (login, name, dept, roles, phone, disabled, password_hash, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING id`,
		u.Login, u.Name, u.Dept, rolesText(u.Roles), u.Phone, u.Disabled, u.PasswordHash, micros(u.CreatedAt)).Scan(&id)
	if isUnique(err) {
		return tongban.FieldError("login", "登录名已存在", "login already exists")
	}
	if isForeignKey(err) {
		return tongban.FieldError("department", "部门不存在", "unknown department")
	}
	if err != nil {
		return err
	}
	u.ID = id
	return nil
}

// UpdateUser changes everything but login and created_at.
func (db *DB) UpdateUser(ctx context.Context, u *tongban.User) error {
	tag, err := db.pool.Exec(ctx, `UPDATE users SET name=$1, dept=$2, roles=$3, phone=$4, disabled=$5, password_hash=$6 WHERE id=$7`,
		u.Name, u.Dept, rolesText(u.Roles), u.Phone, u.Disabled, u.PasswordHash, u.ID)
	if isForeignKey(err) {
		return tongban.FieldError("department", "部门不存在", "unknown department")
	}
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return tongban.ErrNotFound
	}
	return nil
}

const userCols = `id, login, name, dept, roles, phone, disabled, password_hash, created_at`

func scanUser(s scanner) (*tongban.User, error) {
	var u tongban.User
	var roles string
	var created int64
	if err := s.Scan(&u.ID, &u.Login, &u.Name, &u.Dept, &roles, &u.Phone, &u.Disabled, &u.PasswordHash, &created); err != nil {
		return nil, err
	}
	u.Roles = parseRolesText(roles)
	u.CreatedAt = fromMicros(created)
	return &u, nil
}

// User returns the user with the ID.
func (db *DB) User(ctx context.Context, id int64) (*tongban.User, error) {
	u, err := scanUser(db.pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id=$1`, id))
	return u, notFound(err)
}

// UserByLogin returns the user with the login.
func (db *DB) UserByLogin(ctx context.Context, login string) (*tongban.User, error) {
	u, err := scanUser(db.pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE login=$1`, login))
	return u, notFound(err)
}

// ListUsers returns all users by ID.
func (db *DB) ListUsers(ctx context.Context) ([]*tongban.User, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+userCols+` FROM users ORDER BY id`)
	return collect(rows, err, scanUser)
}

// ---- categories ----

// PutCategory inserts or replaces a category.
func (db *DB) PutCategory(ctx context.Context, c *tongban.Category) error {
	c.UpdatedAt = tongban.Now()
	_, err := db.pool.Exec(ctx, `INSERT INTO categories (code, name, description, dept, limits, limit_hours, reply_needs_approval, keywords, active, ord, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)
		ON CONFLICT (code) DO UPDATE SET name=excluded.name, description=excluded.description, dept=excluded.dept, limits=excluded.limits,
		limit_hours=excluded.limit_hours, reply_needs_approval=excluded.reply_needs_approval, keywords=excluded.keywords,
		active=excluded.active, ord=excluded.ord, updated_at=excluded.updated_at`,
		c.Code, c.Name, c.Description, c.Dept, jsonText(nonNilMap(c.Limits)), c.LimitHours, c.ReplyNeedsApproval,
		jsonText(nonNil(c.Keywords)), c.Active, c.Order, micros(c.UpdatedAt))
	return err
}

const catCols = `code, name, description, dept, limits, limit_hours, reply_needs_approval, keywords, active, ord, updated_at`

func scanCategory(s scanner) (*tongban.Category, error) {
	var c tongban.Category
	var limits, kw string
	var updated int64
	if err := s.Scan(&c.Code, &c.Name, &c.Description, &c.Dept, &limits, &c.LimitHours, &c.ReplyNeedsApproval, &kw, &c.Active, &c.Order, &updated); err != nil {
		return nil, err
	}
	_ = json.Unmarshal([]byte(limits), &c.Limits)
	_ = json.Unmarshal([]byte(kw), &c.Keywords)
	c.UpdatedAt = fromMicros(updated)
	return &c, nil
}

// Category returns the category with the code.
func (db *DB) Category(ctx context.Context, code string) (*tongban.Category, error) {
	c, err := scanCategory(db.pool.QueryRow(ctx, `SELECT `+catCols+` FROM categories WHERE code=$1`, code))
	return c, notFound(err)
}

// ListCategories returns all categories in display order.
func (db *DB) ListCategories(ctx context.Context) ([]*tongban.Category, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+catCols+` FROM categories ORDER BY ord, code COLLATE "C"`)
	return collect(rows, err, scanCategory)
}

// ---- sessions ----

// CreateSession stores a session.
func (db *DB) CreateSession(ctx context.Context, s *tongban.Session) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES ($1,$2,$3,$4,$5)`,
		s.TokenHash, s.UserID, s.CSRF, micros(s.CreatedAt), micros(s.ExpiresAt))
	return err
}

// Session returns a session by token hash, expired or not; the caller
// checks expiry against its clock.
func (db *DB) Session(ctx context.Context, tokenHash string) (*tongban.Session, error) {
	var s tongban.Session
	var c, e int64
	err := db.pool.QueryRow(ctx, `SELECT token_hash, user_id, csrf, created_at, expires_at FROM sessions WHERE token_hash=$1`, tokenHash).
		Scan(&s.TokenHash, &s.UserID, &s.CSRF, &c, &e)
	if err != nil {
		return nil, notFound(err)
	}
	s.CreatedAt, s.ExpiresAt = fromMicros(c), fromMicros(e)
	return &s, nil
}

// DeleteSession removes one session (logout).
func (db *DB) DeleteSession(ctx context.Context, tokenHash string) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE token_hash=$1`, tokenHash)
	return err
}

// DeleteUserSessions logs a user out everywhere (disable, password reset).
func (db *DB) DeleteUserSessions(ctx context.Context, userID int64) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE user_id=$1`, userID)
	return err
}

// ---- API keys ----

// CreateAPIKey stores a key's hash.
func (db *DB) CreateAPIKey(ctx context.Context, k *tongban.APIKey) error {
	if k.CreatedAt.IsZero() {
		k.CreatedAt = tongban.Now()
	}
	var id int64
	err := db.pool.QueryRow(ctx, `INSERT INTO api_keys (name, hash, prefix, revoked, created_at) VALUES ($1,$2,$3,$4,$5) RETURNING id`,
		k.Name, k.Hash, k.Prefix, k.Revoked, micros(k.CreatedAt)).Scan(&id)
	if err != nil {
		return err
	}
	k.ID = id
	return nil
}

const keyCols = `id, name, hash, prefix, revoked, created_at`

func scanKey(s scanner) (*tongban.APIKey, error) {
	var k tongban.APIKey
	var c int64
	if err := s.Scan(&k.ID, &k.Name, &k.Hash, &k.Prefix, &k.Revoked, &c); err != nil {
		return nil, err
	}
	k.CreatedAt = fromMicros(c)
	return &k, nil
}

// APIKeyByHash finds a key by its hash.
func (db *DB) APIKeyByHash(ctx context.Context, hash string) (*tongban.APIKey, error) {
	k, err := scanKey(db.pool.QueryRow(ctx, `SELECT `+keyCols+` FROM api_keys WHERE hash=$1`, hash))
	return k, notFound(err)
}

// ListAPIKeys lists keys (hashes stay inside).
func (db *DB) ListAPIKeys(ctx context.Context) ([]*tongban.APIKey, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+keyCols+` FROM api_keys ORDER BY id`)
	return collect(rows, err, scanKey)
}

// RevokeAPIKey marks a key revoked.
func (db *DB) RevokeAPIKey(ctx context.Context, id int64) error {
	tag, err := db.pool.Exec(ctx, `UPDATE api_keys SET revoked=true WHERE id=$1`, id)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return tongban.ErrNotFound
	}
	return nil
}

// ---- calendar ----

// ListCalendarOverrides returns overrides by date.
func (db *DB) ListCalendarOverrides(ctx context.Context) ([]tongban.CalendarOverride, error) {
	rows, err := db.pool.Query(ctx, `SELECT date, off, name FROM calendar_overrides ORDER BY date COLLATE "C"`)
	return collect(rows, err, func(s scanner) (tongban.CalendarOverride, error) {
		var o tongban.CalendarOverride
		err := s.Scan(&o.Date, &o.Off, &o.Name)
		return o, err
	})
}

// SetCalendarOverride inserts or replaces one day's override.
func (db *DB) SetCalendarOverride(ctx context.Context, o tongban.CalendarOverride) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO calendar_overrides (date, off, name) VALUES ($1,$2,$3) ON CONFLICT (date) DO UPDATE SET off=excluded.off, name=excluded.name`,
		o.Date, o.Off, o.Name)
	return err
}

// DeleteCalendarOverride removes one day's override.
func (db *DB) DeleteCalendarOverride(ctx context.Context, date string) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM calendar_overrides WHERE date=$1`, date)
	return err
}

// ---- PII access log ----

// LogPIIAccess records an unmasked view.
func (db *DB) LogPIIAccess(ctx context.Context, a *tongban.PIIAccess) error {
	var id int64
	err := db.pool.QueryRow(ctx, `INSERT INTO pii_access (case_id, user_id, login, reason, at) VALUES ($1,$2,$3,$4,$5) RETURNING id`,
		a.CaseID, a.UserID, a.Login, a.Reason, micros(a.At)).Scan(&id)
	if err != nil {
		return err
	}
	a.ID = id
	return nil
}

// ListPIIAccess lists unmasked views of a case, newest first.
func (db *DB) ListPIIAccess(ctx context.Context, caseID int64) ([]tongban.PIIAccess, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, case_id, user_id, login, reason, at FROM pii_access WHERE case_id=$1 ORDER BY id DESC`, caseID)
	return collect(rows, err, func(s scanner) (tongban.PIIAccess, error) {
		var a tongban.PIIAccess
		var at int64
		err := s.Scan(&a.ID, &a.CaseID, &a.UserID, &a.Login, &a.Reason, &at)
		a.At = fromMicros(at)
		return a, err
	})
}

// ---- rate limits ----

// sweepEvery is how often one instance deletes expired windows; sweepGrace
// keeps a window a little past its end for instances whose clocks lag.
const (
	sweepEvery = time.Minute
	sweepGrace = time.Minute
)

// HitRate counts one hit in the rate_limits table, which every instance
// on the database shares, and now and then deletes expired windows.
func (db *DB) HitRate(ctx context.Context, key string, window time.Duration, now time.Time) (int, error) {
	start := now.Truncate(window)
	var n int
	err := db.pool.QueryRow(ctx, `INSERT INTO rate_limits (key, window_start, count, expires_at) VALUES ($1, $2, 1, $3)
		ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limits.count + 1 RETURNING count`,
		key, micros(start), micros(start.Add(window))).Scan(&n)
	if err != nil {
		return 0, err
	}
	wall := time.Now().UnixMicro()
	if last := db.lastSweep.Load(); wall-last >= sweepEvery.Microseconds() && db.lastSweep.CompareAndSwap(last, wall) {
		// Best effort: a failed sweep is retried by a later hit.
		_, _ = db.pool.Exec(ctx, `DELETE FROM rate_limits WHERE expires_at < $1`, micros(now.Add(-sweepGrace)))
	}
	return n, nil
}
