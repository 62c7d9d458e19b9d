// Package supervise is electronic supervision (电子监察) as pure rules: which
// alarms a case's clocks call for and when, what each event adds to the
// scorecards, how a scorecard is graded and ranked, and how a legacy CSV
// file of cases is read. It does no I/O; the engine applies the rules as
// it writes each case, and the scanner raises what falls due.
package supervise

import (
	"encoding/json"
	"os"
)

// Thresholds say when alarms fall due for a category.
type Thresholds struct {
	// WarnWorkdays: a warning from the start of the last this-many working
	// days of a limit counted in days (default 1: from 00:00 of the
	// deadline's own working day).
	WarnWorkdays int `json:"warn_workdays"`
	// WarnFraction: for a limit counted in office hours, a warning when this
	// fraction of the limit is left (default 0.25).
	WarnFraction float64 `json:"warn_fraction"`
	// RedAfterWorkdays: a red card when the case is still open this many
	// working days after its deadline (0: only when an order runs out).
	RedAfterWorkdays int `json:"red_after_workdays"`
	// OrderWorkdays is the time limit of an order opened on a red card.
	OrderWorkdays int `json:"order_workdays"`
}

// Grading turns a scorecard into a score out of 100 and a grade.
type Grading struct {
	OnTime       float64 `json:"on_time"`
	Satisfaction float64 `json:"satisfaction"`
	Returns      float64 `json:"returns"` // weight of 1 - return rate
	Reopens      float64 `json:"reopens"` // weight of 1 - reopen rate
	// Each finding takes FindingPenalty points off; each red card RedPenalty.
	FindingPenalty float64 `json:"finding_penalty"`
	RedPenalty     float64 `json:"red_penalty"`
	Excellent      float64 `json:"excellent"` // 优秀 at or above
	Good           float64 `json:"good"`      // 良好
	Pass           float64 `json:"pass"`      // 合格; below: 不合格
}

// Config is the supervision office's configuration.
type Config struct {
	Default    Thresholds            `json:"default"`
	Categories map[string]Thresholds `json:"categories,omitempty"`
	// WatchSteps raises step-scope alarms on steps with a limit of their own.
	WatchSteps bool `json:"watch_steps"`
	// MaxReturns: a request returned more than this many times is flagged
	// to the centre for a ruling (0 disables).
	MaxReturns int `json:"max_returns"`
	// FlagNoReason flags a refusal or return that gives no reason.
	FlagNoReason bool `json:"flag_no_reason"`
	// FlagReopen flags a reopening after an unsatisfied rating.
	FlagReopen bool `json:"flag_reopen"`
	// CallbackWorkdays: an unsatisfied rating not rectified and called
	// back within this many working days is flagged (0 disables).
	CallbackWorkdays int `json:"callback_workdays"`
	// RectifyWorkdays: a 差评 is to be rectified by the rated department
	// within this many working days of the rating; a flag is raised when
	// it is not (0: no limit).
	RectifyWorkdays int `json:"rectify_workdays"`
	// BackdateWorkdays: an application received, or acted on, more than
	// this many working days before it was entered in the system is
	// flagged as handled outside it (0 disables).
	BackdateWorkdays int `json:"backdate_workdays"`
	// RepeatComplaints: this many valid complaints against one department
	// or person in a period flags them (屡被有效投诉).
	RepeatComplaints int `json:"repeat_complaints"`
	// MinCases leaves departments with fewer cases received out of rankings.
	MinCases int     `json:"min_cases"`
	Grading  Grading `json:"grading"`
}

// Default returns the default configuration.
func Default() *Config {
	return &Config{
		Default:          Thresholds{WarnWorkdays: 1, WarnFraction: 0.25, RedAfterWorkdays: 3, OrderWorkdays: 3},
		WatchSteps:       true,
		MaxReturns:       2,
		FlagNoReason:     true,
		FlagReopen:       true,
		CallbackWorkdays: 5,
		RectifyWorkdays:  5,
		BackdateWorkdays: 1,
		RepeatComplaints: 3,
		MinCases:         10,
		Grading: Grading{OnTime: 0.5, Satisfaction: 0.3, Returns: 0.1, Reopens: 0.1,
			FindingPenalty: 2, RedPenalty: 1, Excellent: 90, Good: 80, Pass: 60},
	}
}

// For returns the thresholds of a category.
func (c *Config) For(category string) Thresholds {
	if t, ok := c.Categories[category]; ok {
		return t
	}
	return c.Default
}

// Load reads a configuration from a JSON file over the defaults.
func Load(path string) (*Config, error) {
	cfg := Default()
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}
