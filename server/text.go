package server

import (
	"net/http"

	"github.com/tongban/tongban"
	"github.com/tongban/tongban/engine"
	"github.com/tongban/tongban/textproc"
)

// searchSnippet returns the snippet of a case for a search query: from
// the first of body, reply, address and title in which a term occurs
// (the body's beginning if none does); nil without a query.
func searchSnippet(c *tongban.Case, q string) []textproc.Segment {
	if q == "" {
		return nil
	}
	terms := textproc.ParseQuery(q)
	if len(terms) == 0 {
		return nil
	}
	for _, text := range []string{c.Body, c.Reply, c.Address, c.Title} {
		for _, t := range terms {
			if text != "" && textproc.Match(text, []textproc.Term{t}) {
				return textproc.SnippetN(text, terms, textproc.SnippetRunes)
			}
		}
	}
	return textproc.SnippetN(c.Body, terms, textproc.SnippetRunes)
}

// suggestionRow is a routing suggestion as the case page shows it.
type suggestionRow struct {
	engine.Suggestion
	DeptName, CategoryName string
	Percent                int
}

// textPanels fills the dispatcher's routing suggestions and possible
// duplicates on the case page of a request waiting for dispatch.
func (s *Server) textPanels(r *http.Request, u *tongban.User, c *tongban.Case, lk *lookups, d *caseData) {
	if u == nil || c.Kind != tongban.KindRequest || c.Status != tongban.StatusOpen ||
		!u.HasAny(tongban.RoleIntake, tongban.RoleDispatcher, tongban.RoleSupervisor, tongban.RoleLeader, tongban.RoleAdmin) {
		return
	}
	if c.Step == "dispatch" {
		if sg, err := s.Engine.Text.Suggest(r.Context(), c.Title, c.Body); err == nil {
			for _, x := range sg {
				d.Suggestions = append(d.Suggestions, suggestionRow{Suggestion: x, DeptName: lk.dept(x.Department), CategoryName: lk.cat(x.Category), Percent: int(x.Confidence*100 + 0.5)})
			}
		}
	}
	if c.Step != engine.StepMerged {
		d.Duplicates = s.caseDuplicates(r, u, c)
	}
}
