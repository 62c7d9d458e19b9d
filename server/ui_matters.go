package server

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tongban/tongban"
)

// The service catalogue on the portal (事项目录 / 办事指南): the list of
// matters with a search by name and department, and each matter's guide.
// The online application form, its receipt, the applicant's progress page
// and the departments' review workbench are in ui_apply*.go.

// applyRoutes registers the catalogue, application and review pages.
func (s *Server) applyRoutes() {
	m := s.mux
	m.HandleFunc("GET /matters", s.uiMatters)
	m.HandleFunc("GET /matters/{code}", s.uiMatter)
	m.HandleFunc("GET /matters/{code}/materials/{n}/sample", s.uiMatterSample)
	m.HandleFunc("GET /matters/{code}/apply", s.uiApplyForm)
	m.HandleFunc("POST /matters/{code}/apply", s.uiApply)
	m.HandleFunc("GET /receipt/{code}/application", s.uiApplyReceipt)
	m.HandleFunc("POST /track/{code}/supplement", s.uiApplySupplement)
	m.HandleFunc("POST /work/applications/{id}/act", s.page(s.uiApplicationAct))
}

// The catalogue page lists the latest version of every matter, which
// the store reads and decodes in full (some 300 ms for 2,000 matters in
// SQLite). The page keeps the list for catalogueTTL, like the engine's
// departments and categories, and refreshes it in the background when
// older, so no reader waits after the first.
const catalogueTTL = 5 * time.Second

type catalogueCache struct {
	mu      sync.Mutex
	at      time.Time
	list    []*tongban.Matter
	loading bool
}

var catalogues sync.Map // *Server → *catalogueCache

func (s *Server) catalogue(r *http.Request) ([]*tongban.Matter, error) {
	x, _ := catalogues.LoadOrStore(s, &catalogueCache{})
	c := x.(*catalogueCache)
	c.mu.Lock()
	list, age, loading := c.list, time.Since(c.at), c.loading
	if list != nil && age >= catalogueTTL && !loading {
		c.loading = true
	}
	c.mu.Unlock()
	if list == nil {
		ms, err := s.Engine.Matters(r.Context())
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.list, c.at = ms, time.Now()
		c.mu.Unlock()
		return ms, nil
	}
	if age >= catalogueTTL && !loading {
		go func() {
			ms, err := s.Engine.Matters(context.Background())
			c.mu.Lock()
			defer c.mu.Unlock()
			c.loading = false
			if err == nil {
				c.list, c.at = ms, time.Now()
			}
		}()
	}
	return list, nil
}

// matterRow is a matter as the catalogue lists it.
type matterRow struct {
	*tongban.Matter
	LeadName string
	Depts    []string
	Parallel bool
}

const mattersPerPage = 50

func (s *Server) uiMatters(w http.ResponseWriter, r *http.Request) {
	v := s.newView(w, r, "portal", "mat.title")
	q := r.URL.Query()
	v.Form = url.Values{"q": {q.Get("q")}, "dept": {q.Get("dept")}}
	ms, err := s.catalogue(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ds, err := s.Store.ListDepartments(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	names := make(map[string]string, len(ds))
	for _, d := range ds {
		names[d.Code] = d.Name
	}
	name := func(code string) string {
		if n, ok := names[code]; ok {
			return n
		}
		return code
	}
	needle := strings.ToLower(strings.TrimSpace(q.Get("q")))
	dept := strings.TrimSpace(q.Get("dept"))
	var rows []matterRow
	used := map[string]bool{}
	for _, m := range ms {
		if m.Withdrawn {
			continue
		}
		all := m.Departments()
		if m.Lead != "" && !slices.Contains(all, m.Lead) {
			all = append([]string{m.Lead}, all...)
		}
		for _, d := range all {
			used[d] = true
		}
		if dept != "" && !slices.Contains(all, dept) {
			continue
		}
		if needle != "" {
			hit := strings.Contains(strings.ToLower(m.Name), needle) || strings.Contains(strings.ToLower(m.Code), needle)
			for _, d := range all {
				hit = hit || strings.Contains(strings.ToLower(name(d)), needle)
			}
			if !hit {
				continue
			}
		}
		row := matterRow{Matter: m, LeadName: name(m.Lead)}
		for _, d := range all {
			row.Depts = append(row.Depts, name(d))
		}
		for _, st := range m.Steps {
			row.Parallel = row.Parallel || st.Mode == tongban.StepParallel && len(st.Departments) > 1
		}
		rows = append(rows, row)
	}
	total := len(rows)
	pages := max(1, (total+mattersPerPage-1)/mattersPerPage)
	page, _ := strconv.Atoi(q.Get("page"))
	page = min(max(page, 1), pages)
	rows = rows[(page-1)*mattersPerPage : min(total, page*mattersPerPage)]
	var deptList []*tongban.Department
	for _, d := range ds {
		if used[d.Code] && !d.Disabled {
			deptList = append(deptList, d)
		}
	}
	pageURL := func(n int) string {
		qq := url.Values{}
		if needle != "" {
			qq.Set("q", q.Get("q"))
		}
		if dept != "" {
			qq.Set("dept", dept)
		}
		qq.Set("page", strconv.Itoa(n))
		return "/matters?" + qq.Encode()
	}
	d := map[string]any{"Rows": rows, "Total": total, "Page": page, "Pages": pages, "Depts": deptList}
	if page > 1 {
		d["Prev"] = pageURL(page - 1)
	}
	if page < pages {
		d["Next"] = pageURL(page + 1)
	}
	v.D = d
	s.render(w, r, http.StatusOK, "matters", v)
}

// guideStep is a review step as the guide shows it.
type guideStep struct {
	tongban.MatterStep
	DeptNames []string
}

// matterFor reads the matter named in the path, optionally at ?version=.
func (s *Server) matterFor(r *http.Request) (*tongban.Matter, error) {
	version := 0
	if vs := r.URL.Query().Get("version"); vs != "" {
		n, err := strconv.Atoi(vs)
		if err != nil || n < 1 {
			return nil, tongban.ErrNotFound
		}
		version = n
	}
	return s.Engine.Matter(r.Context(), r.PathValue("code"), version)
}

func (s *Server) uiMatter(w http.ResponseWriter, r *http.Request) {
	m, err := s.matterFor(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.newView(w, r, "portal", "mat.guide")
	v.Title = m.Name
	lk, err := s.loadLookups(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var steps []guideStep
	for _, st := range m.Steps {
		gs := guideStep{MatterStep: st}
		for _, d := range st.Departments {
			gs.DeptNames = append(gs.DeptNames, lk.dept(d))
		}
		steps = append(steps, gs)
	}
	v.D = map[string]any{"M": m, "Lead": lk.dept(m.Lead), "Steps": steps, "IntakeDays": 5}
	s.render(w, r, http.StatusOK, "matter", v)
}

// uiMatterSample downloads a material's sample form (样表) as text.
func (s *Server) uiMatterSample(w http.ResponseWriter, r *http.Request) {
	m, err := s.matterFor(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 || n > len(m.Materials) || m.Materials[n-1].Sample == "" {
		s.fail(w, r, tongban.ErrNotFound)
		return
	}
	mt := m.Materials[n-1]
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Disposition", "attachment; filename=\"sample-"+strconv.Itoa(n)+".txt\"; filename*=UTF-8''"+url.PathEscape(mt.Name+"（样表）.txt"))
	h.Set("Cache-Control", "no-cache")
	w.Write([]byte(mt.Sample))
}
