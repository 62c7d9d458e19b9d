package workflow

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tongban/tongban"
)

// The life of ratings (好差评, Guobanfa [2019] No. 51) is the same for
// every kind of case, so its guards and effects are shared: "rate" (one
// online rating per matter) and "rate_visit" (one per window visit) add a
// rating; a 差评 (level 1–2) is then verified by the supervision office or
// the rated department's head, called back by the supervision office,
// rectified by the rated department within its limit — or appealed by that
// department and the appeal decided by the supervision office; an upheld
// appeal removes the rating from every aggregate. Each step names the 差评
// by its number ("item"), or takes the first it applies to.

// ratedDept is the department a rating rates: the one responsible for the
// case (its lead, or the first department), else the command centre.
func ratedDept(c *tongban.Case, env *Env) string {
	switch {
	case c.Lead != "":
		return c.Lead
	case c.First != "":
		return c.First
	}
	return env.Centre
}

// addRating records a rating given now through channel.
func addRating(c *tongban.Case, env *Env, channel string, visit bool) tongban.RatingItem {
	items := tongban.CaseRatings(c)
	by := "public"
	if env.Actor != nil {
		by = env.Actor.Login
	}
	it := tongban.RatingItem{No: len(items) + 1, Channel: channel, Visit: visit, Level: env.Input.Int("level"), Comment: env.Input.Str("comment"),
		By: by, At: env.Now, Dept: ratedDept(c, env)}
	env.Payload["item"] = it.No
	if tongban.IsBad(it.Level) {
		it.Bad = &tongban.BadRating{}
		if env.RectifyWorkdays > 0 && env.Clock != nil {
			it.Bad.Deadline = env.Clock.DeadlineAfterWorkdays(env.Now, env.RectifyWorkdays).UTC()
			env.Payload["rectify_deadline"] = it.Bad.Deadline
		}
	}
	tongban.SetCaseRatings(c, append(items, it))
	return it
}

// Who may take each step of a 差评, and when.
var badSteps = map[string]func(it *tongban.RatingItem, u *tongban.User) bool{
	// The supervision office, or the rated department's head; once.
	"verify": func(it *tongban.RatingItem, u *tongban.User) bool {
		return !it.Bad.Removed && it.Bad.Verdict == "" &&
			(u.Has(tongban.RoleSupervisor) || u.Has(tongban.RoleHead) && u.Dept == it.Dept)
	},
	// The supervision office calls the rater back while the 差评 is open.
	"callback": func(it *tongban.RatingItem, u *tongban.User) bool {
		return it.Bad.Open() && u.Has(tongban.RoleSupervisor)
	},
	// The rated department rectifies, unless an appeal is pending.
	"rectify": func(it *tongban.RatingItem, u *tongban.User) bool {
		return it.Bad.AwaitsRectification() && u.HasAny(tongban.RoleHandler, tongban.RoleHead) && u.Dept == it.Dept
	},
	// …or appeals, once, before rectifying.
	"appeal": func(it *tongban.RatingItem, u *tongban.User) bool {
		b := it.Bad
		return !b.Removed && b.Rectified == nil && b.Appeal == nil && u.HasAny(tongban.RoleHandler, tongban.RoleHead) && u.Dept == it.Dept
	},
	// The supervision office decides the appeal.
	"decide": func(it *tongban.RatingItem, u *tongban.User) bool {
		return it.Bad.Appeal.Pending() && u.Has(tongban.RoleSupervisor)
	},
}

// badStepDue reports whether the actor may take step on some 差评 of c.
func badStepDue(step string) func(c *tongban.Case, env *Env) bool {
	return func(c *tongban.Case, env *Env) bool {
		u := env.Actor
		if u == nil || u.Disabled {
			return false
		}
		items := tongban.CaseRatings(c)
		return slices.ContainsFunc(items, func(it tongban.RatingItem) bool { return it.Bad != nil && badSteps[step](&it, u) })
	}
}

// badItem picks the 差评 a step is about: the one the "item" field
// numbers, or the first the step applies to.
func badItem(c *tongban.Case, env *Env, step string) ([]tongban.RatingItem, *tongban.RatingItem, error) {
	items := tongban.CaseRatings(c)
	ok := badSteps[step]
	if n := env.Input.Int("item"); n > 0 {
		if n > len(items) || items[n-1].Bad == nil {
			return nil, nil, tongban.FieldError("item", fmt.Sprintf("第%d条评价不是差评", n), fmt.Sprintf("rating %d is not a bad rating", n))
		}
		if !ok(&items[n-1], env.Actor) {
			return nil, nil, tongban.Errorf(tongban.EConflict, fmt.Sprintf("第%d条差评当前不能进行此操作", n), fmt.Sprintf("this step cannot be taken on bad rating %d now", n))
		}
		return items, &items[n-1], nil
	}
	for i := range items {
		if items[i].Bad != nil && ok(&items[i], env.Actor) {
			return items, &items[i], nil
		}
	}
	return nil, nil, tongban.Errorf(tongban.EConflict, "没有可进行此操作的差评", "no bad rating this step applies to")
}

func init() {
	for k, f := range map[string]func(c *tongban.Case, env *Env) bool{
		// A visit is rated where visits are made: for applications, and
		// for requests filed at a window or a street service point.
		"visit_ratable": func(c *tongban.Case, _ *Env) bool {
			return c.Kind == tongban.KindApplication || c.Channel == tongban.ChannelWindow || c.Channel == tongban.ChannelStreet
		},
		"bad_rating_to_verify":   badStepDue("verify"),
		"bad_rating_to_callback": badStepDue("callback"),
		"bad_rating_to_rectify":  badStepDue("rectify"),
		"bad_rating_to_appeal":   badStepDue("appeal"),
		"bad_rating_appealed":    badStepDue("decide"),
	} {
		conditions[k] = f
	}
	for k, f := range map[string]func(c *tongban.Case, env *Env) error{
		"rate_visit":      rateVisit,
		"verify_rating":   verifyRating,
		"callback_rating": callbackRating,
		"rectify_rating":  rectifyRating,
		"appeal_rating":   appealRating,
		"decide_appeal":   decideAppeal,
		"app_charge_fee":  appChargeFee,
	} {
		effects[k] = f
	}
}

// rateVisit records the rating of one visit to a window (一次一评); it
// leaves the case's own (online) rating alone.
func rateVisit(c *tongban.Case, env *Env) error {
	it := addRating(c, env, tongban.RatingWindow, true)
	env.Payload["level"], env.Payload["channel"], env.Payload["department"] = it.Level, it.Channel, it.Dept
	if it.Comment != "" {
		env.Payload["comment"] = it.Comment
	}
	return nil
}

func verifyRating(c *tongban.Case, env *Env) error {
	items, it, err := badItem(c, env, "verify")
	if err != nil {
		return err
	}
	now := env.Now
	it.Bad.Verdict, it.Bad.VerifiedBy, it.Bad.VerifiedAt = env.Input.Str("verdict"), env.Actor.Login, &now
	tongban.SetCaseRatings(c, items)
	env.Payload["item"], env.Payload["verdict"] = it.No, it.Bad.Verdict
	env.Reason = env.Input.Str("text")
	return nil
}

func callbackRating(c *tongban.Case, env *Env) error {
	items, it, err := badItem(c, env, "callback")
	if err != nil {
		return err
	}
	text := env.Input.Str("text")
	it.Bad.Callbacks = append(it.Bad.Callbacks, tongban.Step{By: env.Actor.Login, At: env.Now, Text: text})
	tongban.SetCaseRatings(c, items)
	env.Payload["item"], env.Payload["text"] = it.No, text
	return nil
}

func rectifyRating(c *tongban.Case, env *Env) error {
	items, it, err := badItem(c, env, "rectify")
	if err != nil {
		return err
	}
	text := env.Input.Str("text")
	it.Bad.Rectified = &tongban.Step{By: env.Actor.Login, At: env.Now, Text: text}
	tongban.SetCaseRatings(c, items)
	env.Payload["item"], env.Payload["text"], env.Payload["on_time"] = it.No, text, it.Bad.OnTime()
	return nil
}

func appealRating(c *tongban.Case, env *Env) error {
	items, it, err := badItem(c, env, "appeal")
	if err != nil {
		return err
	}
	it.Bad.Appeal = &tongban.Appeal{By: env.Actor.Login, At: env.Now, Reason: env.Input.Str("reason")}
	tongban.SetCaseRatings(c, items)
	env.Payload["item"] = it.No
	env.Reason = it.Bad.Appeal.Reason
	return nil
}

// decideAppeal: upheld, the rating is removed from the aggregates (the
// payload says which rating, so the scorecards take it off the day it was
// given); rejected, the department has its full limit again from now if
// that is later than the deadline it had.
func decideAppeal(c *tongban.Case, env *Env) error {
	items, it, err := badItem(c, env, "decide")
	if err != nil {
		return err
	}
	uphold, _ := env.Input["uphold"].(bool)
	now := env.Now
	a := it.Bad.Appeal
	a.DecidedBy, a.DecidedAt, a.Upheld, a.Decision = env.Actor.Login, &now, uphold, env.Input.Str("reason")
	env.Payload["item"], env.Payload["upheld"] = it.No, uphold
	if uphold {
		it.Bad.Removed = true
		env.Payload["level"], env.Payload["rated_at"], env.Payload["department"], env.Payload["visit"] = it.Level, it.At, it.Dept, it.Visit
	} else if env.RectifyWorkdays > 0 && env.Clock != nil && !it.Bad.Deadline.IsZero() {
		if d := env.Clock.DeadlineAfterWorkdays(now, env.RectifyWorkdays).UTC(); d.After(it.Bad.Deadline) {
			it.Bad.Deadline = d
			env.Payload["rectify_deadline"] = d
		}
	}
	tongban.SetCaseRatings(c, items)
	env.Reason = a.Decision
	return nil
}

// appChargeFee records a fee charged on an application and compares it
// with the catalogue version the application was filed under: a fee on a
// free matter, an item the catalogue does not list, or more than its
// amount is flagged for the supervision office.
func appChargeFee(c *tongban.Case, env *Env) error {
	item := env.Input.Str("fee")
	fen, ok := tongban.ParseFen(env.Input.Str("amount"))
	if !ok {
		return tongban.FieldError("amount", "金额须为元，最多两位小数，如 50.00", "amount must be yuan with at most two decimals, e.g. 50.00")
	}
	if env.Matter == nil {
		return tongban.Errorf(tongban.EInternal, "无法读取事项目录", "no catalogue to compare with")
	}
	m, err := env.Matter()
	if err != nil {
		return err
	}
	ch := tongban.Charge{Item: item, Amount: tongban.FormatFen(fen), By: env.Actor.Login, At: env.Now}
	var detail string
	if m.Free {
		ch.Flag = tongban.FlagFeeOnFreeMatter
		detail = fmt.Sprintf("免费事项收取“%s”%s元", item, ch.Amount)
	} else {
		i := slices.IndexFunc(m.Fees, func(f tongban.Fee) bool { return strings.EqualFold(strings.TrimSpace(f.Name), item) })
		switch {
		case i < 0:
			ch.Flag = tongban.FlagFeeNotInCatalogue
			detail = fmt.Sprintf("收费项目“%s”（%s元）不在事项目录（第%d版）内", item, ch.Amount, m.Version)
		default:
			cat, _ := tongban.ParseFen(m.Fees[i].Amount)
			ch.Catalogued = tongban.FormatFen(cat)
			if fen > cat {
				ch.Flag = tongban.FlagFeeOverAmount
				detail = fmt.Sprintf("“%s”收取%s元，超过目录标准%s元", item, ch.Amount, ch.Catalogued)
			}
		}
	}
	var fees []tongban.Charge
	GetAttr(c, tongban.AttrFees, &fees)
	SetAttr(c, tongban.AttrFees, append(fees, ch))
	env.Payload["fee"], env.Payload["amount"] = item, ch.Amount
	if ch.Catalogued != "" {
		env.Payload["catalogued"] = ch.Catalogued
	}
	if ch.Flag != "" {
		tongban.AddFlag(c, tongban.Flag{Kind: ch.Flag, At: env.Now, Action: "charge_fee", By: env.Actor.Login, Detail: detail})
		env.Payload["flag"] = ch.Flag
	}
	return nil
}
