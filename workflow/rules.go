package workflow

import (
	"encoding/json"
	"slices"

	"github.com/tongban/tongban"
)

// conditions are the guards and route conditions that definitions may name.
var conditions = map[string]func(c *tongban.Case, env *Env) bool{
	"consultation": func(c *tongban.Case, _ *Env) bool { return c.Type == tongban.TypeConsultation },
	"no_pending":   func(c *tongban.Case, _ *Env) bool { return c.Pending == nil },
	// A consultation answered at intake has no department yet: reopening
	// it sends it to the centre to dispatch.
	"has_lead":          func(c *tongban.Case, _ *Env) bool { return c.Lead != "" },
	"pending_extension": func(c *tongban.Case, _ *Env) bool { return c.Pending != nil && c.Pending.Kind == "extension" },
	// A head's own reply needs no approval by a head.
	"reply_needs_approval": func(_ *tongban.Case, env *Env) bool {
		return env.Category != nil && env.Category.ReplyNeedsApproval && !env.Actor.Has(tongban.RoleHead)
	},
	"unsatisfied_reopenable":   unsatisfiedReopenable,
	"unsatisfied_not_reopened": unsatisfiedReopenable,
}

// An unsatisfied rating (不满意, 非常不满意) may reopen a case once.
func unsatisfiedReopenable(c *tongban.Case, _ *Env) bool {
	return c.Rating >= 1 && c.Rating <= 2 && c.Reopens == 0
}

// effects change the case as an action requires.
var effects = map[string]func(c *tongban.Case, env *Env) error{
	// merge (并单) makes c a duplicate of another open request, handled
	// with it: its reply and closure are the other's.
	"merge": func(c *tongban.Case, env *Env) error {
		var into *tongban.Case
		if env.FindCase != nil {
			into, _ = env.FindCase(env.Input.Str("into"))
		}
		switch {
		case into == nil:
			return tongban.FieldError("into", "要并入的办件不存在", "no such case to merge into")
		case into.ID == c.ID:
			return tongban.FieldError("into", "不能并入自身", "a case cannot be merged into itself")
		case into.Kind != c.Kind || into.Status != tongban.StatusOpen || into.Step == "merged":
			return tongban.FieldError("into", "只能并入未办结、未被并单的同类办件", "can merge only into an open, unmerged case of the same kind")
		}
		c.ParentID = into.ID
		env.Payload["into"] = into.ID
		env.Payload["into_code"] = into.TrackingCode
		return nil
	},
	"unmerge": func(c *tongban.Case, env *Env) error {
		env.Payload["from"] = c.ParentID
		env.Reason = env.Input.Str("reason")
		c.ParentID = 0
		return nil
	},
	"dispatch": func(c *tongban.Case, env *Env) error {
		lead := env.Input.Str("department")
		if env.DeptExists == nil || !env.DeptExists(lead) {
			return tongban.FieldError("department", "主办部门不存在或已停用", "unknown or disabled department")
		}
		var co []string
		for _, d := range env.Input.Strs("co_departments") {
			if d == lead || slices.Contains(co, d) {
				continue
			}
			if !env.DeptExists(d) {
				return tongban.FieldError("co_departments", "协办部门不存在："+d, "unknown co-department: "+d)
			}
			co = append(co, d)
		}
		c.Lead, c.Co, c.Assignee = lead, co, ""
		env.Payload["department"] = lead
		if len(co) > 0 {
			env.Payload["co_departments"] = co
		}
		return nil
	},
	"reply_direct": func(c *tongban.Case, env *Env) error {
		now := env.Now
		c.Reply, c.RepliedAt = env.Input.Str("text"), &now
		env.Payload["text"] = c.Reply
		return nil
	},
	"accept": func(c *tongban.Case, env *Env) error {
		c.Assignee = env.Actor.Login
		// 首办: the first department to accept stays accountable until a
		// transfer is accepted by the next one.
		if c.First == "" || c.Attrs["transferring"] != nil {
			c.First = c.Lead
			delete(c.Attrs, "transferring")
		}
		env.Payload["department"] = c.Lead
		return nil
	},
	"return": func(c *tongban.Case, env *Env) error {
		env.Payload["department"] = c.Lead
		c.Returns++
		c.Lead, c.Co, c.Assignee = "", nil, ""
		env.Reason = env.Input.Str("reason")
		return nil
	},
	"request_extension": func(c *tongban.Case, env *Env) error {
		c.Pending = &tongban.Pending{Kind: "extension", Days: env.Input.Int("working_days"), Reason: env.Input.Str("reason"), By: env.Actor.Login, At: env.Now}
		env.Payload["working_days"] = c.Pending.Days
		env.Reason = c.Pending.Reason
		return nil
	},
	"approve_extension": func(c *tongban.Case, env *Env) error {
		p := c.Pending
		c.Deadline = env.Clock.DeadlineAfterWorkdays(c.Deadline, p.Days).UTC()
		c.ExtensionDays += p.Days
		c.Pending = nil
		env.Payload["working_days"] = p.Days
		env.Payload["deadline"] = c.Deadline
		env.Reason = p.Reason // shown to the citizen
		return nil
	},
	"reject_extension": func(c *tongban.Case, env *Env) error {
		env.Payload["working_days"] = c.Pending.Days
		c.Pending = nil
		env.Reason = env.Input.Str("reason")
		return nil
	},
	"transfer": func(c *tongban.Case, env *Env) error {
		env.Payload["department"] = c.Lead
		c.Transfers++
		if c.Attrs == nil {
			c.Attrs = map[string]json.RawMessage{}
		}
		c.Attrs["transferring"] = json.RawMessage("true")
		c.Lead, c.Co, c.Assignee = "", nil, ""
		env.Reason = env.Input.Str("reason")
		return nil
	},
	"note": func(_ *tongban.Case, env *Env) error {
		env.Payload["text"] = env.Input.Str("text")
		return nil
	},
	"reply": func(c *tongban.Case, env *Env) error {
		text := env.Input.Str("text")
		env.Payload["text"] = text
		if conditions["reply_needs_approval"](c, env) {
			c.DraftReply = text
			return nil
		}
		now := env.Now
		c.Reply, c.DraftReply, c.RepliedAt = text, "", &now
		return nil
	},
	"approve_reply": func(c *tongban.Case, env *Env) error {
		now := env.Now
		c.Reply, c.DraftReply, c.RepliedAt = c.DraftReply, "", &now
		env.Payload["text"] = c.Reply
		return nil
	},
	"reject_reply": func(_ *tongban.Case, env *Env) error {
		env.Reason = env.Input.Str("reason")
		return nil
	},
	// rate is the matter's own rating (一事一评): online by the requester,
	// or taken at a window by a clerk for the applicant. It is also kept
	// with every other rating of the case (rules_rating.go).
	"rate": func(c *tongban.Case, env *Env) error {
		c.Rating, c.RatingComment = env.Input.Int("level"), env.Input.Str("comment")
		env.Payload["level"] = c.Rating
		if c.RatingComment != "" {
			env.Payload["comment"] = c.RatingComment
		}
		channel := tongban.RatingOnline
		if env.Actor != nil {
			channel = tongban.RatingWindow
		}
		addRating(c, env, channel, false)
		return nil
	},
	"reopen": func(c *tongban.Case, env *Env) error {
		c.Reopens++
		env.Payload["previous_rating"] = c.Rating
		c.Rating, c.RatingComment = 0, ""
		// A reopened case gets a fresh handling period.
		if env.Category != nil && env.Clock != nil {
			c.Deadline = env.Clock.DeadlineAfterWorkdays(env.Now, env.Category.LimitDays(c.Type)).UTC()
			env.Payload["deadline"] = c.Deadline
		}
		env.Reason = env.Input.Str("reason")
		return nil
	},
	"close": func(_ *tongban.Case, env *Env) error {
		env.Reason = env.Input.Str("reason")
		return nil
	},
	// supervise (督办) records an order on the case; the engine creates the
	// order (a task case) from this payload in the same transaction.
	"supervise": func(_ *tongban.Case, env *Env) error {
		dept := env.Input.Str("department")
		if env.DeptExists == nil || !env.DeptExists(dept) {
			return tongban.FieldError("department", "承办部门不存在或已停用", "unknown or disabled department")
		}
		days := env.Input.Int("working_days")
		env.Payload["order"] = tongban.NewTrackingCode()
		env.Payload["department"] = dept
		env.Payload["demand"] = env.Input.Str("demand")
		env.Payload["working_days"] = days
		env.Payload["deadline"] = env.Clock.DeadlineAfterWorkdays(env.Now, days).UTC()
		if in := env.Input.Str("instruction"); in != "" {
			env.Payload["instruction"] = in
		}
		env.Reason = env.Input.Str("demand")
		return nil
	},
	// escalate_order (升级督办) gives the department a fresh, final limit.
	"escalate_order": func(c *tongban.Case, env *Env) error {
		days := env.Input.Int("working_days")
		if days == 0 {
			days = 3
		}
		c.Deadline = env.Clock.DeadlineAfterWorkdays(env.Now, days).UTC()
		c.Reply, c.RepliedAt = "", nil
		level := 1
		if v, ok := c.Attrs["level"]; ok {
			_ = json.Unmarshal(v, &level)
		}
		if c.Attrs == nil {
			c.Attrs = map[string]json.RawMessage{}
		}
		c.Attrs["level"], _ = json.Marshal(level + 1)
		env.Payload["working_days"] = days
		env.Payload["deadline"] = c.Deadline
		env.Payload["level"] = level + 1
		env.Reason = env.Input.Str("reason")
		return nil
	},
}
