package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/tongban/tongban"
)

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return tongban.ErrNotFound
	}
	return err
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// CreateDepartment inserts d and sets its ID.
func (db *DB) CreateDepartment(ctx context.Context, d *tongban.Department) error {
	if d.CreatedAt.IsZero() {
		d.CreatedAt = tongban.Now()
	}
	return db.exec(ctx, func(tx *sql.Tx) error {
		res, err := db.execTx(ctx, tx, `INSERT INTO departments (code, name, kind, parent, keywords, disabled, created_at) VALUES (?,?,?,?,?,?,?)`,
			d.Code, d.Name, d.Kind, d.Parent, jsonText(nonNil(d.Keywords)), b2i(d.Disabled), micros(d.CreatedAt))
		if isUnique(err) {
			return tongban.FieldError("code", "部门编码已存在", "department code already exists")
		}
		if err != nil {
			return err
		}
		d.ID, err = res.LastInsertId()
		return err
	})
}

// UpdateDepartment changes name, kind, parent, keywords and disabled.
func (db *DB) UpdateDepartment(ctx context.Context, d *tongban.Department) error {
	return db.exec(ctx, func(tx *sql.Tx) error {
		res, err := db.execTx(ctx, tx, `UPDATE departments SET name=?, kind=?, parent=?, keywords=?, disabled=? WHERE code=?`,
			d.Name, d.Kind, d.Parent, jsonText(nonNil(d.Keywords)), b2i(d.Disabled), d.Code)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return tongban.ErrNotFound
		}
		return nil
	})
}

const deptCols = `id, code, name, kind, parent, keywords, disabled, created_at`

func scanDept(s interface{ Scan(...any) error }) (*tongban.Department, error) {
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
	d, err := scanDept(db.queryRow(ctx, `SELECT `+deptCols+` FROM departments WHERE code=?`, code))
	return d, notFound(err)
}

// ListDepartments returns all departments by ID.
func (db *DB) ListDepartments(ctx context.Context) ([]*tongban.Department, error) {
	rows, err := db.query(ctx, `SELECT `+deptCols+` FROM departments ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*tongban.Department
	for rows.Next() {
		d, err := scanDept(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

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
	return db.exec(ctx, func(tx *sql.Tx) error {
		res, err := db.execTx(ctx, tx, `INSERT INTO users (login, name, dept, roles, phone, disabled, password_hash, created_at) VALUES (?,?,?,?,?,?,?,?)`,
			u.Login, u.Name, u.Dept, rolesText(u.Roles), u.Phone, b2i(u.Disabled), u.PasswordHash, micros(u.CreatedAt))
		if isUnique(err) {
			return tongban.FieldError("login", "登录名已存在", "login already exists")
		}
		if isForeignKey(err) {
			return tongban.FieldError("department", "部门不存在", "unknown department")
		}
		if err != nil {
			return err
		}
		u.ID, err = res.LastInsertId()
		return err
	})
}

// UpdateUser changes everything but login and created_at.
func (db *DB) UpdateUser(ctx context.Context, u *tongban.User) error {
	return db.exec(ctx, func(tx *sql.Tx) error {
		res, err := db.execTx(ctx, tx, `UPDATE users SET name=?, dept=?, roles=?, phone=?, disabled=?, password_hash=? WHERE id=?`,
			u.Name, u.Dept, rolesText(u.Roles), u.Phone, b2i(u.Disabled), u.PasswordHash, u.ID)
		if isForeignKey(err) {
			return tongban.FieldError("department", "部门不存在", "unknown department")
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return tongban.ErrNotFound
		}
		return nil
	})
}

const userCols = `id, login, name, dept, roles, phone, disabled, password_hash, created_at`

func scanUser(s interface{ Scan(...any) error }) (*tongban.User, error) {
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
	u, err := scanUser(db.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE id=?`, id))
	return u, notFound(err)
}

// UserByLogin returns the user with the login.
func (db *DB) UserByLogin(ctx context.Context, login string) (*tongban.User, error) {
	u, err := scanUser(db.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE login=?`, login))
	return u, notFound(err)
}

// ListUsers returns all users by ID.
func (db *DB) ListUsers(ctx context.Context) ([]*tongban.User, error) {
	rows, err := db.query(ctx, `SELECT `+userCols+` FROM users ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*tongban.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// PutCategory inserts or replaces a category.
func (db *DB) PutCategory(ctx context.Context, c *tongban.Category) error {
	c.UpdatedAt = tongban.Now()
	return db.exec(ctx, func(tx *sql.Tx) error {
		_, err := db.execTx(ctx, tx, `INSERT INTO categories (code, name, description, dept, limits, limit_hours, reply_needs_approval, keywords, active, ord, updated_at)
			VALUES (?,?,?,?,?,?,?,?,?,?,?)
			ON CONFLICT (code) DO UPDATE SET name=excluded.name, description=excluded.description, dept=excluded.dept, limits=excluded.limits,
			limit_hours=excluded.limit_hours, reply_needs_approval=excluded.reply_needs_approval, keywords=excluded.keywords,
			active=excluded.active, ord=excluded.ord, updated_at=excluded.updated_at`,
			c.Code, c.Name, c.Description, c.Dept, jsonText(nonNilMap(c.Limits)), c.LimitHours, b2i(c.ReplyNeedsApproval),
			jsonText(nonNil(c.Keywords)), b2i(c.Active), c.Order, micros(c.UpdatedAt))
		return err
	})
}

const catCols = `code, name, description, dept, limits, limit_hours, reply_needs_approval, keywords, active, ord, updated_at`

func scanCategory(s interface{ Scan(...any) error }) (*tongban.Category, error) {
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
	c, err := scanCategory(db.queryRow(ctx, `SELECT `+catCols+` FROM categories WHERE code=?`, code))
	return c, notFound(err)
}

// ListCategories returns all categories in display order.
func (db *DB) ListCategories(ctx context.Context) ([]*tongban.Category, error) {
	rows, err := db.query(ctx, `SELECT `+catCols+` FROM categories ORDER BY ord, code`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*tongban.Category
	for rows.Next() {
		c, err := scanCategory(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CreateSession stores a session.
func (db *DB) CreateSession(ctx context.Context, s *tongban.Session) error {
	return db.exec(ctx, func(tx *sql.Tx) error {
		_, err := db.execTx(ctx, tx, `INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES (?,?,?,?,?)`,
			s.TokenHash, s.UserID, s.CSRF, micros(s.CreatedAt), micros(s.ExpiresAt))
		return err
	})
}

// Session returns an unexpired-or-not session by token hash; the caller
// checks expiry against its clock.
func (db *DB) Session(ctx context.Context, tokenHash string) (*tongban.Session, error) {
	var s tongban.Session
	var c, e int64
	err := db.queryRow(ctx, `SELECT token_hash, user_id, csrf, created_at, expires_at FROM sessions WHERE token_hash=?`, tokenHash).
		Scan(&s.TokenHash, &s.UserID, &s.CSRF, &c, &e)
	if err != nil {
		return nil, notFound(err)
	}
	s.CreatedAt, s.ExpiresAt = fromMicros(c), fromMicros(e)
	return &s, nil
}

// DeleteSession removes one session (logout).
func (db *DB) DeleteSession(ctx context.Context, tokenHash string) error {
	return db.exec(ctx, func(tx *sql.Tx) error {
		_, err := db.execTx(ctx, tx, `DELETE FROM sessions WHERE token_hash=?`, tokenHash)
		return err
	})
}

// DeleteUserSessions logs a user out everywhere (disable, password reset).
func (db *DB) DeleteUserSessions(ctx context.Context, userID int64) error {
	return db.exec(ctx, func(tx *sql.Tx) error {
		_, err := db.execTx(ctx, tx, `DELETE FROM sessions WHERE user_id=?`, userID)
		return err
	})
}

// CreateAPIKey stores a key's hash.
func (db *DB) CreateAPIKey(ctx context.Context, k *tongban.APIKey) error {
	if k.CreatedAt.IsZero() {
		k.CreatedAt = tongban.Now()
	}
	return db.exec(ctx, func(tx *sql.Tx) error {
		res, err := db.execTx(ctx, tx, `INSERT INTO api_keys (name, hash, prefix, revoked, created_at) VALUES (?,?,?,?,?)`,
			k.Name, k.Hash, k.Prefix, b2i(k.Revoked), micros(k.CreatedAt))
		if err != nil {
			return err
		}
		k.ID, err = res.LastInsertId()
		return err
	})
}

const keyCols = `id, name, hash, prefix, revoked, created_at`

func scanKey(s interface{ Scan(...any) error }) (*tongban.APIKey, error) {
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
	k, err := scanKey(db.queryRow(ctx, `SELECT `+keyCols+` FROM api_keys WHERE hash=?`, hash))
	return k, notFound(err)
}

// ListAPIKeys lists keys (hashes stay inside).
func (db *DB) ListAPIKeys(ctx context.Context) ([]*tongban.APIKey, error) {
	rows, err := db.query(ctx, `SELECT `+keyCols+` FROM api_keys ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*tongban.APIKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey marks a key revoked.
func (db *DB) RevokeAPIKey(ctx context.Context, id int64) error {
	return db.exec(ctx, func(tx *sql.Tx) error {
		res, err := db.execTx(ctx, tx, `UPDATE api_keys SET revoked=1 WHERE id=?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return tongban.ErrNotFound
		}
		return nil
	})
}

// ListCalendarOverrides returns overrides by date.
func (db *DB) ListCalendarOverrides(ctx context.Context) ([]tongban.CalendarOverride, error) {
	rows, err := db.query(ctx, `SELECT date, off, name FROM calendar_overrides ORDER BY date`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []tongban.CalendarOverride
	for rows.Next() {
		var o tongban.CalendarOverride
		if err := rows.Scan(&o.Date, &o.Off, &o.Name); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// SetCalendarOverride inserts or replaces one day's override.
func (db *DB) SetCalendarOverride(ctx context.Context, o tongban.CalendarOverride) error {
	return db.exec(ctx, func(tx *sql.Tx) error {
		_, err := db.execTx(ctx, tx, `INSERT INTO calendar_overrides (date, off, name) VALUES (?,?,?) ON CONFLICT (date) DO UPDATE SET off=excluded.off, name=excluded.name`,
			o.Date, b2i(o.Off), o.Name)
		return err
	})
}

// DeleteCalendarOverride removes one day's override.
func (db *DB) DeleteCalendarOverride(ctx context.Context, date string) error {
	return db.exec(ctx, func(tx *sql.Tx) error {
		_, err := db.execTx(ctx, tx, `DELETE FROM calendar_overrides WHERE date=?`, date)
		return err
	})
}

// LogPIIAccess records an unmasked view.
func (db *DB) LogPIIAccess(ctx context.Context, a *tongban.PIIAccess) error {
	return db.exec(ctx, func(tx *sql.Tx) error {
		res, err := db.execTx(ctx, tx, `INSERT INTO pii_access (case_id, user_id, login, reason, at) VALUES (?,?,?,?,?)`,
			a.CaseID, a.UserID, a.Login, a.Reason, micros(a.At))
		if err != nil {
			return err
		}
		a.ID, err = res.LastInsertId()
		return err
	})
}

// ListPIIAccess lists unmasked views of a case, newest first.
func (db *DB) ListPIIAccess(ctx context.Context, caseID int64) ([]tongban.PIIAccess, error) {
	rows, err := db.query(ctx, `SELECT id, case_id, user_id, login, reason, at FROM pii_access WHERE case_id=? ORDER BY id DESC`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []tongban.PIIAccess
	for rows.Next() {
		var a tongban.PIIAccess
		var at int64
		if err := rows.Scan(&a.ID, &a.CaseID, &a.UserID, &a.Login, &a.Reason, &at); err != nil {
			return nil, err
		}
		a.At = fromMicros(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// HitRate counts in memory: an embedded store serves one process.
func (db *DB) HitRate(_ context.Context, key string, window time.Duration, now time.Time) (int, error) {
	start := now.Truncate(window)
	db.rateMu.Lock()
	defer db.rateMu.Unlock()
	w := db.rates[key]
	if !w.start.Equal(start) {
		w = rateWindow{start: start}
	}
	w.count++
	db.rates[key] = w
	if len(db.rates) > 100000 {
		for k, v := range db.rates {
			if v.start.Before(start) {
				delete(db.rates, k)
			}
		}
	}
	return w.count, nil
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
