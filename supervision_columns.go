package tongban

import (
	"encoding/json"
	"strconv"
)

// The stores keep a case's raised alarms as JSON text and scorecard
// counters as one column per counter; both stores share these helpers so
// their encodings cannot drift apart (dumps compare them byte for byte).

// SupervisionText is the stored form of a case's supervision state: ""
// when there is nothing to keep.
func SupervisionText(s *Supervision) string {
	if s.Empty() {
		return ""
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// ParseSupervision reads the stored form back; "" or garbage is nil.
func ParseSupervision(s string) *Supervision {
	if s == "" {
		return nil
	}
	var v Supervision
	if json.Unmarshal([]byte(s), &v) != nil {
		return nil
	}
	return &v
}

// ScoreColumns are the scorecard tables' counter columns, in the order of
// ScoreCounts.Values and ScoreCounts.Dests.
var ScoreColumns = func() []string {
	cols := []string{"received", "closed", "closed_on_time", "handling_secs"}
	for i := range HandlingBuckets {
		cols = append(cols, "h"+strconv.Itoa(i))
	}
	for i := 1; i <= 5; i++ {
		cols = append(cols, "r"+strconv.Itoa(i))
	}
	return append(cols, "returns", "reopens", "alarm_warning", "alarm_yellow", "alarm_red", "alarm_flag", "orders", "findings", "valid_complaints")
}()

// Values lists the counters in ScoreColumns order, for inserts.
func (s *ScoreCounts) Values() []any {
	v := []any{s.Received, s.Closed, s.ClosedOnTime, s.HandlingSecs}
	for _, h := range s.Hist {
		v = append(v, h)
	}
	for _, r := range s.Ratings {
		v = append(v, r)
	}
	return append(v, s.Returns, s.Reopens, s.AlarmWarning, s.AlarmYellow, s.AlarmRed, s.AlarmFlag, s.Orders, s.Findings, s.ValidComplaints)
}

// Dests lists pointers to the counters in ScoreColumns order, for scans.
func (s *ScoreCounts) Dests() []any {
	v := []any{&s.Received, &s.Closed, &s.ClosedOnTime, &s.HandlingSecs}
	for i := range s.Hist {
		v = append(v, &s.Hist[i])
	}
	for i := range s.Ratings {
		v = append(v, &s.Ratings[i])
	}
	return append(v, &s.Returns, &s.Reopens, &s.AlarmWarning, &s.AlarmYellow, &s.AlarmRed, &s.AlarmFlag, &s.Orders, &s.Findings, &s.ValidComplaints)
}
