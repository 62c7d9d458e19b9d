package engine

import (
	"context"
	"sync"
	"time"

	"github.com/tongban/tongban"
)

// cacheTTL bounds how stale reference data and sessions may be on one
// instance when another instance changes them. Changes made through this
// instance take effect at once.
const cacheTTL = 5 * time.Second

// refCache holds categories and departments: tiny, read on every request,
// changed rarely.
type refCache struct {
	mu      sync.RWMutex
	loaded  time.Time
	cats    map[string]*tongban.Category
	catList []*tongban.Category
	depts   map[string]*tongban.Department
	deptLst []*tongban.Department
}

func (e *Engine) refs(ctx context.Context) (*refCache, error) {
	c := &e.ref
	c.mu.RLock()
	fresh := time.Since(c.loaded) < cacheTTL && c.cats != nil
	c.mu.RUnlock()
	if fresh {
		return c, nil
	}
	cats, err := e.Store.ListCategories(ctx)
	if err != nil {
		return nil, err
	}
	depts, err := e.Store.ListDepartments(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cats, c.catList = map[string]*tongban.Category{}, cats
	for _, x := range cats {
		c.cats[x.Code] = x
	}
	c.depts, c.deptLst = map[string]*tongban.Department{}, depts
	for _, x := range depts {
		c.depts[x.Code] = x
	}
	c.loaded = time.Now()
	return c, nil
}

// invalidate makes the next read reload reference data.
func (e *Engine) invalidate() {
	e.ref.mu.Lock()
	e.ref.loaded = time.Time{}
	e.ref.mu.Unlock()
}

// Category returns a category from the cache. Callers must not modify it.
func (e *Engine) Category(ctx context.Context, code string) (*tongban.Category, error) {
	c, err := e.refs(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if x := c.cats[code]; x != nil {
		return x, nil
	}
	return nil, tongban.ErrNotFound
}

// Categories returns all categories in display order from the cache.
func (e *Engine) Categories(ctx context.Context) ([]*tongban.Category, error) {
	c, err := e.refs(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.catList, nil
}

// Department returns a department from the cache. Callers must not modify it.
func (e *Engine) Department(ctx context.Context, code string) (*tongban.Department, error) {
	c, err := e.refs(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if x := c.depts[code]; x != nil {
		return x, nil
	}
	return nil, tongban.ErrNotFound
}

// Departments returns all departments from the cache.
func (e *Engine) Departments(ctx context.Context) ([]*tongban.Department, error) {
	c, err := e.refs(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.deptLst, nil
}

// tokenCache keeps recently checked session tokens and API keys by hash,
// so that an authenticated request does not cost extra queries. Entries
// live for cacheTTL; changes made through this instance drop them at once.
type tokenCache[V any] struct {
	mu sync.Mutex
	m  map[string]tokenEntry[V]
}

type tokenEntry[V any] struct {
	v    V
	seen time.Time
}

// maxCachedTokens bounds the cache; when full it starts again empty.
const maxCachedTokens = 10000

func (tc *tokenCache[V]) get(hash string) (V, bool) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	en, ok := tc.m[hash]
	if !ok || time.Since(en.seen) > cacheTTL {
		var zero V
		return zero, false
	}
	return en.v, true
}

func (tc *tokenCache[V]) put(hash string, v V) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.m == nil || len(tc.m) >= maxCachedTokens {
		tc.m = map[string]tokenEntry[V]{}
	}
	tc.m[hash] = tokenEntry[V]{v: v, seen: time.Now()}
}

// forget drops the entries for which drop reports true.
func (tc *tokenCache[V]) forget(drop func(hash string, v V) bool) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	for k, en := range tc.m {
		if drop(k, en.v) {
			delete(tc.m, k)
		}
	}
}

type sessionEntry struct {
	s *tongban.Session
	u *tongban.User
}
